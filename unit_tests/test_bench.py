"""benchmarks/bench.py's bookkeeping: the rows each run adds to benchmarks/results/history.csv, the baseline it is
compared with, and the wide-rate workload's pairs of reads (the workloads themselves need the sandbox and minutes)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench  # noqa: E402


def rate_result(wall: float, cpu: float = 10.0, **overrides: Any) -> Dict[str, Any]:
    result = {"wall_s": wall, "floor_s": 40.0, "wall_over_floor": wall / 40.0, "calls": 1010, "minimum_calls": 1000,
              "calls_over_minimum": 1.01, "rate_limited_429": 1, "records_expected": 98_000, "records_emitted": 98_000,
              "complete": True, "exit_code": 0, "cpu_s": cpu}
    return {**result, **overrides}


def wide_result() -> Dict[str, Any]:
    runs = [{"variant": "c-caster", "pair": 0, **rate_result(60.0, cpu=30.0)},
            {"variant": "python-caster", "pair": 0, **rate_result(66.0, cpu=45.0)}]
    return {"contacts": 100_000, "custom_properties": 300, "c_caster_built": True, "runs": runs,
            "pairs": bench.caster_pairs(runs)}


def results(**workloads: Any) -> Dict[str, Any]:
    return {"started": "2026-12-06T10:00:00Z", "size": "full", **workloads}


def test_given_a_c_and_a_python_read_then_their_pair_holds_both_walls_cpu_times_and_the_ratios():
    (pair,) = wide_result()["pairs"]
    assert pair == {"pair": 0, "c_wall_s": 60.0, "python_wall_s": 66.0, "wall_ratio": pytest.approx(1.1),
                    "c_cpu_s": 30.0, "python_cpu_s": 45.0, "cpu_ratio": pytest.approx(1.5)}


def test_given_a_pair_missing_one_caster_then_it_has_no_ratio():
    runs = [{"variant": "c-caster", "pair": 0, **rate_result(60.0)}]
    assert bench.caster_pairs(runs) == []


def test_given_a_rate_run_then_its_history_row_holds_wall_floor_calls_429s_and_records():
    (row,) = bench.history_rows(results(rate_limited=rate_result(50.0)), "abc1234")
    assert row["workload"] == "rate" and row["commit"] == "abc1234" and row["size"] == "full"
    assert (row["wall_s"], row["floor_s"], row["wall_over_floor"]) == (50.0, 40.0, 1.25)
    assert (row["calls"], row["minimum_calls"], row["http_429"]) == (1010, 1000, 1)
    assert (row["records_expected"], row["records_read"], row["note"], row["source"]) == (98_000, 98_000, "", "bench.py")


def test_given_an_incomplete_rate_run_then_its_row_says_so():
    (row,) = bench.history_rows(results(rate_limited=rate_result(50.0, complete=False, exit_code=1)), "abc1234")
    assert row["note"] == "incomplete; exit code 1"


def test_given_a_wide_rate_run_then_each_read_is_a_row_and_the_python_row_names_its_ratios_to_the_c_read():
    c_row, python_row = bench.history_rows(results(wide_rate=wide_result()), "abc1234")
    assert (c_row["workload"], c_row["variant"], c_row["cpu_s"], c_row["note"]) == ("wide-rate", "c-caster", 30.0, "")
    assert (python_row["variant"], python_row["cpu_s"]) == ("python-caster", 45.0)
    assert python_row["note"] == "over the C loop's read: wall x1.100, CPU x1.500"


def test_given_the_other_workloads_then_each_has_its_row():
    unthrottled = {"wall_s": 5.0, "expected_by_stream": {"contacts": 100}, "records_emitted": 100, "cpu_s": 2.0,
                   "cpu_ms_per_record": 20.0, "peak_rss_mb": 99.0, "records_per_s": 20.0, "fetcher_records_per_s": 10.0,
                   "complete": True, "cpu_ms_per_record_steady": 0.2, "cpu_ms_per_record_steady_pairs": [0.2, 0.3, 0.1]}
    memory = {"2000": {"peak_rss_mb": 90.0, "records": 2000}, "20000": {"peak_rss_mb": 99.0, "records": 20000}, "ratio": 1.1}
    analyst = {"wall_s": 7.0, "calls": 70, "rate_limited_429": 0, "exit_code": 0,
               "streams": {"owners": {"rows": 5}, "merges": {"rows": 6}}}
    rows = bench.history_rows(results(unthrottled={"wide": unthrottled}, memory=memory, analyst=analyst), "abc1234")
    assert [(r["workload"], r.get("variant")) for r in rows] == [("unthrottled", "wide"), ("memory", None), ("analyst", None)]
    assert rows[0]["note"] == "20 records/s, fetcher 10; steady state 0.200 ms/record (median of 3 pairs)"
    assert rows[1]["note"] == "peak RSS 90 MB at 2,000 contacts, 99 MB at 20,000: x1.10"
    assert (rows[2]["calls"], rows[2]["records_read"]) == (70, 11)


def test_given_two_runs_then_the_history_has_one_header_and_their_rows_with_floats_to_three_places(tmp_path: Path):
    path = tmp_path / "history.csv"
    bench.append_history(path, bench.history_rows(results(rate_limited=rate_result(50.0)), "abc1234"))
    bench.append_history(path, bench.history_rows(results(wide_rate=wide_result()), "def5678"))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert path.read_text().count("utc,commit,") == 1
    assert [(r["commit"], r["workload"], r["variant"]) for r in rows] == [
        ("abc1234", "rate", ""), ("def5678", "wide-rate", "c-caster"), ("def5678", "wide-rate", "python-caster")]
    assert (rows[0]["wall_over_floor"], rows[0]["cpu_ms_per_record"]) == ("1.250", "")


def test_given_a_baseline_then_rows_of_the_same_workload_variant_and_size_are_compared_by_wall_over_floor():
    baseline = bench.baseline_entries({**results(wide_rate=wide_result()), "cpu_count": 2, "commit": "old1234"})
    assert set(baseline) == {"wide-rate"}
    against = [row for entry in baseline.values() for row in bench.history_rows(entry, entry["commit"])]
    now = bench.history_rows(results(wide_rate=wide_result(), rate_limited=rate_result(50.0)), "new5678")
    lines = bench.baseline_lines(now, against)
    assert len(lines) == 2  # the rate row has no baseline
    assert "wide-rate c-caster" in lines[0] and "x1.50, baseline x1.50 (old1234, 2026-12-06T10:00:00Z)" in lines[0]
    small = bench.history_rows({**results(wide_rate=wide_result()), "size": "small"}, "new5678")
    assert bench.baseline_lines(small, against) == []


def test_the_committed_history_and_baseline_are_in_the_current_shape():
    with open(REPO / "benchmarks" / "results" / "history.csv", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == bench.HISTORY_COLUMNS
    assert rows and all(r["workload"] in bench.WORKLOADS and r["utc"] and r["source"] for r in rows)
    baseline = bench.json.loads((REPO / "benchmarks" / "results" / "baseline.json").read_text())
    for name, entry in baseline["workloads"].items():
        assert bench.WORKLOADS[name] in entry
        assert [r["workload"] for r in bench.history_rows(entry, entry["commit"])][:1] == [name]


def test_given_a_read_measured_beside_the_sandbox_then_its_row_notes_the_sandbox_cpu_and_the_load():
    run = rate_result(50.0, sandbox_cpu_s=40.04, load_1min_at_start=3.26)
    (row,) = bench.history_rows(results(rate_limited=run), "abc1234")
    assert row["note"] == "sandbox CPU 40.0 s; load 3.3 at start"


def test_given_several_pairs_then_the_caster_read_first_alternates():
    assert [bench.caster_order(pair) for pair in range(3)] == [
        ["c-caster", "python-caster"], ["python-caster", "c-caster"], ["c-caster", "python-caster"]]


# ---------------------------------------------------------------------------------------------------------------- contacts-heavy
def heavy_config(name: str, size: str = "full") -> Any:
    """The sandbox's configuration as the heavy workload's command line gives it."""
    from sandbox.server import config_from_args
    return config_from_args(bench.heavy_sandbox_args(name, size))


@pytest.mark.parametrize("size", ["full", "small"])
def test_given_the_heavy_sizes_then_contacts_are_nearly_nine_records_in_ten(size: str):
    records = bench.heavy_records(size)
    share = records["contacts"] / sum(records.values())
    assert 0.85 <= share <= 0.95
    assert {t: records[t] for t in ("calls", "emails", "meetings", "notes", "tasks")} == dict.fromkeys(
        ("calls", "emails", "meetings", "notes", "tasks"), bench.HEAVY_SIZES[size]["activities"] // 5)


def test_given_the_full_heavy_size_then_it_holds_the_portal_the_workloads_describe():
    assert bench.heavy_records("full") == {"contacts": 180_000, "companies": 10_000, "deals": 5_000, "tickets": 2_000,
                                           "calls": 2_000, "emails": 2_000, "meetings": 2_000, "notes": 2_000,
                                           "tasks": 2_000}
    small, full = bench.heavy_records("small"), bench.heavy_records("full")
    assert all(small[t] * 10 <= full[t] for t in full)  # the smoke check reads a tenth or less


def test_given_the_heavy_catalog_then_it_holds_every_object_stream_rate_reads_and_the_usual_analyst_tables():
    assert bench.HEAVY_STREAMS[:len(bench.STREAMS)] == list(bench.STREAMS)
    analyst = bench.HEAVY_STREAMS[len(bench.STREAMS):]
    assert set(analyst) <= set(bench.ANALYST_STREAMS) and "association_links" in analyst
    assert not [s for s in analyst if s.endswith("_property_history")]


@pytest.mark.parametrize("name, latency, spread, described", [
    ("heavy", 100, 0.5, "50-150 ms latency"),
    ("heavy-slow", 300, 1 / 3, "200-400 ms latency"),
    ("heavy-wide", 100, 0.5, "50-150 ms latency, 300 custom contact properties"),
])
def test_given_a_heavy_workload_then_its_sandbox_has_professional_limits_its_latency_and_a_timeline(
        name: str, latency: float, spread: float, described: str):
    cfg = heavy_config(name)
    assert (cfg.general_rate, cfg.search_rate) == (190, 5)
    assert cfg.latency_ms == latency and cfg.latency_spread == pytest.approx(spread, abs=1e-4)
    assert cfg.timeline is True
    assert {t: cfg.records_of(t) for t in bench.heavy_records("full")} == bench.heavy_records("full")
    assert bench.HEAVY_WORKLOADS[name].describe() == f"190 calls / 10 s, search 5 / s, {described}"


def test_given_the_wide_heavy_workload_then_only_contacts_get_300_custom_properties():
    from sandbox.data import Store
    cfg = heavy_config("heavy-wide", "small")
    assert (cfg.custom_properties, cfg.custom_properties_types) == (300, ["contacts"])
    assert heavy_config("heavy").custom_properties_types is None
    store = Store(seed=1, counts={"contacts": 3, "deals": 3}, custom_properties=cfg.custom_properties,
                  custom_properties_types=cfg.custom_properties_types)
    custom = {t: sum(1 for p in store.schemas[t].specs if p.name.startswith("custom_prop_")) for t in ("contacts", "deals")}
    assert custom == {"contacts": 300, "deals": 20}


def test_given_the_analyst_tables_rows_then_their_minimum_is_pages_and_batches_of_each_budget():
    minimum = bench.analyst_minimum(owners=(620, 4), from_records={"companies": 1_001, "deals": 0, "calls": 200},
                                    link_lists=[650, 1_200, 500, 3], survivors={"contacts": 401, "deals": 1})
    # owners 2 + 1, pipelines 2; links: companies 2 batches x 1 target, calls 1 x 4, further pages 1 + 2
    assert minimum["general"] == 3 + 2 + 2 + 4 + 3
    # links: 6 + 1 (an empty object still costs a search) + 1; merges: 3 + 1 + 1 + 1
    assert minimum["search"] == 8 + 6


def test_given_calls_of_the_analyst_tables_then_the_floor_grows_and_without_them_it_is_the_rate_floor():
    records = bench.heavy_records("full")
    plain, _ = bench.floor_seconds(records, 19.0, 5.0)
    assert bench.floor_seconds(records, 19.0, 5.0, 0, 0)[0] == plain
    more_general, _ = bench.floor_seconds(records, 19.0, 5.0, 0, 190)
    more_search, extra = bench.floor_seconds(records, 19.0, 5.0, 50, 0)
    assert plain < more_general and plain < more_search
    assert extra["search_only_floor_s"] == pytest.approx((sum(records.values()) / 200 + 50) / 5)


def test_given_a_timeline_then_each_reader_has_its_calls_span_concurrency_and_gaps_and_each_bucket_its_calls():
    timeline = [[0.0, 0.1, "GET /crm/v3/properties/contacts", 200],
                [0.2, 0.1, "GET /crm/v3/objects/contacts", 200], [0.4, 0.1, "GET /crm/v3/objects/contacts", 200],
                [0.2, 0.3, "POST /crm/v3/objects/contacts/search", 200],
                [0.3, 0.1, "POST /crm/v3/objects/contacts/search", 429],
                [10.5, 0.5, "POST /crm/v4/associations/contacts/companies/batch/read", 200],
                [10.6, 0.2, "GET /crm/v3/owners", 200]]
    where = bench.where_the_time_went(timeline)
    assert where["run_s"] == pytest.approx(11.0)
    listed, searched = where["readers"]["contacts list"], where["readers"]["contacts search"]
    assert (listed["calls"], listed["most_in_flight"], listed["http_429"]) == (2, 1, 0)
    assert listed["mean_gap_s"] == pytest.approx(0.1) and listed["mean_call_s"] == pytest.approx(0.1)
    assert (searched["calls"], searched["most_in_flight"], searched["http_429"]) == (2, 2, 1)
    assert set(where["readers"]) == {"properties", "contacts list", "contacts search", "contacts associations", "other"}
    assert [(b["general"], b["search"], b["http_429"]) for b in where["buckets"]] == [(3, 1, 1), (2, 0, 0)]
    assert where["search_in_flight_share"] == pytest.approx(0.3 / 11.0)


def test_given_heavy_runs_then_each_is_a_row_named_for_its_workload():
    rows = bench.history_rows(results(heavy=rate_result(200.0), heavy_wide=rate_result(300.0, complete=False)), "abc1234")
    assert [(r["workload"], r["wall_s"]) for r in rows] == [("heavy", 200.0), ("heavy-wide", 300.0)]
    assert rows[1]["note"] == "incomplete"
    assert set(bench.HEAVY_WORKLOADS) <= set(bench.WORKLOADS)


def test_given_a_discover_run_then_its_row_holds_wall_calls_and_the_calls_per_object_type():
    discovered = {"wall_s": 3.2, "exit_code": 0, "target_s": 5.0, "load_1min_at_start": 1.5,
                  "wall_without_custom_objects_s": 2.9, "calls_without_custom_objects": 10, "cpu_s": 2.1,
                  "cpu_without_custom_objects_s": 1.8, "custom_objects": 20,
                  "object_types": 29, "streams": 38, "custom_streams": 20, "calls": 11, "calls_per_object_type": 11 / 29,
                  "custom_calls": 1, "custom_calls_per_custom_object": 0.05, "rate_limited_429": 0}
    (row,) = bench.history_rows(results(discover=discovered), "abc1234")
    assert row["workload"] == "discover" and (row["wall_s"], row["calls"], row["http_429"]) == (3.2, 11, 0)
    assert "0.38 calls per object type" in row["note"] and "0.05 per custom object" in row["note"]
    assert "MISSED" not in row["note"] and "without custom objects 2.90 s" in row["note"]
