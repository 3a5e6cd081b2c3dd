"""Read every stream of source-hubspot with PyAirbyte into its default local DuckDB cache, and print row counts.

Run it with the Python of the PyAirbyte virtualenv (`make pyairbyte`), against the sandbox (`make sandbox`):

    .venv-pyairbyte/bin/python examples/pyairbyte_read.py --url http://127.0.0.1:8765

PyAirbyte does not install the connector: it runs the `source-hubspot` executable that `make install` put in
.venv/bin (`--executable` picks another). The cache is `.cache/default_cache/default_cache.duckdb` under the current
directory, or under $AIRBYTE_CACHE_ROOT. Streams are read incrementally where they support it; the state is kept in
the cache, so a second run reads only what changed (`--full-refresh` reads everything again).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EXECUTABLE = REPO / ".venv" / "bin" / "source-hubspot"
SANDBOX_TOKEN = "sandbox-private-app-token"
SANDBOX_START_DATE = "2021-06-01T00:00:00Z"


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="HubSpot API root: the sandbox's URL, e.g. http://127.0.0.1:8765")
    parser.add_argument(
        "--config",
        type=Path,
        help="a JSON file of connector config (credentials, start_date, window_days, ...); its keys replace the "
        "defaults: the sandbox's private-app token and start_date " + SANDBOX_START_DATE,
    )
    parser.add_argument("--executable", type=Path, default=DEFAULT_EXECUTABLE, help="the source-hubspot command to run")
    parser.add_argument("--full-refresh", action="store_true", help="read every record again, ignoring saved state")
    return parser.parse_args(argv)


def connector_config(url: str, config_file: Optional[Path]) -> Dict[str, Any]:
    config: Dict[str, Any] = {
        "credentials": {"credentials_title": "Private App Credentials", "access_token": SANDBOX_TOKEN},
        "start_date": SANDBOX_START_DATE,
    }
    if config_file is not None:
        config.update(json.loads(config_file.read_text()))
    config["api_base_url"] = url.rstrip("/")
    return config


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not args.executable.exists():
        print(f"{args.executable} does not exist: run `make install` first, or pass --executable.", file=sys.stderr)
        return 2

    # PyAirbyte reads these when it is imported. This example needs nothing from the network but the HubSpot API the
    # connector calls: no usage telemetry, and no lookup of the connector in Airbyte's registry (the executable is
    # given). From the environment, AIRBYTE_OFFLINE_MODE=0 allows the registry lookup again; telemetry also needs
    # DO_NOT_TRACK set to an empty string (PyAirbyte treats any other value, "0" too, as "do not track").
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
    import airbyte as ab  # a few seconds: PyAirbyte imports its database drivers

    source = ab.get_source(
        "source-hubspot",
        config=connector_config(args.url, args.config),
        local_executable=args.executable,
    )
    source.select_all_streams()
    cache = ab.get_default_cache()
    result = source.read(cache=cache, force_full_refresh=args.full_refresh)

    # Row counts of the cache's tables (a stream that returned no records has no table).
    streams = result.streams
    counts = {name: len(streams[name]) if name in streams else 0 for name in source.get_selected_streams()}
    width = max(len(name) for name in counts)
    print(f"{'stream':<{width}}  rows")
    for name in sorted(counts):
        print(f"{name:<{width}}  {counts[name]}")
    print(f"{'total':<{width}}  {sum(counts.values())}")
    print(f"cache: {cache.db_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
