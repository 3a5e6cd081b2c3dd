"""The proactive rate budget: with HubSpot's general limit set on the sandbox and the same figure in the config,
a full sync of every stream gets (almost) no 429."""

from __future__ import annotations

from testkit.harness import ALL_STREAMS, STREAM_OBJECTS, Sandbox, configured_catalog, run_connector


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


def _logs(run):
    return [m["log"]["message"] for m in run.of_type("LOG")]


def _read_with_plan_setting(general_rate: int, **setting):
    with Sandbox("--seed", "31", "--contacts", "900", "--companies", "60", "--deals", "60", "--tickets", "20",
                 "--general-rate", str(general_rate), "--search-rate", "5") as sandbox:
        config = sandbox.private_app_config(start_date="2021-06-01T00:00:00Z")
        config.pop("calls_per_10_seconds")
        config.update(setting)
        run = run_connector("read", config, configured_catalog(["contacts", "companies"]))
        assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
        for stream in ("contacts", "companies"):
            assert {r["id"] for r in run.records[stream]} == set(sandbox.ids(stream))
        stats = sandbox.stats()
        print("calls:", stats["total"], "429s:", stats.get("rate_limited"), f"seconds={run.seconds:.1f}")
        return run, stats


def test_given_plan_limit_above_hubspots_when_full_sync_then_headers_lower_the_pace():
    # Configured 1,000 calls per 10 s on an app HubSpot allows 30: the X-HubSpot-RateLimit-Max header wins.
    run, stats = _read_with_plan_setting(30, calls_per_10_seconds=1000)
    rejected = stats["status_counts"].get("429", 0)
    # Only the calls already in flight when the first answer arrives can overshoot.
    assert rejected <= 6, stats["rate_limited"]
    assert any("HubSpot allows this app 30 calls per 10 s" in m for m in _logs(run)), "no log of the correction"


def test_given_no_plan_setting_when_hubspot_allows_more_then_headers_raise_the_pace():
    # No calls_per_10_seconds: the connector starts at 100 and follows HubSpot's figure, here 300.
    run, stats = _read_with_plan_setting(300)
    assert stats["status_counts"].get("429", 0) == 0, stats["rate_limited"]
    assert any("HubSpot allows this app 300 calls per 10 s" in m for m in _logs(run))
