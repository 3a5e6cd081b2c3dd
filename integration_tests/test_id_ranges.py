"""First syncs of large objects read by ranges of ids (source_hubspot/id_ranges.py), against the sandbox.

HubSpot documents the list's `after` as opaque; that a list started at an id gives the records from that id up is
observed. The sandbox answers such a start as HubSpot does, or reads it as "past this id", refuses it, ignores it,
or reads it as an offset (`list_after`): every way, each record is emitted once, and a way that does not hold is
said in one warning."""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List

import pytest

from source_hubspot.paths import api_paths
from testkit.harness import Run, Sandbox, configured_catalog, run_connector

API = api_paths({})  # the sandbox configs set no api_version: the default's paths

# More contacts than id_ranges.LARGE_WINDOW, few properties: a read takes about ten seconds.
PORTAL = ("--seed", "7", "--contacts", "52000", "--companies", "40", "--deals", "20", "--tickets", "5", "--calls", "5",
          "--emails", "5", "--meetings", "5", "--notes", "5", "--tasks", "5", "--custom-properties", "4")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(*PORTAL) as running:
        yield running


def _warnings(run: Run) -> List[str]:
    return [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]


@pytest.mark.parametrize("list_after", ["id", "exclusive", "rejected", "ignored", "offset"])
def test_given_a_large_object_when_first_synced_by_ranges_then_every_record_comes_once(sandbox, list_after):
    sandbox.configure(list_after=list_after)
    sandbox.reset_stats()
    run = run_connector("read", sandbox.private_app_config(), configured_catalog(["contacts"], incremental=True),
                        keep_fields=["id", "companies"], keep_full=0)
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    ids = [r["id"] for r in run.records["contacts"]]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} records emitted twice"
    assert sorted(ids) == sorted(sandbox.ids("contacts"))
    logs = [m["log"]["message"] for m in run.of_type("LOG")]
    assert any("ranges of ids read by" in line for line in logs)
    fallbacks = [w for w in _warnings(run) if "by ranges of ids did not hold" in w]
    if list_after in ("id", "exclusive"):  # from an id, or past it: either way the ranges hold
        assert not fallbacks
        requests = sandbox.stats()["requests"]
        read = re.search(r"(\d+) records by list \((\d+) calls\), (\d+) by search", "\n".join(logs))
        by_list, by_search = int(read.group(1)), int(read.group(3))
        # Several list readers at once: every list page read once, give or take one per range boundary.
        list_calls = requests.get(f"GET {API['objects']}/contacts", 0)
        assert by_list > 0 and math.ceil(by_list / 100) <= list_calls <= by_list / 100 + 20
        # The search ranges' records go to association batch reads in whole batches of 1,000 ids, however their
        # pages and ranges cut them: one part-filled batch per association type in the whole window, and one v4
        # read that checks a list page's inline associations (the other list readers wait for its verdict).
        for to_type in ("companies", "deals", "tickets"):
            batches = requests.get(f"POST {API['associations']}/contacts/{to_type}/batch/read", 0)
            assert batches == math.ceil(by_search / 1000) + 1, (to_type, batches, by_search)
    else:
        assert len(fallbacks) == 1, fallbacks


def _read_with_quirks(sandbox: Sandbox, quirks: Dict[str, Any]) -> Run:
    """A read of contacts (HubSpot's list start) with these sandbox quirks on: every contact must come once."""
    sandbox.configure(list_after="id", quirks=quirks)
    try:
        run = run_connector("read", sandbox.private_app_config(), configured_catalog(["contacts"], incremental=True),
                            keep_fields=["id"])
    finally:
        sandbox.configure(quirks={})
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    ids = [r["id"] for r in run.records["contacts"]]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(sandbox.ids("contacts"))
    return run


def test_given_list_pages_out_of_order_when_first_synced_by_ranges_then_the_window_is_read_again_exactly(sandbox):
    run = _read_with_quirks(sandbox, {"list_disorder_block": {"share": 0.03}, "empty_pages": {"rate": 0.05}})
    assert len([w for w in _warnings(run) if "did not hold" in w]) == 1, _warnings(run)


def test_given_empty_and_short_list_pages_with_cursors_when_read_by_ranges_then_the_ranges_hold_and_none_is_lost(sandbox):
    run = _read_with_quirks(sandbox, {"empty_pages": {"rate": 0.1, "on": ["list", "search"]},
                                      "short_pages": {"rate": 0.1, "on": ["list", "search"]}})
    assert not [w for w in _warnings(run) if "did not hold" in w], _warnings(run)


def test_given_deletes_on_request_when_a_large_object_is_first_synced_by_ranges_then_each_archived_record_comes_once(sandbox):
    sandbox.configure(list_after="id")
    archived = set(sandbox.ids("contacts", archived="include")) - set(sandbox.ids("contacts"))
    assert archived, "the sandbox holds archived contacts"
    run = run_connector("read", sandbox.private_app_config(include_archived=True),
                        configured_catalog(["contacts"], incremental=True), keep_fields=["id", "archived"], keep_full=0)
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    ids = [r["id"] for r in run.records["contacts"]]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} records emitted twice"
    assert sorted(ids) == sorted(sandbox.ids("contacts", archived="include"))
    assert {r["id"] for r in run.records["contacts"] if r.get("archived")} == archived
