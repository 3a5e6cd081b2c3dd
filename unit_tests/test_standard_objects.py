"""HubSpot's other standard objects (source_hubspot/objects.py, STANDARD_OBJECTS): each is one registry row and one
stream entry, keeps Airbyte's stream name where Airbyte has the object, and a portal that does not serve one (its
plan, an object not activated) loses that stream from discover with a warning, not the whole catalog."""

from __future__ import annotations

import re

import pytest

from source_hubspot import objects
from source_hubspot.source import load_manifest
from testkit.connector import private_app_config, run_discover
from testkit.mock_server import API, deal_splits_batch, missing_scopes, mock_no_custom_objects, properties_body, validation_error

CORE = {"contacts", "companies", "deals", "tickets"}
# Airbyte's HubSpot source's names for the objects it has (a drop-in keeps them).
AIRBYTE_NAMES = {"products": "products", "line_items": "line_items", "quotes": "quotes", "leads": "leads",
                 "goal_targets": "goals", "feedback_submissions": "feedback_submissions", "orders": "orders",
                 "invoices": "invoices", "commerce_payments": "commerce_payments"}


def _warnings(output) -> str:
    return " ".join(m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING"))


def test_given_the_standard_objects_then_each_is_an_optional_registry_entry_with_one_stream_entry():
    definitions = load_manifest()["definitions"]
    streams = [entry["$ref"].rsplit("/", 1)[-1] for entry in load_manifest()["streams"]]
    for name, type_id, _, stream, scope, associations, _ in objects.STANDARD_OBJECTS:
        entry = objects.object_type(name)
        assert entry.optional and entry.type_id == type_id and entry.scope == scope, name
        assert entry.modified_property == "hs_lastmodifieddate", name
        assert set(associations) <= CORE, name
        definition = definitions[f"{stream}_stream"]
        assert definition["$parameters"] == {"name": stream, "object_type": name}
        assert streams.count(f"{stream}_stream") == 1, stream
    names = [definitions[ref].get("name") for ref in streams]
    assert len(names) == len(set(names)), "two stream entries share a name"


def test_given_an_object_airbyte_has_then_the_stream_keeps_airbytes_name_else_hubspots():
    for name, _, _, stream, *_ in objects.STANDARD_OBJECTS:
        assert stream == AIRBYTE_NAMES.get(name, name), name


def test_given_optional_types_not_in_the_catalog_then_association_links_reads_none_of_their_pairs():
    targets = objects.link_targets()
    optional = {entry.name for entry in objects.OBJECT_TYPES.values() if entry.optional}
    assert optional and not optional & (set(targets) | {t for ts in targets.values() for t in ts})
    assert targets["companies"] == ["contacts"] and targets["tickets"] == ["contacts", "companies", "deals"]  # as before
    assert objects.link_targets({"contacts", "association_links"}) == targets


def test_given_an_optional_type_in_the_catalog_then_association_links_reads_its_pairs_and_no_others_change():
    shipped = objects.link_targets()
    chosen = objects.link_targets({"line_items", "quotes", "association_links"})
    assert chosen["line_items"] == ["deals"] and chosen["quotes"] == ["contacts", "companies", "deals"]
    assert {k: v for k, v in chosen.items() if k not in ("line_items", "quotes")} == shipped


@pytest.mark.parametrize("status, body", [(403, {"status": "error", "category": "FORBIDDEN",
                                                 "message": "This portal does not have access to listings"}),
                                          (400, validation_error("Object type 0-420 is not enabled for this portal"))],
                         ids=["403-not-on-the-plan", "400-not-activated"])
def test_given_a_portal_that_does_not_serve_an_optional_object_when_discover_then_only_its_stream_is_left_out(requests_mock, status, body):
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body([("name", "string")]))
    requests_mock.get(f"{API}/crm/v3/properties/listings", status_code=status, json=body)
    requests_mock.get(f"{API}/crm/v3/properties/quotes", status_code=403, json=missing_scopes("crm.objects.quotes.read"))
    requests_mock.get(f"{API}/crm/v3/owners", json={"results": []})
    requests_mock.post(f"{API}/crm/v3/objects/deals/splits/batch/read", json=deal_splits_batch([]))
    mock_no_custom_objects(requests_mock)

    output = run_discover(private_app_config())

    names = {s.name for s in output.catalog.catalog.streams}
    assert "listings" not in names and "quotes" not in names
    assert {"contacts", "products", "line_items", "goals", "users", "association_links"} <= names
    said = _warnings(output)
    assert "HubSpot does not serve this object to the account" in said and "listings: HubSpot" in said
    assert "quotes: HubSpot denied the request because the token lacks the scope(s) crm.objects.quotes.read" in said
    assert "left out 2: quotes, listings" in said or "left out 2: listings, quotes" in said


def test_given_a_core_object_refused_the_same_way_when_discover_then_discover_fails(requests_mock):
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body([("name", "string")]))
    requests_mock.get(f"{API}/crm/v3/properties/deals", status_code=400, json=validation_error("Invalid object type"))
    requests_mock.get(f"{API}/crm/v3/owners", json={"results": []})
    requests_mock.post(f"{API}/crm/v3/objects/deals/splits/batch/read", json=deal_splits_batch([]))
    mock_no_custom_objects(requests_mock)

    output = run_discover(private_app_config(), expecting_exception=True)

    assert output.errors and "HubSpot rejected a request as invalid" in output.errors[-1].trace.error.message
