"""OAuth against the sandbox: short-lived tokens refreshed in time, a rotated refresh token persisted."""

from __future__ import annotations

from testkit.harness import Sandbox, configured_catalog, run_connector


def test_given_short_lived_rotating_tokens_when_read_then_complete_and_new_refresh_token_persisted():
    # 300 ms answers: the read lasts several 3-second token lifetimes.
    with Sandbox("--seed", "4", "--contacts", "6000", "--companies", "50", "--deals", "50", "--tickets", "50",
                 "--custom-properties", "20", "--token-ttl", "3", "--rotate-refresh-token", "--latency-ms", "300") as sandbox:
        run = run_connector("read", sandbox.oauth_config(), configured_catalog(["contacts", "companies"]))
        assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
        assert run.seconds > 9, f"the read took {run.seconds:.1f} s: too short to need a token refresh"
        ids = [r["id"] for r in run.records["contacts"]]
        assert len(ids) == len(set(ids)) and sorted(ids) == sorted(sandbox.ids("contacts"))
        assert sandbox.stats()["tokens_issued"] >= 2
        # With 3-second tokens, a request that waits in the search budget can reach HubSpot after its token
        # expired; each such 401 EXPIRED_AUTHENTICATION is refreshed once and retried (and no record is lost).
        print("status counts:", sandbox.stats()["status_counts"])
        controls = [m["control"] for m in run.of_type("CONTROL")]
        assert controls, "a rotated refresh token must be persisted with a CONTROL message"
        new_token = controls[-1]["connectorConfig"]["config"]["credentials"]["refresh_token"]
        assert new_token != "sandbox-refresh-token"
