"""`make bench`: the connector against the sandbox on fixed workloads, as ratios to a floor measured in the same run.

1. rate-limited: HubSpot Professional limits (190 calls / 10 s, search 5 / s), 50-150 ms latency. Wall time against
   the floor that both budgets allow (see `floor_seconds`), calls per 1,000 records against the page-size minimum
   of the connector's own plan (see `minimum_calls`), 429s.
2. unthrottled: no limits, no latency. Records/s and CPU ms per record beside a minimal fetcher (requests + orjson
   over the same pages, RECORD lines to /dev/null), on the same mix of objects (a quarter of it at full size, to
   keep the run under 10 minutes) and on a wide variant (300 custom contact properties), whose steady-state CPU
   per record is also taken against a read of a quarter as many records (the median of five such pairs, read back
   to back: this machine's speed drifts). The fetcher reads one search page after
   another; the connector reads first syncs by list and search at once, so it can be the faster of the two.
3. memory: peak RSS of a contacts read at 10,000 and at 100,000 contacts.
4. analyst tables: rows and API calls per table (from the connector's sync report), calls per 1,000 rows.

    python benchmarks/bench.py [--size small|full] [--only rate,unthrottled,memory] [--out FILE]

Prints a table and writes JSON (default benchmarks/results/latest.json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from testkit.harness import ANALYST_STREAMS, Sandbox, configured_catalog, source_command  # noqa: E402

# What each stream reads: (object types, association types per record) as the manifest declares them.
STREAMS = {
    "contacts": (["contacts"], 3),
    "companies": (["companies"], 2),
    "deals": (["deals"], 2),
    "tickets": (["tickets"], 3),
    "engagements": (["calls", "emails", "meetings", "notes", "tasks"], 4),
}
SIZES = {
    # object type -> records; activities split evenly over the five types.
    "full": {"contacts": 100_000, "companies": 20_000, "deals": 20_000, "tickets": 20_000, "activities": 50_000},
    "small": {"contacts": 10_000, "companies": 2_000, "deals": 2_000, "tickets": 2_000, "activities": 5_000},
}
# Unthrottled runs read a quarter of the rate-limited mix (same proportions) so the default run stays under 10 min.
UNTHROTTLED_SHARE = {"full": 0.25, "small": 1.0}
WIDE_CONTACTS = {"full": 20_000, "small": 5_000}
STEADY_PAIRS = 5
MEMORY_CONTACTS = {"full": (10_000, 100_000), "small": (2_000, 20_000)}
PROFESSIONAL = {"general_per_10_s": 190, "search_per_s": 5}
SEARCH_PAGE, LIST_PAGE, ASSOCIATION_BATCH = 200, 100, 1000
# The connector's log line at the end of an object's first sync (source_hubspot/first_sync.py).
FIRST_SYNC_SPLIT = re.compile(r": (\w+) read: (\d+) records by list \(\d+ calls\), (\d+) by search")


# ---------------------------------------------------------------------------------------------------------------- floors
def object_counts(sizes: Dict[str, int]) -> Dict[str, int]:
    counts = {t: sizes[t] for t in ("contacts", "companies", "deals", "tickets")}
    for kind in STREAMS["engagements"][0]:
        counts[kind] = sizes["activities"] // 5
    return counts


def floor_seconds(records: Dict[str, int], general_per_s: float, search_per_s: float) -> Tuple[float, Dict[str, float]]:
    """The shortest full read HubSpot's two budgets allow (DESIGN.md section 3): every record is read either by a list
    GET (100 per page, associations inline: 1/100 general call) or by search (200 per page: 1/200 search call, plus
    one association batch read per 1,000 ids and association type: k/1000 general calls). Both buckets drain at
    once; records whose associations cost least go to search first (the LP's optimum). One properties call per type."""
    fixed_general = len(records)
    per_type = [(k, n) for stream, (types, k) in STREAMS.items() for t, n in records.items() if t in types]
    per_type.sort()

    def feasible(seconds: float) -> bool:
        search_left = search_per_s * seconds * SEARCH_PAGE  # records search can read in time
        general = fixed_general
        for k, n in per_type:
            by_search = min(n, search_left)
            search_left -= by_search
            general += by_search * k / ASSOCIATION_BATCH + (n - by_search) / LIST_PAGE
        return general <= general_per_s * seconds

    low, high = 0.0, 10_000.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (low, mid) if feasible(mid) else (mid, high)
    total = sum(records.values())
    search_only = max(total / SEARCH_PAGE / search_per_s,
                      (fixed_general + sum(n * k / ASSOCIATION_BATCH for k, n in per_type)) / general_per_s)
    return high, {"search_only_floor_s": search_only}


def minimum_calls(records: Dict[str, int], by_list: Dict[str, int]) -> int:
    """Calls the connector's plan needs at the largest pages HubSpot allows, for the share of each object type its
    list reader read (`by_list`, from the connector's log): one list page per 100 of those (associations inline),
    one search page per 200 of the others and one association batch per 1,000 of them and type, one properties
    call per type."""
    calls = 0
    for stream, (types, k) in STREAMS.items():
        for t in types:
            n = records.get(t, 0)
            listed = min(by_list.get(t, 0), n)
            searched = n - listed
            calls += 1 + -(-listed // LIST_PAGE) + -(-searched // SEARCH_PAGE) + k * -(-searched // ASSOCIATION_BATCH)
    return calls


# ---------------------------------------------------------------------------------------------------------------- runs
def run_read(sandbox: Sandbox, streams: List[str], config_extra: Dict[str, Any]) -> Dict[str, Any]:
    """One `source-hubspot read` in a subprocess: wall, CPU and peak RSS from wait4, records counted per stream."""
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    config = sandbox.private_app_config(**config_extra)
    for key, value in list(config.items()):
        if value is None:
            config.pop(key)
    (work / "config.json").write_text(json.dumps(config))
    (work / "catalog.json").write_text(json.dumps(configured_catalog(streams)))
    args = [*source_command(), "read", "--config", str(work / "config.json"), "--catalog", str(work / "catalog.json")]
    counts: Dict[str, int] = {}
    errors: List[str] = []
    reports: Dict[str, Any] = {}
    progress_at: List[float] = []
    by_list: Dict[str, int] = {}
    started = time.monotonic()
    with open(work / "stderr", "w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=str(REPO), bufsize=1 << 20)
        for line in proc.stdout:
            if line.startswith(b'{"type":"RECORD"'):
                stream = line[37:120].split(b'"', 1)[0].decode()  # after {"type":"RECORD","record":{"stream":"
                counts[stream] = counts.get(stream, 0) + 1
            elif b'"ERROR"' in line[:200] and b'"TRACE"' in line[:30]:
                errors.append(json.loads(line)["trace"]["error"]["message"][:300])
            elif b"sync report " in line and line.startswith(b'{"type":"LOG"'):
                text = json.loads(line)["log"]["message"]
                report = re.search(r"sync report (\S+): (\w+), ([\d,]+) records.*?([\d,]+) API calls?\b", text)
                if report:
                    reports[report.group(1)] = {"status": report.group(2), "records": int(report.group(3).replace(",", "")),
                                                "calls": int(report.group(4).replace(",", ""))}
            elif line.startswith(b'{"type":"LOG"') and b'"message":"progress ' in line:
                progress_at.append(time.monotonic())
            elif line.startswith(b'{"type":"LOG"') and b" records by list (" in line:
                split = FIRST_SYNC_SPLIT.search(json.loads(line)["log"]["message"])
                if split:
                    by_list[split.group(1)] = int(split.group(2))
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    return {
        "exit_code": os.waitstatus_to_exitcode(status), "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
        "records": counts, "errors": errors, "reports": reports, "read_by_list": by_list,
        # Live progress: the longest silence between two progress lines (the first one comes after one interval).
        "progress_lines": len(progress_at),
        "progress_max_gap_s": max((b - a for a, b in zip([started, *progress_at], progress_at)), default=None),
        "report_counts_equal_emitted": all(reports.get(k, {}).get("records") == v for k, v in counts.items()) and bool(reports),
    }


def fetcher_read(url: str, object_types: List[Tuple[str, int]]) -> Dict[str, Any]:
    """The local ceiling: the same search pages and association batch reads with bare requests + orjson, each
    result written as a RECORD line to /dev/null. Measured in a subprocess so its CPU is its own."""
    code = f"""
import orjson, requests, sys, time
url, plan = {url!r}, {object_types!r}
assoc = {{"contacts": ["companies", "deals", "tickets"], "companies": ["contacts", "deals"], "deals": ["contacts", "companies"],
          "tickets": ["contacts", "companies", "deals"]}}
session = requests.Session(); session.headers["Authorization"] = "Bearer sandbox-private-app-token"
out = open("/dev/null", "wb"); n = 0
for otype, _ in plan:
    props = [p["name"] for p in session.get(f"{{url}}/crm/v3/properties/{{otype}}").json()["results"]]
    after = "0"
    while True:
        body = {{"filterGroups": [{{"filters": [{{"propertyName": "hs_object_id", "operator": "GT", "value": after}}]}}],
                "sorts": [{{"propertyName": "hs_object_id", "direction": "ASCENDING"}}], "properties": props, "limit": 200}}
        page = orjson.loads(session.post(f"{{url}}/crm/v3/objects/{{otype}}/search", data=orjson.dumps(body),
                                          headers={{"Content-Type": "application/json"}}).content)
        results = page["results"]
        ids = [{{"id": r["id"]}} for r in results]
        links = {{}}
        for to in assoc.get(otype, ["contacts", "companies", "deals", "tickets"]):
            if ids:
                got = orjson.loads(session.post(f"{{url}}/crm/v4/associations/{{otype}}/{{to}}/batch/read",
                                                data=orjson.dumps({{"inputs": ids}}), headers={{"Content-Type": "application/json"}}).content)
                for res in got.get("results", []):
                    links.setdefault((res["from"]["id"], to), [t["toObjectId"] for t in res.get("to", [])])
        now = int(time.time() * 1000)
        for r in results:
            for to in assoc.get(otype, ()):
                r[to] = links.get((r["id"], to), [])
            out.write(orjson.dumps({{"type": "RECORD", "record": {{"stream": otype, "data": r, "emitted_at": now}}}}) + b"\\n")
            n += 1
        if not results or not (page.get("paging") or {{}}).get("next"):
            break
        after = results[-1]["id"]
print(n)
"""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=str(REPO))
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return {"wall_s": time.monotonic() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
            "records": int(out.strip() or 0), "exit_code": os.waitstatus_to_exitcode(status)}


def sandbox_args(records: Dict[str, int], *extra: str) -> List[str]:
    args = ["--seed", "7"]
    for name in ("contacts", "companies", "deals", "tickets", "calls", "emails", "meetings", "notes", "tasks"):
        args += [f"--{name}", str(records.get(name, 0))]
    return [*args, *extra]


def expected_counts(sandbox: Sandbox, streams: List[str]) -> Dict[str, int]:
    return {s: sum(len(sandbox.ids(t)) for t in STREAMS[s][0]) for s in streams}


# ---------------------------------------------------------------------------------------------------------------- workloads
def rate_limited(size: str) -> Dict[str, Any]:
    records = object_counts(SIZES[size])
    streams = list(STREAMS)
    with Sandbox(*sandbox_args(records, "--general-rate", str(PROFESSIONAL["general_per_10_s"]),
                               "--search-rate", str(PROFESSIONAL["search_per_s"]), "--latency-ms", "100")) as sandbox:
        expected = expected_counts(sandbox, streams)
        # No calls_per_10_seconds: the connector starts at 100 and follows HubSpot's X-HubSpot-RateLimit-Max.
        run = run_read(sandbox, streams, {"calls_per_10_seconds": None, "retry_backoff_factor": None})
        stats = sandbox.stats()
    emitted = sum(run["records"].values())
    read = {t: n for t, n in records.items()}
    floor, extra = floor_seconds(read, PROFESSIONAL["general_per_10_s"] / 10, PROFESSIONAL["search_per_s"])
    total_calls = stats["total"]
    minimum = minimum_calls(read, run["read_by_list"])
    return {
        "records_expected": sum(expected.values()), "records_emitted": emitted, "complete": run["records"] == expected,
        "records_by_stream": run["records"], "expected_by_stream": expected,
        "exit_code": run["exit_code"], "errors": run["errors"], "wall_s": run["wall_s"], "floor_s": floor,
        "wall_over_floor": run["wall_s"] / floor, **extra,
        "wall_over_search_only_floor": run["wall_s"] / extra["search_only_floor_s"],
        "calls": total_calls, "calls_per_1000_records": 1000 * total_calls / max(emitted, 1),
        "minimum_calls": minimum, "calls_over_minimum": total_calls / minimum, "read_by_list": run["read_by_list"],
        "rate_limited_429": stats["status_counts"].get("429", 0),
        "rate_limited_share": stats["status_counts"].get("429", 0) / max(total_calls, 1),
        "calls_by_endpoint": stats["requests"],
        "progress_lines": run["progress_lines"], "progress_max_gap_s": run["progress_max_gap_s"],
        "report_counts_equal_emitted": run["report_counts_equal_emitted"],
    }


def unthrottled(size: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    narrow = object_counts({k: int(v * UNTHROTTLED_SHARE[size]) for k, v in SIZES[size].items()})
    variants = [("narrow", narrow, list(STREAMS), []),
                ("wide", {"contacts": WIDE_CONTACTS[size]}, ["contacts"], ["--custom-properties", "300"])]
    for name, records, streams, extra in variants:
        steady, steady_pairs = None, []
        with Sandbox(*sandbox_args(records, "--search-rate", "0", *extra)) as sandbox:
            expected = expected_counts(sandbox, streams)
            run = run_read(sandbox, streams, {"num_workers": 4})
            plan = [(t, n) for s in streams for t in STREAMS[s][0] for _ in [0] if (n := records.get(t, 0))]
            fetch = fetcher_read(sandbox.url, plan)
            if name == "wide":
                # Steady state: the CPU a record adds, from a read of a quarter as many (start-up cancels out). This
                # machine's speed drifts by a third from minute to minute: pairs of reads, back to back, median.
                quarter = {t: n // 4 for t, n in records.items()}
                with Sandbox(*sandbox_args(quarter, "--search-rate", "0", *extra)) as small_sandbox:
                    for pair in range(STEADY_PAIRS):
                        large = run if pair == 0 else run_read(sandbox, streams, {"num_workers": 4})
                        small = run_read(small_sandbox, streams, {"num_workers": 4})
                        extra_records = sum(large["records"].values()) - sum(small["records"].values())
                        steady_pairs.append(1000 * (large["cpu_s"] - small["cpu_s"]) / max(extra_records, 1))
                steady = statistics.median(steady_pairs)
        emitted = sum(run["records"].values())
        out[name] = {
            "records_emitted": emitted, "complete": run["records"] == expected, "exit_code": run["exit_code"],
            "records_by_stream": run["records"], "expected_by_stream": expected,
            "wall_s": run["wall_s"], "records_per_s": emitted / run["wall_s"], "cpu_s": run["cpu_s"],
            "cpu_ms_per_record": 1000 * run["cpu_s"] / max(emitted, 1), "cpu_ms_per_record_steady": steady,
            "cpu_ms_per_record_steady_pairs": steady_pairs,
            "fetcher_records": fetch["records"], "fetcher_records_per_s": fetch["records"] / fetch["wall_s"],
            "fetcher_cpu_ms_per_record": 1000 * fetch["cpu_s"] / max(fetch["records"], 1),
            "records_per_s_over_fetcher": (emitted / run["wall_s"]) / (fetch["records"] / fetch["wall_s"]),
            "peak_rss_mb": run["peak_rss_mb"],
        }
    return out


def memory(size: str) -> Dict[str, Any]:
    out = {}
    for n in MEMORY_CONTACTS[size]:
        with Sandbox(*sandbox_args({"contacts": n}, "--search-rate", "0")) as sandbox:
            run = run_read(sandbox, ["contacts"], {})
        out[str(n)] = {"peak_rss_mb": run["peak_rss_mb"], "records": sum(run["records"].values())}
    small, large = (out[str(n)]["peak_rss_mb"] for n in MEMORY_CONTACTS[size])
    out["ratio"] = large / small
    return out


def analyst(size: str) -> Dict[str, Any]:
    """The analyst tables over half the small mix, unthrottled (their calls do not depend on the pace): rows, API calls
    (from the sync report) and calls per 1,000 rows per table."""
    records = object_counts({k: v // 2 for k, v in SIZES["small"].items()})
    with Sandbox(*sandbox_args(records, "--search-rate", "0")) as sandbox:
        run = run_read(sandbox, ANALYST_STREAMS, {"calls_per_10_seconds": None, "retry_backoff_factor": None})
        stats = sandbox.stats()
    out: Dict[str, Any] = {"wall_s": run["wall_s"], "exit_code": run["exit_code"], "errors": run["errors"],
                           "calls": stats["total"], "rate_limited_429": stats["status_counts"].get("429", 0), "streams": {}}
    for stream in ANALYST_STREAMS:
        rows = run["records"].get(stream, 0)
        calls = (run["reports"].get(stream) or {}).get("calls")
        out["streams"][stream] = {"rows": rows, "calls": calls, "status": (run["reports"].get(stream) or {}).get("status"),
                                  "calls_per_1000_rows": 1000 * calls / rows if calls is not None and rows else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", default="rate,unthrottled,memory,analyst")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args()
    results: Dict[str, Any] = {"size": args.size, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "cpu_count": os.cpu_count()}
    began = time.monotonic()
    chosen = args.only.split(",")
    if "rate" in chosen:
        results["rate_limited"] = rate_limited(args.size)
        print_rate(results["rate_limited"])
    if "unthrottled" in chosen:
        results["unthrottled"] = unthrottled(args.size)
        print_unthrottled(results["unthrottled"])
    if "memory" in chosen:
        results["memory"] = memory(args.size)
        print_memory(results["memory"], args.size)
    if "analyst" in chosen:
        results["analyst"] = analyst(args.size)
        print_analyst(results["analyst"])
    results["bench_seconds"] = time.monotonic() - began
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, sort_keys=True))
    print(f"\nwrote {args.out} ({results['bench_seconds']:.0f} s)")


def print_rate(r: Dict[str, Any]) -> None:
    print("\n1. rate-limited (190 calls / 10 s, search 5 / s, 50-150 ms latency)")
    rows = [
        ("records emitted / expected", f"{r['records_emitted']:,} / {r['records_expected']:,}" + ("" if r["complete"] else "  INCOMPLETE")),
        ("exit code", r["exit_code"]),
        ("wall", f"{r['wall_s']:.1f} s"),
        ("floor (list + search at once)", f"{r['floor_s']:.1f} s   wall/floor {r['wall_over_floor']:.2f}"),
        ("floor (search only)", f"{r['search_only_floor_s']:.1f} s   wall/floor {r['wall_over_search_only_floor']:.2f}"),
        ("calls", f"{r['calls']:,} ({r['calls_per_1000_records']:.1f} per 1,000 records); minimum {r['minimum_calls']:,}: x{r['calls_over_minimum']:.2f}"),
        ("429s", f"{r['rate_limited_429']} ({100 * r['rate_limited_share']:.2f} % of calls)"),
        ("progress lines", f"{r['progress_lines']}, longest gap {r['progress_max_gap_s'] or 0:.1f} s"),
        ("sync report = records emitted", r["report_counts_equal_emitted"]),
    ]
    for label, value in rows:
        print(f"  {label:32s} {value}")


def print_unthrottled(u: Dict[str, Any]) -> None:
    print("\n2. unthrottled (no limits, no latency)")
    print(f"  {'variant':8s} {'records':>9s} {'rec/s':>8s} {'fetcher rec/s':>14s} {'ratio':>6s} {'CPU ms/rec':>11s} {'fetcher':>8s} {'RSS MB':>7s}")
    for name, v in u.items():
        print(f"  {name:8s} {v['records_emitted']:>9,} {v['records_per_s']:>8,.0f} {v['fetcher_records_per_s']:>14,.0f} "
              f"{v['records_per_s_over_fetcher']:>6.2f} {v['cpu_ms_per_record']:>11.3f} {v['fetcher_cpu_ms_per_record']:>8.3f} {v['peak_rss_mb']:>7.0f}"
              + ("" if v["complete"] else "  INCOMPLETE"))
        if v.get("cpu_ms_per_record_steady") is not None:
            pairs = ", ".join(f"{x:.3f}" for x in v.get("cpu_ms_per_record_steady_pairs") or [])
            print(f"  {name:8s} steady state (CPU a record adds, against a read of a quarter as many): "
                  f"{v['cpu_ms_per_record_steady']:.3f} ms/rec, median of {pairs}")


def print_memory(m: Dict[str, Any], size: str) -> None:
    small, large = MEMORY_CONTACTS[size]
    print("\n3. memory (contacts read, peak RSS of the connector)")
    print(f"  {small:,} contacts: {m[str(small)]['peak_rss_mb']:.0f} MB; {large:,} contacts: {m[str(large)]['peak_rss_mb']:.0f} MB; ratio {m['ratio']:.2f}")


def print_analyst(a: Dict[str, Any]) -> None:
    print(f"\n4. analyst tables (half the small mix, unthrottled): {a['wall_s']:.1f} s, {a['calls']:,} calls, "
          f"{a['rate_limited_429']} 429s, exit code {a['exit_code']}")
    for name, v in a["streams"].items():
        per = f"{v['calls_per_1000_rows']:.1f}" if v["calls_per_1000_rows"] is not None else "-"
        print(f"  {name:28s} {v['rows']:>8,} rows {v['calls'] if v['calls'] is not None else '-':>6} calls  {per:>7} per 1,000 rows  {v['status']}")


if __name__ == "__main__":
    main()
