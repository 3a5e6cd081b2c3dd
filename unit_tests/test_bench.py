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
