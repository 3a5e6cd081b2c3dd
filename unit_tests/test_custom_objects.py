"""Custom objects with requests-mock: the naming rule, what discover and a read ask HubSpot's schemas API, the
streams and columns that come out, and the missing scope."""

from __future__ import annotations

import re

import pytest
from airbyte_cdk.models import SyncMode, Type

from source_hubspot import objects
from source_hubspot.custom_objects import STREAM_PREFIX, custom_objects, stream_configs, stream_entry, stream_names
from source_hubspot.source import SourceHubspot, load_manifest
from testkit.connector import ONE_WINDOW, catalog, private_app_config, run_discover, run_read
from testkit.mock_server import (
    API,
    CONTACT_PROPERTIES,
    associations_batch,
    empty_search_page,
    is_count,
    missing_scopes,
    owner,
    owners_page,
    properties_body,
    record,
    schema,
    schemas_body,
    search_page,
    validation_error,
)

SCHEMAS = f"{API}/crm/v3/schemas"
MACHINES = "p9876543_machines"


@pytest.fixture(autouse=True)
def _unpaced_search(monkeypatch):
    import source_hubspot.budget as budget

    from testkit import reset_run_state

    monkeypatch.setattr(budget, "SEARCH_CALLS_PER_SECOND", 1000)
    reset_run_state()


def _built_in_mocks(requests_mock):
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))
    requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([]))


