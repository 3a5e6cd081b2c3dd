"""Per-type activity streams (calls, emails, meetings, notes, tasks) against the sandbox."""

from __future__ import annotations

import pytest

from integration_tests.harness import ENGAGEMENT_STREAMS, STREAM_OBJECT, Sandbox, configured_catalog, run_connector


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox("--seed", "31", "--contacts", "300", "--companies", "50", "--deals", "50", "--tickets", "50",
                 "--calls", "2400", "--emails", "2000", "--meetings", "2000", "--notes", "2000", "--tasks", "2000",
                 "--custom-properties", "10", "--search-rate", "5") as sb:
        yield sb


def test_given_10000_activities_when_full_refresh_then_each_exactly_once_with_associations(sandbox):
    run = run_connector("read", sandbox.private_app_config(), configured_catalog(ENGAGEMENT_STREAMS))
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    total = 0
    for stream in ENGAGEMENT_STREAMS:
        object_type = STREAM_OBJECT[stream]
        records = run.records.get(stream, [])
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)) and sorted(ids) == sorted(sandbox.ids(object_type)), stream
        truth = sandbox.records(object_type)
        for record in records:
            assert "hs_timestamp" in record["properties"]
            for to_type in ("contacts", "companies", "deals", "tickets"):
                assert sorted(record[to_type]) == sorted(truth[record["id"]]["associations"].get(to_type, []))
        total += len(ids)
    assert total >= 10000


def test_given_updated_activities_when_incremental_then_all_changes_emitted(sandbox):
    config = sandbox.private_app_config()
    catalog = configured_catalog(ENGAGEMENT_STREAMS, incremental=True)
    first = run_connector("read", config, catalog)
    assert first.returncode == 0 and not first.errors
    changed = {stream: sandbox.mutate(type=STREAM_OBJECT[stream], update=15, create=5) for stream in ENGAGEMENT_STREAMS}
    second = run_connector("read", config, catalog, state=first.final_state())
    assert second.returncode == 0 and not second.errors
    for stream, change in changed.items():
        emitted = {r["id"] for r in second.records.get(stream, [])}
        assert set(change["updated"]) | set(change["created"]) <= emitted, stream
