"""A portal of 25,000 contacts with 300 custom properties: every record exactly once, typed, with associations."""

from __future__ import annotations

import json

from testkit.harness import (
    CRM_STREAMS,
    Sandbox,
    configured_catalog,
    run_connector,
)


def test_given_25000_contacts_with_300_custom_properties_when_full_refresh_then_complete():
    with Sandbox("--seed", "99", "--contacts", "25000", "--companies", "1000", "--deals", "1000", "--tickets", "500",
                 "--custom-properties", "300", "--search-rate", "5") as sandbox:
        run = run_connector("read", sandbox.private_app_config(num_workers=4), configured_catalog(CRM_STREAMS),
                            keep_fields={"id", "contacts"}, keep_full=200)
        assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
        calls = sandbox.stats()["requests"]
        report = {}
        for stream in CRM_STREAMS:
            records = run.records.get(stream, [])
            ids = [r["id"] for r in records]
            assert len(ids) == len(set(ids)), f"{stream}: duplicates"
            assert sorted(ids) == sorted(sandbox.ids(stream)), f"{stream}: records missing"
            own = (f"/objects/{stream}", f"/associations/{stream}/", f"/properties/{stream}")
            stream_calls = sum(n for key, n in calls.items() if any(part in key for part in own))
            report[stream] = {"records": len(ids), "calls": stream_calls,
                              "calls_per_1000": round(1000 * stream_calls / max(len(ids), 1), 1)}
        contacts = run.records["contacts"]
        assert len(contacts[0]["properties"]) > 300
        typed = [v for r in contacts[:200] for v in r["properties"].values() if isinstance(v, (int, float, bool))]
        assert typed, "no typed values"
        truth = sandbox.records("companies")  # small: 1,000 companies
        for company in run.records["companies"]:
            assert sorted(company["contacts"]) == sorted(truth[company["id"]]["associations"].get("contacts", []))
        print("scale report:", json.dumps(report), f"seconds={run.seconds:.1f}", "status counts:",
              sandbox.stats()["status_counts"])
