"""A token without some objects' scopes: check, discover and read do what they can and say what they left out."""

from __future__ import annotations

from testkit.harness import (
    ALL_STREAMS,
    ANALYST_STREAMS,
    STREAM_OBJECTS,
    Sandbox,
    configured_catalog,
    run_connector,
)


def _warnings(run):
    return [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] in ("WARN", "WARNING")]


def test_given_token_without_deals_and_tickets_scopes_when_discover_and_read_then_the_rest_is_complete():
    with Sandbox("--seed", "17", "--contacts", "300", "--companies", "30", "--deals", "30", "--tickets", "30",
                 "--calls", "40", "--emails", "40", "--meetings", "40", "--notes", "40", "--tasks", "40",
                 "--scopes", "crm.objects.contacts.read,crm.objects.companies.read") as sandbox:
        config = sandbox.private_app_config(start_date="2021-06-01T00:00:00Z")

        check = run_connector("check", config)
        assert check.of_type("CONNECTION_STATUS")[-1]["connectionStatus"]["status"] == "SUCCEEDED"

        discover = run_connector("discover", config)
        assert discover.returncode == 0 and not discover.errors
        # The analyst tables' scopes are tested in test_analyst_tables.py.
        names = [s["name"] for s in discover.of_type("CATALOG")[0]["catalog"]["streams"] if s["name"] not in ANALYST_STREAMS]
        # communications and postal mail are read with the contacts scope, as activities
        assert sorted(names) == sorted([*(s for s in ALL_STREAMS if s not in ("deals", "tickets")), "communications",
                                        "postal_mail"])
        left_out = " ".join(_warnings(discover))
        assert "deals" in left_out and "crm.objects.deals.read" in left_out
        assert "tickets" in left_out and "scope(s) tickets" in left_out

        read = run_connector("read", config, configured_catalog(names))
        assert read.returncode == 0 and not read.errors, [e["message"] for e in read.errors]
        for stream in names:
            expected = {i for object_type in STREAM_OBJECTS[stream] for i in sandbox.ids(object_type)}
            assert {r["id"] for r in read.records.get(stream, [])} == expected, stream
        contacts = read.records["contacts"]
        assert all("deals" not in r and "tickets" not in r and "companies" in r for r in contacts)
        said = " ".join(_warnings(read))
        assert "without their 'deals' association ids" in said and "crm.objects.deals.read" in said


def test_given_token_without_contacts_scope_when_check_then_it_names_the_scope():
    with Sandbox("--contacts", "50", "--companies", "10", "--deals", "10", "--tickets", "10",
                 "--scopes", "crm.objects.companies.read") as sandbox:
        check = run_connector("check", sandbox.private_app_config())
        status = check.of_type("CONNECTION_STATUS")[-1]["connectionStatus"]
        assert status["status"] == "FAILED" and "crm.objects.contacts.read" in status["message"]
