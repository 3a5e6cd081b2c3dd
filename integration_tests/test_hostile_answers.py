"""HubSpot's hostile but legal answers, served by the sandbox's quirks (sandbox/quirks.py): the connector reads
every record exactly once, or fails loudly; it never ends `completed` with records missing."""

from __future__ import annotations

from typing import List

import pytest

from testkit.harness import Run, Sandbox, configured_catalog, run_connector

STREAMS = ["contacts", "companies", "deals"]


def _ids(run: Run, stream: str) -> List[str]:
    return [r["id"] for r in run.records.get(stream, [])]


def _report(run: Run, stream: str) -> str:
    lines = [m["log"]["message"] for m in run.messages if m.get("type") == "LOG" and
             m["log"]["message"].startswith(f"sync report {stream}:")]
    return lines[-1] if lines else ""


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox("--seed", "31", "--contacts", "1200", "--companies", "150", "--deals", "150", "--tickets", "20",
                 "--search-rate", "0") as sb:
        yield sb


@pytest.fixture(autouse=True)
def _no_quirks(sandbox):
    yield
    sandbox.configure(quirks=None)


def _assert_exact(sandbox: Sandbox, run: Run, streams: List[str], archived: str = "exclude") -> None:
    assert run.returncode == 0 and not run.errors, run.errors
    for stream in streams:
        emitted = _ids(run, stream)
        assert len(emitted) == len(set(emitted)), stream
        assert sorted(emitted) == sorted(sandbox.ids(stream, archived=archived)), stream
        assert "verified: " in _report(run, stream), _report(run, stream)


@pytest.mark.parametrize("first_sync_list_reads", [True, False])
def test_given_empty_and_short_pages_with_a_next_cursor_when_read_then_every_record_comes_once(sandbox, first_sync_list_reads):
    sandbox.configure(quirks={"seed": 3, "empty_pages": {"rate": 0.3}, "short_pages": {"rate": 0.3}})
    config = sandbox.private_app_config(first_sync_list_reads=first_sync_list_reads)
    run = run_connector("read", config, configured_catalog(STREAMS, incremental=True))
    _assert_exact(sandbox, run, STREAMS)
    quirks = sandbox.stats().get("quirks") or {}
    assert sum(quirks.values()) > 0, quirks  # the sandbox did serve them


def test_given_partial_association_answers_when_read_then_the_failed_ids_are_read_again_and_nothing_is_lost(sandbox):
    sandbox.configure(quirks={"seed": 4, "partial_batch_errors": {"rate": 0.2, "failures": 1, "on": ["associations"]}})
    catalog = configured_catalog(STREAMS, incremental=True)
    run = run_connector("read", sandbox.private_app_config(), catalog)
    _assert_exact(sandbox, run, STREAMS)
    assert sum((sandbox.stats().get("quirks") or {}).values()) > 0
    sandbox.configure(quirks=None)
    clean = run_connector("read", sandbox.private_app_config(), catalog)
    for stream in STREAMS:  # the same association ids as a read without partial answers
        links = {r["id"]: {k: sorted(v) for k, v in r.items() if isinstance(v, list)} for r in run.records[stream]}
        assert links == {r["id"]: {k: sorted(v) for k, v in r.items() if isinstance(v, list)} for r in clean.records[stream]}


def test_given_partial_batch_reads_of_a_wide_object_when_first_synced_then_the_failed_ids_are_read_again():
    # 600 properties do not fit a list URL: list pages carry ids and a batch read completes them.
    with Sandbox("--seed", "32", "--contacts", "400", "--companies", "5", "--deals", "5", "--tickets", "5",
                 "--custom-properties", "600", "--search-rate", "0") as wide:
        wide.configure(quirks={"seed": 8, "partial_batch_errors": {"rate": 0.2, "failures": 1, "on": ["objects"]}})
        run = run_connector("read", wide.private_app_config(), configured_catalog(["contacts"], incremental=True),
                            keep_fields=["id"])
        _assert_exact(wide, run, ["contacts"])
        assert sum((wide.stats().get("quirks") or {}).values()) > 0


def test_given_batch_answers_that_keep_failing_when_read_then_the_sync_fails_naming_the_ids(sandbox):
    sandbox.configure(quirks={"seed": 5, "partial_batch_errors": {"rate": 0.05, "failures": 1000, "on": ["associations"]}})
    config = sandbox.private_app_config(retry_backoff_factor=0.001)
    run = run_connector("read", config, configured_catalog(["companies"], incremental=True))
    assert run.returncode != 0
    message = " ".join(e["message"] for e in run.errors)
    assert "INTERNAL_ERROR" in message and "id(s)" in message
    assert "completed" not in _report(run, "companies")


def test_given_a_block_of_ids_the_list_serves_late_when_first_synced_then_every_record_comes_once(sandbox):
    sandbox.configure(quirks={"seed": 6, "list_disorder_block": {"share": 0.05}})
    run = run_connector("read", sandbox.private_app_config(), configured_catalog(["contacts"], incremental=True))
    _assert_exact(sandbox, run, ["contacts"])


def test_given_a_list_cursor_that_repeats_when_read_then_the_sync_fails_loudly_instead_of_duplicating(sandbox):
    sandbox.configure(quirks={"seed": 7, "repeat_cursor": {"after_pages": 2, "on": ["list"]}})
    run = run_connector("read", sandbox.private_app_config(), configured_catalog(["contacts"], incremental=True))
    emitted = _ids(run, "contacts")
    assert len(emitted) == len(set(emitted))
    if run.returncode == 0:  # search met the list before the loop: the read is complete and exact
        _assert_exact(sandbox, run, ["contacts"])
    else:
        assert "pointed back to a page already read" in " ".join(e["message"] for e in run.errors)


def test_given_records_dated_2099_when_synced_then_they_are_emitted_and_the_state_stays_at_the_sync_start(sandbox):
    changed = sandbox.mutate(type="deals", future_updated=2, seed=3)["future_updated"]
    catalog = configured_catalog(["deals"], incremental=True)
    first = run_connector("read", sandbox.private_app_config(), catalog)
    assert first.returncode == 0 and not first.errors, first.errors
    assert set(changed) <= set(_ids(first, "deals"))
    state = first.final_state()
    cursor = [s["stream"]["stream_state"]["updatedAt"] for s in state if s["stream"]["stream_descriptor"]["name"] == "deals"][0]
    assert not cursor.startswith("2099")
    updated = sandbox.mutate(type="deals", update=3, seed=4)["updated"]
    second = run_connector("read", sandbox.private_app_config(), catalog, state=state)
    assert second.returncode == 0 and set(updated) <= set(_ids(second, "deals"))