def _warnings(output):
    return " ".join(m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING"))


def _calls(requests_mock, path):
    return [r for r in requests_mock.request_history if r.path == path]


# --------------------------------------------------------------------------------------------------------------
# The naming rule
# --------------------------------------------------------------------------------------------------------------


def test_given_names_when_named_then_custom_prefix_lower_case_and_runs_of_other_characters_as_one_underscore():
    names = stream_names([schema("2-11", "Cars"), schema("2-12", "owners"), schema("2-13", "Fleet--Vehicles 2")])

    assert names == {"2-11": "custom_cars", "2-12": "custom_owners", "2-13": "custom_fleet_vehicles_2"}


def test_given_two_names_that_sanitise_to_one_then_the_lowest_type_id_keeps_it_whatever_the_answer_order():
    later, earlier = schema("2-900", "Cars"), schema("2-35", "cars")

    assert stream_names([later, earlier]) == stream_names([earlier, later]) == {
        "2-35": "custom_cars", "2-900": "custom_cars_2_900"}


def test_given_a_relabelled_object_when_named_again_then_its_stream_keeps_its_name():
    before = schema("2-11", "cars", plural="Cars")
    after = schema("2-11", "cars", plural="Vehicles")

    assert stream_names([before]) == stream_names([after]) == {"2-11": "custom_cars"}


def test_no_built_in_stream_or_registered_type_starts_with_the_custom_prefix():
    definitions = load_manifest()["definitions"]
    built_in = [definitions[entry["$ref"].rsplit("/", 1)[-1]]["name"] for entry in load_manifest()["streams"]]

    assert built_in and not [name for name in built_in if name.startswith(STREAM_PREFIX)]
    assert not [entry.stream for entry in objects.OBJECT_TYPES.values() if entry.stream.startswith(STREAM_PREFIX)]


def test_given_association_definitions_then_core_and_custom_types_are_kept_and_unknown_ones_left_out():
    cars = schema("2-11", "cars", associated=["0-1", "2-12", "0-999"])
    dealers = schema("2-12", "dealers", associated=["0-2"])

    found = {item.stream: item.entry for item in custom_objects([cars, dealers])}

    assert found["custom_cars"].associations == ("contacts", "p9876543_dealers")
    # A definition listed on the other type's schema counts as well: dealers are linked to cars from cars' side.
    assert found["custom_dealers"].associations == ("companies", "p9876543_cars")
    assert found["custom_cars"].name == "p9876543_cars" and found["custom_cars"].type_id == "2-11"


# --------------------------------------------------------------------------------------------------------------
# Discover
# --------------------------------------------------------------------------------------------------------------


def test_given_a_custom_object_when_discover_then_its_stream_is_typed_from_the_schema_with_one_call(requests_mock):
    _built_in_mocks(requests_mock)
    machines = schema("2-4587120", "machines", associated=["0-2"],
                      properties=[("serial_number", "string"), ("hours", "number"), ("installed", "date"),
                                  ("hs_lastmodifieddate", "datetime"), ("hs_object_id", "number")])
    requests_mock.get(SCHEMAS, json=schemas_body(machines))

    output = run_discover(private_app_config())

    stream = next(s for s in output.catalog.catalog.streams if s.name == "custom_machines")
    columns = stream.json_schema["properties"]
    assert columns["properties_hours"]["type"] == ["null", "number"]
    assert columns["properties_installed"]["format"] == "date"
    assert columns["companies"]["type"] == ["null", "array"] and "contacts" not in columns
    assert SyncMode.incremental in stream.supported_sync_modes
    assert len(_calls(requests_mock, "/crm/v3/schemas")) == 1
    assert _calls(requests_mock, f"/crm/v3/properties/{MACHINES}") == []  # the schema's properties were complete


def test_given_a_schema_without_the_modification_property_when_discover_then_the_properties_api_types_it(requests_mock):
    _built_in_mocks(requests_mock)
    requests_mock.get(SCHEMAS, json=schemas_body(schema("2-4587120", "machines", properties=[("serial_number", "string")])))
    requests_mock.get(f"{API}/crm/v3/properties/{MACHINES}",
                      json=properties_body([("serial_number", "string"), ("hs_lastmodifieddate", "datetime")]))

    output = run_discover(private_app_config())

    stream = next(s for s in output.catalog.catalog.streams if s.name == "custom_machines")
    assert stream.json_schema["properties"]["properties_hs_lastmodifieddate"]["format"] == "date-time"
    assert len(_calls(requests_mock, f"/crm/v3/properties/{MACHINES}")) == 1


def test_given_a_token_without_the_schemas_scope_when_discover_then_a_warning_names_it_and_the_rest_is_discovered(requests_mock):
    _built_in_mocks(requests_mock)
    requests_mock.get(SCHEMAS, status_code=403, json=missing_scopes("crm.schemas.custom.read"))

    output = run_discover(private_app_config())

    names = {s.name for s in output.catalog.catalog.streams}
    assert "contacts" in names and not [n for n in names if n.startswith(STREAM_PREFIX)]
    assert "scope crm.schemas.custom.read" in _warnings(output)


def test_given_a_portal_without_custom_objects_when_discover_then_no_custom_streams_and_no_warning(requests_mock):
    _built_in_mocks(requests_mock)
    requests_mock.get(SCHEMAS, json=schemas_body())

    output = run_discover(private_app_config())

    assert not [s.name for s in output.catalog.catalog.streams if s.name.startswith(STREAM_PREFIX)]
    assert "custom" not in _warnings(output)


def test_given_schemas_api_rejects_the_request_when_discover_then_it_fails_saying_so(requests_mock):
    _built_in_mocks(requests_mock)
    requests_mock.get(SCHEMAS, status_code=400, json=validation_error("Unknown parameter"))

    output = run_discover(private_app_config(), expecting_exception=True)

    assert output.errors
    message = output.errors[-1].trace.error.message
    assert "HubSpot rejected a request as invalid" in message and "Unknown parameter" in message


def test_given_a_schemas_answer_that_points_to_a_next_page_when_discover_then_it_fails_rather_than_drop_objects(requests_mock):
    _built_in_mocks(requests_mock)
    requests_mock.get(SCHEMAS, json={**schemas_body(schema("2-11", "cars")), "paging": {"next": {"after": "2"}}})

    output = run_discover(private_app_config(), expecting_exception=True)

    message = output.errors[-1].trace.error.message
    assert "schemas API answered one page" in message and "pointed to another" in message
    assert not output.get_message_by_types([Type.CATALOG])  # no catalog that would lack them


# --------------------------------------------------------------------------------------------------------------
# Read
# --------------------------------------------------------------------------------------------------------------


def test_given_a_configured_custom_stream_when_read_then_its_records_come_by_the_fully_qualified_name(requests_mock):
    requests_mock.get(SCHEMAS, json=schemas_body(schema("2-4587120", "machines", associated=["0-2"])))
    search = f"{API}/crm/v3/objects/{MACHINES}/search"
    requests_mock.post(search, json=search_page([record(7, serial_number="A-1"), record(9, serial_number="B-2")]),
                       additional_matcher=lambda request: not is_count(request))
    requests_mock.post(search, json=empty_search_page(total=2), additional_matcher=is_count)
    requests_mock.post(f"{API}/crm/v4/associations/{MACHINES}/companies/batch/read", json=associations_batch([]))

    output = run_read(private_app_config(**ONE_WINDOW), catalog("custom_machines", sync_mode=SyncMode.incremental))

    records = [m.record.data for m in output.records if m.record.stream == "custom_machines"]
    assert sorted(r["id"] for r in records) == ["7", "9"] and len(records) == len({r["id"] for r in records})
    assert {r["properties_serial_number"] for r in records} == {"A-1", "B-2"}
    assert all(r["companies"] == [] for r in records)
    assert len(_calls(requests_mock, "/crm/v3/schemas")) == 1
    assert not output.errors


def test_given_a_configured_custom_stream_and_no_schemas_scope_when_read_then_the_sync_fails_naming_the_scope(requests_mock):
    requests_mock.get(SCHEMAS, status_code=403, json=missing_scopes("crm.schemas.custom.read"))

    output = run_read(private_app_config(**ONE_WINDOW), catalog("custom_machines"), expecting_exception=True)

    assert output.records == []
    assert "custom_machines (the token lacks the scope(s) crm.schemas.custom.read)" in output.errors[-1].trace.error.message


def test_given_custom_objects_then_their_stream_configs_equal_the_cdk_resolving_each_entry_of_the_manifest():
    found = custom_objects([schema("2-11", "cars", associated=["0-1"]), schema("2-12", "owners")])
    source = SourceHubspot(config=private_app_config())
    manifest = dict(load_manifest())
    manifest["streams"] = [stream_entry(item.stream, item.entry.name) for item in found]

    resolved_by_the_cdk = source._pre_process_manifest(manifest)["streams"]

    assert stream_configs(source._resolve_stream_entry, found) == resolved_by_the_cdk
    assert [config["name"] for config in resolved_by_the_cdk] == ["custom_cars", "custom_owners"]


def test_given_a_configured_custom_stream_whose_object_was_deleted_when_read_then_the_rest_is_read_and_the_sync_fails_naming_it(requests_mock):
    requests_mock.get(SCHEMAS, json=schemas_body())
    requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([owner(1)]))

    output = run_read(private_app_config(**ONE_WINDOW), catalog("custom_machines", "owners"), expecting_exception=True)

    assert {m.record.stream for m in output.records} == {"owners"}
    message = output.errors[-1].trace.error.message
    assert "custom_machines (the portal's schemas API no longer lists this custom object (it was deleted))" in message
