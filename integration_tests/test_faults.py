"""A bad night on HubSpot's side: server errors, dropped connections, slow answers, 429 bursts and tokens that
expire every 20 s. Full and incremental syncs of every stream must still emit every record."""

from __future__ import annotations

import json

import pytest

from testkit.harness import (
    ALL_STREAMS,
    STREAM_OBJECTS,
    Sandbox,
    configured_catalog,
    run_connector,
)

FAULTS = {
    "error_rate": 0.05,  # 500/502 (HTML)/503/504
    "reset_rate": 0.01,  # connection closed without an answer
    "timeout_rate": 0.01,  # a slow answer
    "timeout_seconds": 2,
    "rate_limit_burst": {"every": 60, "length": 4, "headers": True},
    "seed": 3,
}


def _expected(sandbox, stream):
    return {i for object_type in STREAM_OBJECTS[stream] for i in sandbox.ids(object_type)}


@pytest.mark.parametrize("rate_limit_headers", [True, False], ids=["429-with-headers", "429-without-headers"])
def test_given_faults_and_expiring_tokens_when_full_then_incremental_sync_then_every_record_arrives(rate_limit_headers):
    with Sandbox("--seed", "13", "--contacts", "1500", "--companies", "150", "--deals", "150", "--tickets", "100",
                 "--calls", "120", "--emails", "120", "--meetings", "120", "--notes", "120", "--tasks", "120",
                 "--custom-properties", "15", "--token-ttl", "20") as sandbox:
        faults = dict(FAULTS, rate_limit_burst=dict(FAULTS["rate_limit_burst"], headers=rate_limit_headers))
        sandbox.configure(faults=faults)
        config = sandbox.oauth_config(start_date="2021-06-01T00:00:00Z")
        catalog = configured_catalog(ALL_STREAMS, incremental=True)

        full = run_connector("read", config, catalog)
        assert full.returncode == 0 and not full.errors, [e["message"] for e in full.errors]
        table = {}
        for stream in ALL_STREAMS:
            ids = [r["id"] for r in full.records.get(stream, [])]
            expected = _expected(sandbox, stream)
            assert set(ids) == expected, stream
            table[stream] = {"expected": len(expected), "emitted": len(ids), "duplicated": len(ids) - len(set(ids))}
        faults_seen = sandbox.stats()["status_counts"]

        changes = {t: sandbox.mutate(type=t, update=10, create=5) for t in ("contacts", "deals", "calls", "notes")}
        incremental = run_connector("read", config, catalog, state=full.final_state())
        assert incremental.returncode == 0 and not incremental.errors, [e["message"] for e in incremental.errors]
        for stream in ALL_STREAMS:
            emitted = {r["id"] for r in incremental.records.get(stream, [])}
            for object_type in STREAM_OBJECTS[stream]:
                if object_type in changes:
                    assert set(changes[object_type]["updated"]) | set(changes[object_type]["created"]) <= emitted
        print("fault table (full refresh):", json.dumps(table))
        print("answers the sandbox gave:", json.dumps(sandbox.stats()["status_counts"]), "after full:", faults_seen)
