"""The same reads on both of HubSpot's path families (`api_version`: v3's numbered paths or a date version), against
the sandbox, which serves both forms of every path with the same data (sandbox/versions.py)."""

from __future__ import annotations

import re
from typing import Dict, List

import pytest

from source_hubspot import objects
from source_hubspot.paths import family_of
from testkit.harness import ALL_STREAMS, ANALYST_STREAMS, CRM_STREAMS, Run, Sandbox, configured_catalog, run_connector

# The main streams, an engagement stream, and the association id arrays each carries.
STREAMS = CRM_STREAMS + ["engagements_calls"]
OBJECT_OF = {**{name: name for name in CRM_STREAMS}, "engagements_calls": "calls"}
ASSOCIATED = {**{name: list(objects.object_type(name).associations) for name in CRM_STREAMS},
              "engagements_calls": ["contacts", "companies", "deals", "tickets"]}
NUMBERED = re.compile(r"/v[0-9]+/")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox("--seed", "41", "--contacts", "450", "--companies", "80", "--deals", "60", "--tickets", "40",
                 "--calls", "120", "--emails", "20", "--meetings", "10", "--notes", "20", "--tasks", "10",
                 "--custom-properties", "6") as sb:
        yield sb


def _paths_called(sandbox: Sandbox) -> List[str]:
    return sorted({key.split(" ", 1)[1] for key in sandbox.stats()["requests"]})


def _assert_read_equals_sandbox(sandbox: Sandbox, run: Run, streams: List[str]) -> None:
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors] or run.stderr[-3000:]
    for stream in streams:
        records = run.records.get(stream, [])
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)), stream
        truth = sandbox.records(OBJECT_OF[stream])
        assert sorted(ids) == sorted(truth), stream
        for record in records:
            for to_type in ASSOCIATED[stream]:
                expected = truth[record["id"]].get("associations", {}).get(to_type, [])
                assert sorted(record[to_type]) == sorted(expected), (stream, record["id"], to_type)


def _changed_ids(change: Dict[str, List[str]]) -> set:
    return set(change["updated"]) | set(change["created"])


@pytest.mark.parametrize("api_version", ["v3", "2026-09"])
def test_given_api_version_when_full_refresh_then_incremental_then_same_records_from_its_own_paths(
    sandbox, api_version
):
    config = sandbox.oauth_config(api_version=api_version, start_date="2020-01-01T00:00:00Z", window_days=3650)
    sandbox.reset_stats()

    full = run_connector("read", config, configured_catalog(STREAMS))
    _assert_read_equals_sandbox(sandbox, full, STREAMS)
    first = run_connector("read", config, configured_catalog(STREAMS, incremental=True))
    _assert_read_equals_sandbox(sandbox, first, STREAMS)
    changes = {stream: sandbox.mutate(type=OBJECT_OF[stream], update=3, create=2) for stream in STREAMS}
    second = run_connector("read", config, configured_catalog(STREAMS, incremental=True), state=first.final_state())

    assert second.returncode == 0 and not second.errors, second.errors
    for stream, change in changes.items():
        emitted = [r["id"] for r in second.records.get(stream, [])]
        assert len(emitted) == len(set(emitted)) and _changed_ids(change) <= set(emitted), stream
        assert len(emitted) < len(sandbox.ids(OBJECT_OF[stream])), stream  # the changes, not every record again
    called = _paths_called(sandbox)
    assert called and all(family_of(path, at_start=True) is not None for path in called), called
    assert {family_of(path, at_start=True)[1] for path in called} == {api_version}, called  # type: ignore[index]
    assert any(path.startswith("/oauth/") for path in called), called  # the token came from this family too


def test_given_date_version_when_check_discover_and_read_every_stream_then_no_numbered_path_is_called(sandbox):
    config = sandbox.oauth_config(api_version="2026-09", start_date="2020-01-01T00:00:00Z", window_days=3650)
    sandbox.reset_stats()

    check = run_connector("check", config)
    discover = run_connector("discover", config)
    read = run_connector("read", config, configured_catalog(ALL_STREAMS + ANALYST_STREAMS, incremental=True))

    assert check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
    assert any("HubSpot API version 2026-09" in m["log"]["message"] for m in check.of_type("LOG"))
    streams = {s["name"] for s in discover.of_type("CATALOG")[0]["catalog"]["streams"]}
    assert set(ALL_STREAMS + ANALYST_STREAMS) <= streams
    assert read.returncode == 0 and not read.errors, [e["message"] for e in read.errors]
    assert all(read.records.get(stream) for stream in ALL_STREAMS + ANALYST_STREAMS)
    called = _paths_called(sandbox)
    assert [path for path in called if NUMBERED.search(path)] == []
    assert "/oauth/2026-09/token" in called and "/crm/owners/2026-09" in called
    assert any(path.startswith("/crm/pipelines/2026-09/") for path in called)
    assert any(path.startswith("/crm/properties/2026-09/") for path in called)
    assert any(path.startswith("/crm/associations/2026-09/") and path.endswith("/batch/read") for path in called)
