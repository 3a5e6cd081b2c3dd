"""The proactive rate budget: with HubSpot's general limit set on the sandbox and the same figure in the config,
a full sync of every stream gets (almost) no 429."""

from __future__ import annotations

from integration_tests.harness import ALL_STREAMS, STREAM_OBJECTS, Sandbox, configured_catalog, run_connector


def test_given_plan_limit_in_config_when_full_sync_then_no_rate_limit_storm():
    with Sandbox("--seed", "29", "--contacts", "1200", "--companies", "100", "--deals", "100", "--tickets", "100",
                 "--calls", "60", "--emails", "60", "--meetings", "60", "--notes", "60", "--tasks", "60",
                 "--general-rate", "60", "--search-rate", "5") as sandbox:
        config = sandbox.private_app_config(start_date="2021-06-01T00:00:00Z", calls_per_10_seconds=60)
        run = run_connector("read", config, configured_catalog(ALL_STREAMS))
        assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
        for stream in ALL_STREAMS:
            expected = {i for t in STREAM_OBJECTS[stream] for i in sandbox.ids(t)}
            assert {r["id"] for r in run.records[stream]} == expected
        stats = sandbox.stats()
        rejected = stats["status_counts"].get("429", 0)
        print("calls:", stats["total"], "429s:", rejected, f"seconds={run.seconds:.1f}")
        assert rejected <= 0.01 * stats["total"] + 1, stats["status_counts"]
