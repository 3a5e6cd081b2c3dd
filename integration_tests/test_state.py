"""Saved states from this connector, from Airbyte's HubSpot source and from older shapes are read or migrated;
a state that cannot be read stops the sync with a clear message instead of being taken as empty."""

from __future__ import annotations

import pytest

from testkit.harness import (
    ENGAGEMENT_TYPES,
    Sandbox,
    configured_catalog,
    run_connector,
)

CUTOFF = "2024-06-01T10:00:00"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox("--seed", "23", "--contacts", "400", "--companies", "10", "--deals", "10", "--tickets", "10",
                 "--calls", "60", "--emails", "60", "--meetings", "60", "--notes", "60", "--tasks", "60") as sb:
        yield sb


def _state(stream, value):
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": value}}]


def _newer_than_cutoff(sandbox, object_types):
    return {i for t in object_types for i, r in sandbox.records(t).items() if r["updatedAt"] >= CUTOFF}


@pytest.mark.parametrize(
    "saved",
    [
        {"updatedAt": f"{CUTOFF}.000000Z"},  # Airbyte's HubSpot source and this connector
        {"updatedAt": f"{CUTOFF}Z"},
        {"updatedAt": 1717236000000},
        {"lastUpdated": 1717236000000},
        {"lastmodifieddate": f"{CUTOFF}.000Z"},
    ],
    ids=["airbyte", "iso-seconds", "epoch-ms", "lastUpdated", "modified-property"],
)
def test_given_a_known_state_shape_when_incremental_then_it_resumes_from_it(sandbox, saved):
    run = run_connector("read", sandbox.private_app_config(lookback_minutes=0),
                        configured_catalog(["contacts"], incremental=True), state=_state("contacts", saved))
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    emitted = {r["id"] for r in run.records["contacts"]}
    assert emitted == _newer_than_cutoff(sandbox, ["contacts"])
    assert set(run.final_state()[-1]["stream"]["stream_state"]) == {"updatedAt"}


def test_given_v1_engagements_state_when_unified_stream_reads_then_every_type_resumes_from_it(sandbox):
    run = run_connector("read", sandbox.private_app_config(lookback_minutes=0),
                        configured_catalog(["engagements"], incremental=True),
                        state=_state("engagements", {"lastUpdated": 1717236000000}))
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    assert {r["id"] for r in run.records["engagements"]} == _newer_than_cutoff(sandbox, ENGAGEMENT_TYPES)


@pytest.mark.parametrize("saved", [{"updatedAt": "not a date"}, {"cursor": 5}], ids=["bad-value", "unknown-keys"])
def test_given_an_unreadable_state_when_read_then_it_fails_saying_how_to_fix_it(sandbox, saved):
    run = run_connector("read", sandbox.private_app_config(), configured_catalog(["contacts"], incremental=True),
                        state=_state("contacts", saved))
    assert run.returncode != 0 and not run.records.get("contacts")
    message = run.errors[0]["message"]
    assert "saved state of stream contacts" in message and "Reset the stream" in message
    assert run.errors[0]["failure_type"] == "config_error"
