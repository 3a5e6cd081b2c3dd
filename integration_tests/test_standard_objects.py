"""HubSpot's other standard objects (products, line items, quotes, leads, goals, commerce, appointments, ...): each is
discovered with its typed properties and association columns, read completely, read incrementally (a change after
the saved state comes back, and nothing else), and its deletes come back as archived records. One small portal holds
them all (sandbox/standard_objects.py, DEMO_COUNTS), beside a few core records for their associations."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest

from sandbox.standard_objects import DEMO_COUNTS
from source_hubspot.objects import object_type
from testkit.harness import STANDARD_STREAM_OBJECT, STANDARD_STREAMS, Sandbox, configured_catalog, run_connector

START = "2021-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    counts = [arg for name, n in DEMO_COUNTS.items() for arg in (f"--{name}", str(n))]
    with Sandbox("--seed", "61", "--contacts", "150", "--companies", "25", "--deals", "30", "--tickets", "15",
                 "--calls", "0", "--emails", "0", "--meetings", "0", "--notes", "0", "--tasks", "0",
                 "--custom-properties", "5", "--search-rate", "0", *counts) as running:
        yield running


def _catalog_streams(run: Any) -> Dict[str, Dict[str, Any]]:
    return {s["name"]: s for s in run.of_type("CATALOG")[0]["catalog"]["streams"]}


def _warnings(run: Any) -> str:
    return " ".join(m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] in ("WARN", "WARNING"))


def _ids(records: List[Dict[str, Any]]) -> List[str]:
    return [r["id"] for r in records]


def test_given_every_standard_object_when_discovered_then_each_stream_is_typed_incremental_and_carries_its_associations(sandbox):
    run = run_connector("discover", sandbox.private_app_config(start_date=START))

    assert run.returncode == 0 and not run.errors
    streams = _catalog_streams(run)
    for stream, name in STANDARD_STREAM_OBJECT.items():
        entry = object_type(name)
        discovered = streams[stream]
        columns = discovered["json_schema"]["properties"]
        assert discovered["supported_sync_modes"] == ["full_refresh", "incremental"], stream
        assert discovered["default_cursor_field"] == ["updatedAt"], stream
        assert columns[f"properties_{entry.modified_property}"].get("format") == "date-time", stream
        assert all(columns[to]["type"] == ["null", "array"] for to in entry.associations), stream
        assert not {"contacts", "companies", "deals", "tickets"} - set(entry.associations) & set(columns), stream
    assert streams["goals"]["json_schema"]["properties"]["properties_hs_target_amount"]["type"] == ["null", "number"]
    assert streams["line_items"]["json_schema"]["properties"]["properties_quantity"]["type"] == ["null", "number"]


def test_given_every_standard_object_when_read_in_full_then_every_record_comes_once_with_its_associations(sandbox):
    run = run_connector("read", sandbox.private_app_config(start_date=START), configured_catalog(STANDARD_STREAMS))

    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    for stream, name in STANDARD_STREAM_OBJECT.items():
        ids = _ids(run.records.get(stream, []))
        assert len(ids) == len(set(ids)), stream
        assert set(ids) == set(sandbox.ids(name)) and ids, stream
    line_items = run.records["line_items"]
    assert any(r["deals"] for r in line_items) and all(isinstance(r["deals"], list) for r in line_items)
    quotes = run.records["quotes"]
    assert all(r["properties"]["hs_title"] is not None for r in quotes)  # a built-in property HubSpot always sets


def test_given_saved_state_when_standard_objects_change_and_are_deleted_then_the_next_sync_reads_only_those(sandbox):
    config = sandbox.private_app_config(start_date=START, include_archived=True, lookback_minutes=0)
    catalog = configured_catalog(STANDARD_STREAMS, incremental=True)
    first = run_connector("read", config, catalog)
    assert first.returncode == 0 and not first.errors
    changed = {name: sandbox.mutate(type=name, update=2, archive=1, seed=f"std-{name}")
               for name in STANDARD_STREAM_OBJECT.values()}

    second = run_connector("read", config, catalog, state=first.final_state())

    assert second.returncode == 0 and not second.errors, [e["message"] for e in second.errors]
    for stream, name in STANDARD_STREAM_OBJECT.items():
        records = {r["id"]: r for r in second.records.get(stream, [])}
        updated, archived = set(changed[name].get("updated") or []), set(changed[name].get("archived") or [])
        assert updated and archived, (name, changed[name])
        assert updated | archived <= set(records), (stream, changed[name], sorted(records))
        assert all(records[i].get("archived") for i in archived), stream
        assert len(records) < len(first.records[stream]), f"{stream}: the second sync read everything again"


def test_given_a_token_without_the_quotes_and_commerce_scopes_when_discovered_then_those_streams_are_left_out_naming_the_scope(sandbox):
    every = {object_type(name).scope for name in STANDARD_STREAM_OBJECT.values()} | {
        "crm.objects.contacts.read", "crm.objects.companies.read", "crm.objects.deals.read", "tickets",
        "crm.objects.owners.read"}
    granted = sorted(every - {"crm.objects.quotes.read", "crm.objects.invoices.read"})
    sandbox.configure(scopes=granted)
    try:
        run = run_connector("discover", sandbox.private_app_config(start_date=START))
    finally:
        sandbox.configure(scopes=None)

    assert run.returncode == 0 and not run.errors
    streams = _catalog_streams(run)
    assert "quotes" not in streams and "invoices" not in streams
    assert {"orders", "line_items", "goals", "users"} <= set(streams)
    said = _warnings(run)
    assert "quotes" in said and "crm.objects.quotes.read" in said
    assert "invoices" in said and "crm.objects.invoices.read" in said


def test_given_line_items_in_the_catalog_when_association_links_read_then_their_pairs_are_rows_too(sandbox):
    from testkit.analyst_truth import links

    run = run_connector("read", sandbox.private_app_config(start_date=START),
                        configured_catalog(["line_items", "association_links"], incremental=True))

    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    rows = [(r["fromObjectType"], r["fromObjectId"], r["toObjectType"], r["toObjectId"], r["associationTypeId"])
            for r in run.records["association_links"]]
    assert len(rows) == len(set(rows))
    held = {row[:5] for row in links(sandbox, "line_items", "deals")}
    assert held and {row for row in rows if row[0] == "line_items"} == held
