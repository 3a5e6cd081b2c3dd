"""`make bench`: the connector against the sandbox on fixed workloads, as ratios to a floor measured in the same run.

1. rate (rate-limited): HubSpot Professional limits (190 calls / 10 s, search 5 / s), 50-150 ms latency. Wall time
   against the floor that both budgets allow (see `floor_seconds`), calls per 1,000 records against the page-size
   minimum of the connector's own plan (see `minimum_calls`), 429s.
2. wide-rate: 80,000 contacts with 300 custom properties at the same limits, read twice: with the record caster's C
   loop and with its Python loop (SOURCE_HUBSPOT_C_CASTER=0). Both walls against the same floor, the connector's
   CPU seconds (user + system) of each read and their ratio; the sandbox's CPU and the machine's load beside them.
3. unthrottled: no limits, no latency. Records/s and CPU ms per record beside a minimal fetcher (requests + orjson
   over the same pages, RECORD lines to /dev/null), on the same mix of objects (a quarter of it at full size, to
   keep the run under 10 minutes) and on a wide variant (300 custom contact properties), whose steady-state CPU
   per record is also taken against a read of a quarter as many records (the median of five such pairs, read back
   to back: this machine's speed drifts). The fetcher reads one search page after
   another; the connector reads first syncs by list and search at once, so it can be the faster of the two.
4. memory: peak RSS of a contacts read at 10,000 and at 100,000 contacts.
5. analyst tables: rows and API calls per table (from the connector's sync report), calls per 1,000 rows.
7. discover: `source-hubspot discover` of a portal with 20 custom objects beside the built-in types, at HubSpot's
   Professional limits with 50-150 ms a call: wall time (target under 5 s) and API calls per object type (target at
   most 1), in all and for the custom objects alone (their schemas and properties calls over their number); beside
   it the same portal without custom objects (medians of three discovers of each, alternating).
6. heavy, heavy-slow, heavy-wide (contacts-heavy, as real portals are): 180,000 contacts beside 10,000 companies,
   5,000 deals, 2,000 tickets and 10,000 activities (87 % contacts), a first sync of a typical catalog (the object
   streams, association_links, owners, both pipelines tables, merges) at Professional limits; 50-150 ms latency,
   200-400 ms, and 50-150 ms with 300 custom contact properties. Measured as rate is (the floor also counts the
   analyst tables' page-size minimum on each budget), with the sandbox's timing of every call summed up per reader
   (`where_the_time_went`; each call is in benchmarks/results/timeline-NAME.json, not committed). About 3 to 6
   minutes each at full size, 35 to 50 s at --size small; not in the default run (`make bench-heavy` runs them).

    python benchmarks/bench.py [--size small|full] [--pairs N] [--out FILE] [--history FILE] [--baseline]
                               [--only rate,wide-rate,unthrottled,memory,analyst,discover,heavy,heavy-slow,heavy-wide]

Prints a table, writes the run's JSON (default benchmarks/results/latest.json, not committed) and adds one row per
workload (per read for wide-rate) to benchmarks/results/history.csv: UTC time, git commit (`-dirty` if tracked
files differ from it), size, workload, wall, floor, wall/floor, calls, calls/minimum, 429s, records expected and
read, CPU. If benchmarks/results/baseline.json holds a run of the same workload and size, it prints this run beside
it; `--baseline` makes this run the baseline of the workloads it measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from source_hubspot.objects import OBJECT_TYPES  # noqa: E402
from testkit import analyst_truth  # noqa: E402
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
WIDE_PROPERTIES = 300
# wide-rate: about a minute's read at Professional limits on this 2-core machine (the floor of 80,000 contacts is
# 30.8 s, but the connector and the sandbox building the wide pages share the two cores).
WIDE_RATE_CONTACTS = {"full": 80_000, "small": 10_000}
# The two record casters of wide-rate: the environment each read runs with.
CASTERS: Dict[str, Dict[str, str]] = {"c-caster": {}, "python-caster": {"SOURCE_HUBSPOT_C_CASTER": "0"}}
RATE_WINDOW_S = 10  # HubSpot's general limit counts the calls of a rolling 10 s: wide-rate's reads are this far apart
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


def floor_seconds(records: Dict[str, int], general_per_s: float, search_per_s: float, fixed_search: int = 0,
                  more_general: int = 0) -> Tuple[float, Dict[str, float]]:
    """The shortest full read HubSpot's two budgets allow (DESIGN.md section 3): every record is read either by a list
    GET (100 per page, associations inline: 1/100 general call) or by search (200 per page: 1/200 search call, plus
    one association batch read per 1,000 ids and association type: k/1000 general calls). Both buckets drain at
    once; records whose associations cost least go to search first (the LP's optimum). One properties call per type.
    `fixed_search` and `more_general`: calls the rest of the catalog needs from each budget (the analyst tables')."""
    fixed_general = len(records) + more_general
    per_type = [(k, n) for stream, (types, k) in STREAMS.items() for t, n in records.items() if t in types]
    per_type.sort()

    def feasible(seconds: float) -> bool:
        search_left = (search_per_s * seconds - fixed_search) * SEARCH_PAGE  # records search can read in time
        if search_left < 0:
            return False
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
    search_only = max((total / SEARCH_PAGE + fixed_search) / search_per_s,
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
def run_read(sandbox: Sandbox, streams: List[str], config_extra: Dict[str, Any],
             env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """One `source-hubspot read` in a subprocess (`env`: variables added to this process's environment): wall, CPU
    and peak RSS from wait4, records counted per stream."""
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
    load = os.getloadavg()[0]  # other work on this machine shares its cores
    started = time.monotonic()
    with open(work / "stderr", "w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, cwd=str(REPO), bufsize=1 << 20,
                                env={**os.environ, **(env or {})})
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
        "exit_code": os.waitstatus_to_exitcode(status), "wall_s": wall, "load_1min_at_start": load,
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
def professional_args(latency_ms: float = 100, latency_spread: float = 0.5) -> List[str]:
    """The sandbox's options for HubSpot's Professional limits, each call latency_ms x (1 +- latency_spread)."""
    return ["--general-rate", str(PROFESSIONAL["general_per_10_s"]), "--search-rate", str(PROFESSIONAL["search_per_s"]),
            "--latency-ms", f"{latency_ms:g}", "--latency-spread", f"{latency_spread:.4f}"]


def professional_sandbox(records: Dict[str, int], *extra: str) -> Sandbox:
    """The sandbox at HubSpot's Professional limits, 50-150 ms a call."""
    return Sandbox(*sandbox_args(records, *professional_args(), *extra))


# No calls_per_10_seconds: the connector starts at 100 and follows HubSpot's X-HubSpot-RateLimit-Max.
RATE_CONFIG: Dict[str, Any] = {"calls_per_10_seconds": None, "retry_backoff_factor": None}


def rate_limited(size: str) -> Dict[str, Any]:
    records = object_counts(SIZES[size])
    streams = list(STREAMS)
    with professional_sandbox(records) as sandbox:
        expected = expected_counts(sandbox, streams)
        run = run_read(sandbox, streams, RATE_CONFIG)
        stats = sandbox.stats()
    return rate_summary(records, expected, run, stats)


def rate_summary(records: Dict[str, int], expected: Dict[str, int], run: Dict[str, Any],
                 stats: Dict[str, Any], analyst_calls: Optional[Dict[str, int]] = None) -> Dict[str, Any]:
    """A rate-limited read against the floor of its records and the minimum calls of the connector's split
    (`analyst_calls`: the analyst tables' page-size minimum of each budget, where the catalog has them)."""
    emitted = sum(run["records"].values())
    read = {t: n for t, n in records.items()}
    analyst_calls = analyst_calls or {"general": 0, "search": 0}
    floor, extra = floor_seconds(read, PROFESSIONAL["general_per_10_s"] / 10, PROFESSIONAL["search_per_s"],
                                 analyst_calls["search"], analyst_calls["general"])
    total_calls = stats["total"]
    minimum = minimum_calls(read, run["read_by_list"]) + analyst_calls["general"] + analyst_calls["search"]
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
        "report_counts_equal_emitted": run["report_counts_equal_emitted"], "cpu_s": run["cpu_s"],
        "load_1min_at_start": run["load_1min_at_start"],
    }


def wide_rate(size: str, pairs: int) -> Dict[str, Any]:
    """Contacts with 300 custom properties at Professional limits, read with the record caster's C loop and with its
    Python loop (SOURCE_HUBSPOT_C_CASTER=0), `pairs` times back to back (the order alternates, as this machine's
    speed drifts): whether the C loop shortens a rate-limited read, and how much CPU it saves there."""
    records = {"contacts": WIDE_RATE_CONTACTS[size]}
    runs: List[Dict[str, Any]] = []
    with professional_sandbox(records, "--custom-properties", str(WIDE_PROPERTIES)) as sandbox:
        expected = expected_counts(sandbox, ["contacts"])
        for pair in range(pairs):
            for variant in caster_order(pair):
                if runs:
                    time.sleep(RATE_WINDOW_S)  # the previous read's calls leave HubSpot's rolling window
                sandbox.reset_stats()
                sandbox_cpu = process_cpu_s(sandbox.proc.pid)
                run = run_read(sandbox, ["contacts"], RATE_CONFIG, env=CASTERS[variant])
                runs.append({"variant": variant, "pair": pair, **rate_summary(records, expected, run, sandbox.stats()),
                             "sandbox_cpu_s": process_cpu_s(sandbox.proc.pid) - sandbox_cpu})
    return {"contacts": records["contacts"], "custom_properties": WIDE_PROPERTIES, "c_caster_built": c_caster_built(),
            "runs": runs, "pairs": caster_pairs(runs)}


def caster_order(pair: int) -> List[str]:
    """The casters in the order of a pair's reads: C first in the first pair, then alternating (drift cancels out)."""
    names = list(CASTERS)
    return names if pair % 2 == 0 else names[::-1]


def caster_pairs(runs: List[Dict[str, Any]]) -> List[Dict[str, float]]:
    """Per pair of reads: both walls and CPU times, and the Python loop's over the C loop's."""
    out = []
    for pair in sorted({r["pair"] for r in runs}):
        by = {r["variant"]: r for r in runs if r["pair"] == pair}
        if set(by) != set(CASTERS):
            continue
        c, py = by["c-caster"], by["python-caster"]
        out.append({"pair": pair, "c_wall_s": c["wall_s"], "python_wall_s": py["wall_s"],
                    "wall_ratio": py["wall_s"] / c["wall_s"], "c_cpu_s": c["cpu_s"], "python_cpu_s": py["cpu_s"],
                    "cpu_ratio": py["cpu_s"] / c["cpu_s"]})
    return out


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def c_caster_built() -> bool:
    try:
        import source_hubspot._casts  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------- contacts-heavy
# Real portals are contacts-heavy (80-95 % contacts): 87 % of these records are contacts, read in one catalog.
HEAVY_SIZES = {
    "full": {"contacts": 180_000, "companies": 10_000, "deals": 5_000, "tickets": 2_000, "activities": 10_000},
    "small": {"contacts": 9_000, "companies": 500, "deals": 250, "tickets": 100, "activities": 500},
}
# A typical catalog: the object streams (as rate reads them), the association ids and the analyst tables most users
# select. The property histories are left out: contacts' alone would cost 4,500 calls at 180,000 contacts (5
# searches and 20 batch reads per 1,000 records), more than the whole rest of the read.
HEAVY_ANALYST_STREAMS = ["owners", "deal_pipelines", "ticket_pipelines", "association_links", "merges"]
HEAVY_STREAMS = [*STREAMS, *HEAVY_ANALYST_STREAMS]
# The object types whose survivors the merges table searches, one search page per 200 (contacts: either property).
MERGE_TYPES = ["contacts", "companies", "deals", "tickets"]
OWNERS_PAGE, LINKS_PER_RESULT = 500, 500  # owners per page; a v4 batch result's `to` ids before its own paging


@dataclass(frozen=True)
class HeavyWorkload:
    """One contacts-heavy workload: the Professional limits, the latency of a call (latency_ms x (1 +- spread)) and,
    for the wide variant, the custom contact properties."""
    latency_ms: float
    latency_spread: float
    custom_contact_properties: Optional[int] = None  # None: the sandbox's 20 custom properties on every type

    def describe(self) -> str:
        low, high = self.latency_ms * (1 - self.latency_spread), self.latency_ms * (1 + self.latency_spread)
        wide = f", {self.custom_contact_properties} custom contact properties" if self.custom_contact_properties else ""
        return (f"{PROFESSIONAL['general_per_10_s']} calls / 10 s, search {PROFESSIONAL['search_per_s']} / s, "
                f"{low:.0f}-{high:.0f} ms latency{wide}")


HEAVY_WORKLOADS = {
    "heavy": HeavyWorkload(latency_ms=100, latency_spread=0.5),
    "heavy-slow": HeavyWorkload(latency_ms=300, latency_spread=1 / 3),
    "heavy-wide": HeavyWorkload(latency_ms=100, latency_spread=0.5, custom_contact_properties=WIDE_PROPERTIES),
}


def heavy_records(size: str) -> Dict[str, int]:
    """Records per object type of the contacts-heavy workloads (archived ones included, as the sandbox holds them)."""
    return object_counts(HEAVY_SIZES[size])


def heavy_sandbox_args(name: str, size: str) -> List[str]:
    """The sandbox's command line for one contacts-heavy workload: its records, limits, latency and (wide) custom
    contact properties, with every API call's timing kept for the summary of where the time went."""
    workload = HEAVY_WORKLOADS[name]
    extra = [*professional_args(workload.latency_ms, workload.latency_spread), "--timeline"]
    if workload.custom_contact_properties:
        extra += ["--custom-properties", str(workload.custom_contact_properties), "--custom-properties-types", "contacts"]
    return sandbox_args(heavy_records(size), *extra)


def analyst_minimum(owners: Tuple[int, int], from_records: Dict[str, int], link_lists: List[int],
                    survivors: Dict[str, int]) -> Dict[str, int]:
    """The calls HubSpot's page and batch sizes allow the heavy catalog's analyst tables, per budget, as if the first
    sync were one window: owners (active, archived) 500 a page; one call per pipelines table; association_links one
    id search per 200 from-records (at least one per object) and one v4 batch read per 1,000 of them and target type,
    plus one per further 500 targets of a single record (`link_lists`: the targets of each record and target type);
    merges one search per 200 survivors of each object type (at least one)."""
    active, archived = owners
    general = -(-active // OWNERS_PAGE) + -(-archived // OWNERS_PAGE) + 2
    search = 0
    for from_type, n in from_records.items():
        search += max(1, -(-n // SEARCH_PAGE))
        general += len(analyst_truth.LINK_TARGETS[from_type]) * -(-n // ASSOCIATION_BATCH)
    general += sum(-(-n // LINKS_PER_RESULT) - 1 for n in link_lists if n > LINKS_PER_RESULT)
    search += sum(max(1, -(-survivors.get(t, 0) // SEARCH_PAGE)) for t in MERGE_TYPES)
    return {"general": general, "search": search}


def analyst_expected(sandbox: Sandbox) -> Tuple[Dict[str, int], Dict[str, int]]:
    """The rows the heavy catalog's analyst tables must have (the sandbox's own account) and their page-size minimum."""
    owners = analyst_truth.owners(sandbox)
    targets: Dict[Tuple[str, str, str], set] = {}
    links = 0
    for from_type, to_types in analyst_truth.LINK_TARGETS.items():
        for to_type in to_types:
            rows = analyst_truth.links(sandbox, from_type, to_type)
            links += len(rows)
            for row in rows:
                targets.setdefault((from_type, row[1], to_type), set()).add(row[3])
    merges = analyst_truth.merges(sandbox)
    rows = {"owners": len(owners), "deal_pipelines": len(analyst_truth.pipeline_stages(sandbox, "deals")),
            "ticket_pipelines": len(analyst_truth.pipeline_stages(sandbox, "tickets")),
            "association_links": links, "merges": len(merges)}
    archived_owners = sum(1 for o in owners if o.get("archived"))
    minimum = analyst_minimum((len(owners) - archived_owners, archived_owners),
                              {t: len(sandbox.ids(t)) for t in analyst_truth.LINK_TARGETS},
                              [len(ids) for ids in targets.values()],
                              {t: len({m[2] for m in merges if m[0] == t}) for t in MERGE_TYPES})
    return rows, minimum


def heavy(name: str, size: str) -> Dict[str, Any]:
    """One contacts-heavy workload: a first sync of the typical catalog against the floor of both budgets (the
    analyst tables' minimum calls included), and where the time went (`where_the_time_went`)."""
    records = heavy_records(size)
    with Sandbox(*heavy_sandbox_args(name, size)) as sandbox:
        expected = expected_counts(sandbox, list(STREAMS))
        analyst_rows, analyst_calls = analyst_expected(sandbox)
        expected.update(analyst_rows)
        sandbox.reset_stats()  # the pipelines reads above are not the connector's (2 calls of the rolling 190)
        sandbox_cpu = process_cpu_s(sandbox.proc.pid)
        run = run_read(sandbox, HEAVY_STREAMS, RATE_CONFIG)
        stats = sandbox.stats()
        sandbox_cpu = process_cpu_s(sandbox.proc.pid) - sandbox_cpu
    timeline = stats.pop("timeline", [])
    return {"workload": name, "describe": HEAVY_WORKLOADS[name].describe(), "records_by_type": records,
            **rate_summary(records, expected, run, stats, analyst_calls), "analyst_minimum_calls": analyst_calls,
            "sandbox_cpu_s": sandbox_cpu, "reports": run["reports"],
            "where_the_time_went": where_the_time_went(timeline), "timeline_calls": len(timeline),
            "_timeline": timeline}  # main() writes it beside the results, not into them


def call_group(key: str) -> str:
    """The reader an API call belongs to, by its endpoint: `contacts list`, `contacts search`, `contacts associations`
    (v4 batch reads from contacts), `properties`, `other` (owners, pipelines, labels, batch reads of objects)."""
    method, path = key.split(" ", 1)
    parts = path.strip("/").split("/")
    if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4 and method == "GET":
        return f"{parts[3]} list"
    if parts[:3] == ["crm", "v3", "objects"] and parts[-1] == "search":
        return f"{parts[3]} search"
    if parts[:3] == ["crm", "v4", "associations"] and parts[-1] == "read":
        return f"{parts[3]} associations"
    if parts[:3] == ["crm", "v3", "properties"]:
        return "properties"
    return "other"


def where_the_time_went(timeline: List[List[Any]], bucket_s: float = 10.0) -> Dict[str, Any]:
    """From the sandbox's timeline (start, duration, endpoint, status per call, seconds since the read's start):
    per reader its calls, 429s, span (first start to last end), the most of its calls in flight at once, the mean
    call and the mean gap between one call's end and the next one's start (the connector's time between pages, budget
    waits included); per `bucket_s` the general and search calls answered (not 429) and the 429s; and how much of the
    run search had no call in flight."""
    if not timeline:
        return {}
    end = max(start + seconds for start, seconds, _, _ in timeline)
    groups: Dict[str, List[Tuple[float, float, Any]]] = {}
    for start, seconds, key, status in timeline:
        groups.setdefault(call_group(key), []).append((start, start + seconds, status))
    readers = {}
    for group, calls in sorted(groups.items(), key=lambda item: -len(item[1])):
        calls.sort()
        edges = sorted([(a, 1) for a, _, _ in calls] + [(b, -1) for _, b, _ in calls])
        in_flight = most = 0
        for _, step in edges:
            in_flight += step
            most = max(most, in_flight)
        gaps = [b_start - a_end for (_, a_end, _), (b_start, _, _) in zip(calls, calls[1:])]
        readers[group] = {
            "calls": len(calls), "http_429": sum(1 for c in calls if c[2] == 429),
            "first_s": calls[0][0], "last_s": max(b for _, b, _ in calls), "most_in_flight": most,
            "mean_call_s": statistics.mean(b - a for a, b, _ in calls),
            "mean_gap_s": statistics.mean(gaps) if gaps else None,
        }
    buckets = [{"from_s": i * bucket_s, "general": 0, "search": 0, "http_429": 0}
               for i in range(int(end // bucket_s) + 1)]
    for start, _, key, status in timeline:
        bucket = buckets[int(start // bucket_s)]
        if status == 429:
            bucket["http_429"] += 1
        else:
            bucket["search" if key.endswith("/search") else "general"] += 1
    searches = sorted((a, a + d) for a, d, key, _ in timeline if key.endswith("/search"))
    busy, reach = 0.0, 0.0
    for a, b in searches:  # the union of the search calls' intervals
        if b > reach:
            busy += b - max(a, reach)
            reach = b
    return {"run_s": end, "readers": readers, "buckets": buckets, "search_in_flight_share": busy / end if end else None,
            "search_calls_per_s": len(searches) / end, "general_calls_per_s": (len(timeline) - len(searches)) / end}


def unthrottled(size: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    narrow = object_counts({k: int(v * UNTHROTTLED_SHARE[size]) for k, v in SIZES[size].items()})
    variants = [("narrow", narrow, list(STREAMS), []),
                ("wide", {"contacts": WIDE_CONTACTS[size]}, ["contacts"], ["--custom-properties", str(WIDE_PROPERTIES)])]
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


DISCOVER_CUSTOM_OBJECTS = 20
DISCOVER_TARGET_S = 5.0
DISCOVER_PAIRS = 3  # discovers with and without the custom objects, alternating: the medians are reported
# The sandbox's calls that concern the portal's custom objects: the schemas API and any call naming a custom type.
CUSTOM_CALL = re.compile(r"/schemas$|/p\d+_|/2-\d+")


def timed_discover(custom_objects: int) -> Tuple[float, Dict[str, Any], Dict[str, Any], float]:
    """One `source-hubspot discover` against a Professional-limits sandbox with `custom_objects` custom objects: its
    wall time, the process's exit code, output and CPU seconds (user + system, from wait4), the sandbox's stats and
    the machine's 1-minute load as it began."""
    records = object_counts({k: v // 20 for k, v in SIZES["small"].items()})
    with professional_sandbox(records, "--custom-objects", str(custom_objects)) as sandbox:
        work = Path(tempfile.mkdtemp(prefix="bench-discover-"))
        (work / "config.json").write_text(json.dumps({k: v for k, v in sandbox.private_app_config(**RATE_CONFIG).items()
                                                      if v is not None}))
        sandbox.reset_stats()
        load = os.getloadavg()[0]
        started = time.monotonic()
        with open(work / "stdout", "wb") as out, open(work / "stderr", "wb") as err:
            child = subprocess.Popen([*source_command(), "discover", "--config", str(work / "config.json")],
                                     cwd=str(REPO), stdout=out, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
        proc = {"exit_code": os.waitstatus_to_exitcode(status), "cpu_s": usage.ru_utime + usage.ru_stime,
                "stdout": (work / "stdout").read_bytes(), "stderr": (work / "stderr").read_bytes()}
        return wall, proc, sandbox.stats(), load


def discover(size: str) -> Dict[str, Any]:
    """`source-hubspot discover` of a portal with DISCOVER_CUSTOM_OBJECTS custom objects at Professional limits,
    50-150 ms a call (the size does not matter: discover reads no records), and of the same portal without them,
    DISCOVER_PAIRS times each, alternating (this machine's speed drifts with the other work on it): the median wall
    and CPU of each. Streams, and the sandbox's calls: in all, per object type, and those of the custom objects per
    custom object."""
    plain_runs, runs = [], []
    for _ in range(DISCOVER_PAIRS):
        plain_runs.append(timed_discover(0))
        runs.append(timed_discover(DISCOVER_CUSTOM_OBJECTS))
    plain_wall = statistics.median(run[0] for run in plain_runs)
    plain = {"cpu_s": statistics.median(run[1]["cpu_s"] for run in plain_runs)}
    plain_stats = plain_runs[-1][2]
    _, proc, stats, load = runs[-1]
    wall = statistics.median(run[0] for run in runs)
    proc = {**proc, "cpu_s": statistics.median(run[1]["cpu_s"] for run in runs),
            "exit_code": max(run[1]["exit_code"] for run in runs)}
    streams: List[str] = []
    for line in proc["stdout"].splitlines():
        if line.startswith(b'{"type":"CATALOG"'):
            streams = [s["name"] for s in json.loads(line)["catalog"]["streams"]]
    requests_by_key: Dict[str, int] = stats["requests"]
    custom_calls = sum(n for key, n in requests_by_key.items() if CUSTOM_CALL.search(key.split(" ", 1)[-1]))
    built_in_types = len(OBJECT_TYPES)  # the registry as shipped: core, activities and standard objects
    object_types = built_in_types + DISCOVER_CUSTOM_OBJECTS
    return {"wall_s": wall, "exit_code": proc["exit_code"], "target_s": DISCOVER_TARGET_S, "load_1min_at_start": load,
            "cpu_s": proc["cpu_s"], "wall_without_custom_objects_s": plain_wall, "cpu_without_custom_objects_s": plain["cpu_s"],
            "calls_without_custom_objects": plain_stats["total"],
            "custom_objects": DISCOVER_CUSTOM_OBJECTS, "object_types": object_types, "streams": len(streams),
            "custom_streams": sum(1 for name in streams if name.startswith("custom_")),
            "calls": stats["total"], "calls_per_object_type": stats["total"] / object_types,
            "custom_calls": custom_calls, "custom_calls_per_custom_object": custom_calls / DISCOVER_CUSTOM_OBJECTS,
            "rate_limited_429": stats["status_counts"].get("429", 0), "requests": requests_by_key,
            "errors": proc["stderr"].decode(errors="replace")[-500:] if proc["exit_code"] else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", default=",".join(DEFAULT_WORKLOADS),
                        help=f"comma list of {', '.join(WORKLOADS)} (default: {', '.join(DEFAULT_WORKLOADS)})")
    parser.add_argument("--pairs", type=int, default=1, help="wide-rate: pairs of reads (C loop, Python loop)")
    parser.add_argument("--out", default=str(RESULTS / "latest.json"))
    parser.add_argument("--history", default=str(RESULTS / "history.csv"), help="the CSV this run's rows are added to")
    parser.add_argument("--baseline", action="store_true",
                        help=f"make this run the baseline of the workloads it measured ({RESULTS / 'baseline.json'})")
    args = parser.parse_args()
    chosen = args.only.split(",")
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}: choose from {', '.join(WORKLOADS)}")
    commit = git_commit()
    results: Dict[str, Any] = {"size": args.size, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "cpu_count": os.cpu_count(), "commit": commit}
    began = time.monotonic()
    if "rate" in chosen:
        results["rate_limited"] = rate_limited(args.size)
        print_rate(results["rate_limited"])
    if "wide-rate" in chosen:
        results["wide_rate"] = wide_rate(args.size, args.pairs)
        print_wide_rate(results["wide_rate"])
    if "unthrottled" in chosen:
        results["unthrottled"] = unthrottled(args.size)
        print_unthrottled(results["unthrottled"])
    if "memory" in chosen:
        results["memory"] = memory(args.size)
        print_memory(results["memory"], args.size)
    if "analyst" in chosen:
        results["analyst"] = analyst(args.size)
        print_analyst(results["analyst"])
    if "discover" in chosen:
        results["discover"] = discover(args.size)
        print_discover(results["discover"])
    for name in HEAVY_WORKLOADS:
        if name in chosen:
            run = heavy(name, args.size)
            timeline = Path(args.out).with_name(f"timeline-{name}.json")
            timeline.parent.mkdir(parents=True, exist_ok=True)
            timeline.write_text(json.dumps(run.pop("_timeline")))
            results[WORKLOADS[name]] = run
            print_heavy(run)
    results["bench_seconds"] = time.monotonic() - began
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, sort_keys=True))
    rows = history_rows(results, commit)
    append_history(Path(args.history), rows)
    baseline_path = RESULTS / "baseline.json"
    baseline = json.loads(baseline_path.read_text()) if baseline_path.exists() else {"workloads": {}}
    against = [row for entry in baseline["workloads"].values() for row in history_rows(entry, entry["commit"])]
    comparisons = baseline_lines(rows, against)
    if comparisons:
        print("\nagainst the baseline (benchmarks/results/baseline.json)")
        print("\n".join(comparisons))
    if args.baseline:
        baseline["workloads"].update(baseline_entries(results))
        baseline_path.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {args.out} ({results['bench_seconds']:.0f} s), {len(rows)} rows added to {args.history}"
          + (f", baseline of {', '.join(w for w in WORKLOADS if w in chosen)} in {baseline_path}" if args.baseline else ""))


# ---------------------------------------------------------------------------------------------------------------- history
RESULTS = REPO / "benchmarks" / "results"
# The workloads of --only (their order is the run's), and the key of each one's results in the JSON.
WORKLOADS = {"rate": "rate_limited", "wide-rate": "wide_rate", "unthrottled": "unthrottled", "memory": "memory",
             "analyst": "analyst", "discover": "discover", "heavy": "heavy", "heavy-slow": "heavy_slow",
             "heavy-wide": "heavy_wide"}
# `make bench`; the contacts-heavy workloads (a quarter of an hour together at full size) run with `make bench-heavy`.
DEFAULT_WORKLOADS = [name for name in WORKLOADS if name not in HEAVY_WORKLOADS]
HISTORY_COLUMNS = ["utc", "commit", "size", "workload", "variant", "wall_s", "floor_s", "wall_over_floor", "calls",
                   "minimum_calls", "calls_over_minimum", "http_429", "records_expected", "records_read", "cpu_s",
                   "cpu_ms_per_record", "peak_rss_mb", "note", "source"]


def git_commit() -> str:
    """HEAD's short hash; `-dirty` where a tracked file outside benchmarks/results differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=str(REPO), capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)benchmarks/results")
    return head + ("-dirty" if changed else "")


def rate_columns(r: Dict[str, Any]) -> Dict[str, Any]:
    notes = ([] if r["complete"] else ["incomplete"]) + ([f"exit code {r['exit_code']}"] if r["exit_code"] else [])
    if r.get("sandbox_cpu_s") is not None:
        notes.append(f"sandbox CPU {r['sandbox_cpu_s']:.1f} s")
    if r.get("load_1min_at_start") is not None:  # other work on the machine's cores
        notes.append(f"load {r['load_1min_at_start']:.1f} at start")
    return {"wall_s": r["wall_s"], "floor_s": r["floor_s"], "wall_over_floor": r["wall_over_floor"], "calls": r["calls"],
            "minimum_calls": r["minimum_calls"], "calls_over_minimum": r["calls_over_minimum"],
            "http_429": r["rate_limited_429"], "records_expected": r["records_expected"],
            "records_read": r["records_emitted"], "cpu_s": r.get("cpu_s"), "note": "; ".join(notes)}


def history_rows(results: Dict[str, Any], commit: str, source: str = "bench.py") -> List[Dict[str, Any]]:
    """The rows of history.csv for one run's results: one per workload, and one per read of wide-rate and per variant
    of unthrottled."""
    base = {"utc": results["started"], "commit": commit, "size": results["size"], "source": source}
    rows: List[Dict[str, Any]] = []
    if "rate_limited" in results:
        rows.append({**base, "workload": "rate", **rate_columns(results["rate_limited"])})
    if "wide_rate" in results:
        wide = results["wide_rate"]
        ratios = {pair["pair"]: pair for pair in wide["pairs"]}
        for run in wide["runs"]:
            row = {**base, "workload": "wide-rate", "variant": run["variant"], **rate_columns(run)}
            pair = ratios.get(run["pair"])
            if run["variant"] == "python-caster" and pair:
                row["note"] = "; ".join(filter(None, [row["note"], f"over the C loop's read: wall x{pair['wall_ratio']:.3f}, "
                                                                  f"CPU x{pair['cpu_ratio']:.3f}"]))
            if not wide["c_caster_built"]:
                row["note"] = "; ".join(filter(None, [row["note"], "C loop not built"]))
            rows.append(row)
    for variant, v in (results.get("unthrottled") or {}).items():
        note = f"{v['records_per_s']:.0f} records/s, fetcher {v['fetcher_records_per_s']:.0f}"
        if v.get("cpu_ms_per_record_steady") is not None:
            note += (f"; steady state {v['cpu_ms_per_record_steady']:.3f} ms/record "
                     f"(median of {len(v['cpu_ms_per_record_steady_pairs'])} pairs)")
        rows.append({**base, "workload": "unthrottled", "variant": variant, "wall_s": v["wall_s"],
                     "records_expected": sum(v["expected_by_stream"].values()), "records_read": v["records_emitted"],
                     "cpu_s": v["cpu_s"], "cpu_ms_per_record": v["cpu_ms_per_record"], "peak_rss_mb": v["peak_rss_mb"],
                     "note": note + ("" if v["complete"] else "; incomplete")})
    if "memory" in results:
        m = results["memory"]
        (small, a), (large, b) = sorted(((int(n), v) for n, v in m.items() if n != "ratio"))
        rows.append({**base, "workload": "memory", "records_read": b["records"], "peak_rss_mb": b["peak_rss_mb"],
                     "note": f"peak RSS {a['peak_rss_mb']:.0f} MB at {small:,} contacts, {b['peak_rss_mb']:.0f} MB at "
                             f"{large:,}: x{m['ratio']:.2f}"})
    for name in HEAVY_WORKLOADS:
        if WORKLOADS[name] in results:
            rows.append({**base, "workload": name, **rate_columns(results[WORKLOADS[name]])})
    if "analyst" in results:
        a = results["analyst"]
        rows.append({**base, "workload": "analyst", "wall_s": a["wall_s"], "calls": a["calls"],
                     "http_429": a["rate_limited_429"], "records_read": sum(s["rows"] for s in a["streams"].values()),
                     "note": f"exit code {a['exit_code']}" if a["exit_code"] else ""})
    if "discover" in results:
        d = results["discover"]
        notes = [f"{d['custom_streams']} custom of {d['streams']} streams", f"{d['object_types']} object types",
                 f"{d['calls_per_object_type']:.2f} calls per object type",
                 f"custom objects {d['custom_calls']} calls, {d['custom_calls_per_custom_object']:.2f} per custom object",
                 f"target under {d['target_s']:g} s" + ("" if d["wall_s"] < d["target_s"] else " MISSED"),
                 f"without custom objects {d['wall_without_custom_objects_s']:.2f} s "
                 f"(CPU {d['cpu_without_custom_objects_s']:.2f} s), {d['calls_without_custom_objects']} calls",
                 f"load {d['load_1min_at_start']:.1f} at start"]
        if d["exit_code"]:
            notes.append(f"exit code {d['exit_code']}")
        rows.append({**base, "workload": "discover", "wall_s": d["wall_s"], "calls": d["calls"], "cpu_s": d["cpu_s"],
                     "http_429": d["rate_limited_429"], "note": "; ".join(notes)})
    return rows


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return value


def append_history(path: Path, rows: List[Dict[str, Any]]) -> None:
    """Adds rows to the history CSV (its header first, if the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as out:
        writer = csv.DictWriter(out, HISTORY_COLUMNS)
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow({column: csv_value(row.get(column)) for column in HISTORY_COLUMNS})


def baseline_entries(results: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Per workload this run measured: its results, with the run's time, size and commit (the shape history_rows reads)."""
    meta = {k: results[k] for k in ("started", "size", "cpu_count", "commit")}
    return {name: {**meta, key: results[key]} for name, key in WORKLOADS.items() if key in results}


def baseline_lines(rows: List[Dict[str, Any]], baseline_rows: List[Dict[str, Any]]) -> List[str]:
    """Each row of this run beside the baseline's row of the same workload, variant and size, by its headline figure:
    wall over the floor, else CPU per record, else peak RSS, else wall."""
    lines = []
    for row in rows:
        key = (row["workload"], row.get("variant"), row["size"])
        match = next((b for b in baseline_rows if (b["workload"], b.get("variant"), b["size"]) == key), None)
        if match is None:
            continue
        for figure, label, unit in (("wall_over_floor", "wall/floor", "x"), ("cpu_ms_per_record", "CPU ms/record", ""),
                                    ("peak_rss_mb", "peak RSS MB", ""), ("wall_s", "wall s", "")):
            if row.get(figure) is not None and match.get(figure) is not None:
                name = row["workload"] + (f" {row['variant']}" if row.get("variant") else "")
                lines.append(f"  {name:26s} {label} {unit}{row[figure]:.2f}, baseline {unit}{match[figure]:.2f} "
                             f"({match['commit']}, {match['utc']})")
                break
    return lines


# ---------------------------------------------------------------------------------------------------------------- output
def print_rate(r: Dict[str, Any]) -> None:
    print("\n1. rate-limited (190 calls / 10 s, search 5 / s, 50-150 ms latency)")
    print_rate_rows(r)


def print_rows(rows: List[Tuple[str, Any]]) -> None:
    """A workload's figures, one `label  value` line each."""
    for label, value in rows:
        print(f"  {label:32s} {value}")


def print_rate_rows(r: Dict[str, Any]) -> None:
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
    print_rows(rows)


def print_wide_rate(w: Dict[str, Any]) -> None:
    floor = w["runs"][0]["floor_s"] if w["runs"] else 0
    print(f"\n2. wide-rate: {w['contacts']:,} contacts with {w['custom_properties']} custom properties at the same limits, "
          f"read with the record caster's C loop and with its Python loop (floor {floor:.1f} s)")
    print("  (CPU s: the connector's user + system; sandbox: the sandbox's during the read; load: the machine's 1-minute "
          "load average as the read began)")
    if not w["c_caster_built"]:
        print("  the C loop is not built here (make install with a C compiler): both reads use the Python loop")
    print(f"  {'pair':4s} {'caster':14s} {'wall s':>7s} {'x floor':>7s} {'CPU s':>7s} {'sandbox':>8s} {'load':>5s} "
          f"{'calls':>6s} {'x min':>6s} {'429s':>5s} {'records':>16s}")
    for r in w["runs"]:
        print(f"  {r['pair'] + 1:<4d} {r['variant']:14s} {r['wall_s']:>7.1f} {r['wall_over_floor']:>7.2f} {r['cpu_s']:>7.1f} "
              f"{r['sandbox_cpu_s']:>8.1f} {r['load_1min_at_start']:>5.1f} {r['calls']:>6,} {r['calls_over_minimum']:>6.2f} {r['rate_limited_429']:>5d} "
              f"{r['records_emitted']:>7,}/{r['records_expected']:<7,}" + ("" if r["complete"] else " INCOMPLETE")
              + (f" exit {r['exit_code']}" if r["exit_code"] else ""))
    for p in w["pairs"]:
        print(f"  pair {p['pair'] + 1}: Python loop over C loop: wall {p['python_wall_s']:.1f} / {p['c_wall_s']:.1f} s = x{p['wall_ratio']:.3f}, "
              f"CPU {p['python_cpu_s']:.1f} / {p['c_cpu_s']:.1f} s = x{p['cpu_ratio']:.3f}")


def print_unthrottled(u: Dict[str, Any]) -> None:
    print("\n3. unthrottled (no limits, no latency)")
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
    print("\n4. memory (contacts read, peak RSS of the connector)")
    print(f"  {small:,} contacts: {m[str(small)]['peak_rss_mb']:.0f} MB; {large:,} contacts: {m[str(large)]['peak_rss_mb']:.0f} MB; ratio {m['ratio']:.2f}")


def print_analyst(a: Dict[str, Any]) -> None:
    print(f"\n5. analyst tables (half the small mix, unthrottled): {a['wall_s']:.1f} s, {a['calls']:,} calls, "
          f"{a['rate_limited_429']} 429s, exit code {a['exit_code']}")
    for name, v in a["streams"].items():
        per = f"{v['calls_per_1000_rows']:.1f}" if v["calls_per_1000_rows"] is not None else "-"
        print(f"  {name:28s} {v['rows']:>8,} rows {v['calls'] if v['calls'] is not None else '-':>6} calls  {per:>7} per 1,000 rows  {v['status']}")


def print_discover(d: Dict[str, Any]) -> None:
    print(f"\n7. discover with {d['custom_objects']} custom objects (190 calls / 10 s, 50-150 ms latency; medians of "
          f"{DISCOVER_PAIRS} discovers with and without them, alternating)")
    rows = [
        ("exit code", d["exit_code"]),
        ("wall", f"{d['wall_s']:.2f} s (target under {d['target_s']:g} s); load {d['load_1min_at_start']:.1f} at start"),
        ("CPU (user + system)", f"{d['cpu_s']:.2f} s"),
        ("without custom objects", f"{d['wall_without_custom_objects_s']:.2f} s (CPU {d['cpu_without_custom_objects_s']:.2f} s), "
                                   f"{d['calls_without_custom_objects']} calls"),
        ("streams", f"{d['streams']} ({d['custom_streams']} custom)"),
        ("calls", f"{d['calls']} for {d['object_types']} object types: {d['calls_per_object_type']:.2f} per object type"),
        ("custom objects' calls", f"{d['custom_calls']}: {d['custom_calls_per_custom_object']:.2f} per custom object"),
        ("429s", d["rate_limited_429"]),
    ]
    print_rows(rows)
    if d["errors"]:
        print(f"  stderr: {d['errors']}")


def print_heavy(r: Dict[str, Any]) -> None:
    print(f"\n{r['workload']}: contacts-heavy first sync of the typical catalog ({r['describe']})")
    print_rate_rows(r)
    analyst = r["analyst_minimum_calls"]
    print(f"  {'of the minimum, analyst tables':32s} {analyst['general']} general, {analyst['search']} search")
    where = r["where_the_time_went"]
    if not where:
        return
    print(f"  where the time went ({where['run_s']:.1f} s of calls): general {where['general_calls_per_s']:.1f} calls/s "
          f"of {PROFESSIONAL['general_per_10_s'] / 10:g}, search {where['search_calls_per_s']:.2f}/s of "
          f"{PROFESSIONAL['search_per_s']}, a search call in flight {100 * where['search_in_flight_share']:.0f} % of the time")
    print(f"  {'reader':26s} {'calls':>6s} {'429s':>5s} {'from s':>7s} {'to s':>7s} {'in flight':>9s} {'call ms':>8s} {'gap ms':>7s}")
    for group, v in where["readers"].items():
        gap = f"{1000 * v['mean_gap_s']:.0f}" if v["mean_gap_s"] is not None else "-"
        print(f"  {group:26s} {v['calls']:>6,} {v['http_429']:>5} {v['first_s']:>7.1f} {v['last_s']:>7.1f} "
              f"{v['most_in_flight']:>9} {1000 * v['mean_call_s']:>8.0f} {gap:>7s}")
    print("  calls answered per 10 s (general/search, 429s): " + "  ".join(
        f"{b['from_s']:.0f}s {b['general']}/{b['search']}" + (f" ({b['http_429']})" if b["http_429"] else "")
        for b in where["buckets"]))
    calls = {stream: v["calls"] for stream, v in r["reports"].items() if v.get("calls") is not None}
    if calls:
        print("  calls per stream (sync report): " + ", ".join(f"{s} {n:,}" for s, n in calls.items()))


if __name__ == "__main__":
    main()
