"""The caster alone on wide records: its C loop (source_hubspot/_casts.c, with the plan it keeps), which the
connector uses where it is built, against its Python loop, which it uses elsewhere.

Reads 1,000 contacts with 300 custom properties from the sandbox (every property, as the list reader asks), then
casts fresh copies of them by each way in turn, round after round (this machine's speed drifts, so the ways are
interleaved and compared round by round). Prints microseconds per record and the ratio to the Python loop, and
checks that both give the same records.

    python benchmarks/caster.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import orjson
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from testkit.harness import PRIVATE_APP_TOKEN, Sandbox  # noqa: E402
from source_hubspot.components import casting as components  # noqa: E402
from source_hubspot.components.casting import HubspotRecordCaster  # noqa: E402
from source_hubspot.components.schema import build_object_schema  # noqa: E402

PAGES = 10


def wide_pages(url: str) -> List[bytes]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {PRIVATE_APP_TOKEN}"
    names = [p["name"] for p in session.get(f"{url}/crm/v3/properties/contacts").json()["results"]]
    pages, after = [], None
    for _ in range(PAGES):
        params: Dict[str, Any] = {"limit": 100, "properties": ",".join(names)}
        if after:
            params["after"] = after
        response = session.get(f"{url}/crm/v3/objects/contacts", params=params)
        response.raise_for_status()
        pages.append(response.content)
        after = (response.json().get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with Sandbox("--seed", "7", "--contacts", "1000", "--custom-properties", "300", "--search-rate", "0") as sandbox:
        pages = wide_pages(sandbox.url)
        definitions = requests.get(
            f"{sandbox.url}/crm/v3/properties/contacts", headers={"Authorization": f"Bearer {PRIVATE_APP_TOKEN}"}
        ).json()["results"]
    schema = build_object_schema(definitions, ["companies", "deals", "tickets"])
    casts = HubspotRecordCaster()._casters_for(schema)
    table = casts.table

    def fresh() -> List[Dict[str, Any]]:
        return [record for page in pages for record in orjson.loads(page)["results"]]

    failed: Dict[str, List[Any]] = {"loop": [], "C": []}  # the names of values that could not be cast, per way

    def by_loop(record: Dict[str, Any]) -> None:
        names: List[Any] = []
        HubspotRecordCaster._cast_loop(record, record["properties"], table, names)
        if names:
            failed["loop"].extend(names)

    def by_c(record: Dict[str, Any]) -> None:
        names: List[Any] = []
        casts.cast_natively(record, record["properties"], names)  # as the caster calls it
        if names:
            failed["C"].extend(names)

    if components._native_cast_properties is None:
        sys.exit("source_hubspot._casts is not built here (no C compiler?): there is no C loop to time")
    ways = [("loop", by_loop), ("C", by_c)]
    timings: Dict[str, List[float]] = {name: [] for name, _ in ways}
    results: Dict[str, List[Dict[str, Any]]] = {}
    for _ in range(args.rounds):
        for name, cast in ways:
            records = fresh()
            started = time.perf_counter()
            for record in records:
                cast(record)
            timings[name].append(1e6 * (time.perf_counter() - started) / len(records))
            results[name] = records
    same = all(results[name] == results["loop"] for name in results) and failed["C"] == failed["loop"]
    count = len(results["loop"])
    width = len(results["loop"][0]["properties"])
    print(f"caster on {count} wide contacts ({width} properties), {args.rounds} interleaved rounds")
    for name, values in timings.items():
        ratios = [t / loop for t, loop in zip(values, timings["loop"])]
        print(f"  {name:9s} median {statistics.median(values):6.1f} us/record, best {min(values):6.1f}; "
              f"against the loop, median of rounds: {statistics.median(ratios):.2f}")
    print(f"  same records both ways: {same}; values not castable: {len(failed['loop']) // args.rounds} a round")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
