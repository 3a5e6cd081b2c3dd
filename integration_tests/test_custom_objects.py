"""Custom objects against the sandbox: a portal with three (cars, associated with contacts, companies, deals and
dealers; dealers; and owners, whose name is a built-in stream's). Discover lists one typed stream per custom object,
full refresh reads each completely with its association ids, incremental reads a change and a delete, the object
called `owners` is read beside the built-in `owners`, and a token without crm.schemas.custom.read gets a warning and
no custom streams while everything else works.

The sandbox runs in a thread of this process, like the connector (both in-process: fast, and the sandbox's catalog
is built from its own custom objects, not from what the connector registers)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest
import requests
from airbyte_cdk.models import SyncMode

from sandbox.server import RunningSandbox, SandboxConfig, run_server
from source_hubspot.objects import OBJECT_TYPES
from testkit import reset_run_state
from testkit.connector import catalog, run_discover, run_read

TOKEN = "sandbox-private-app-token"
PORTAL = 12345678
CARS, DEALERS, OWNERS = (f"p{PORTAL}_{name}" for name in ("cars", "dealers", "owners"))
STREAM_OF = {CARS: "custom_cars", DEALERS: "custom_dealers", OWNERS: "custom_owners"}
COUNTS = {"contacts": 40, "companies": 12, "deals": 30, "tickets": 5, "calls": 2, "emails": 2, "meetings": 2,
          "notes": 2, "tasks": 2}
CUSTOM_COUNTS = {CARS: 450, DEALERS: 60, OWNERS: 35}


def _sandbox(**extra: Any) -> RunningSandbox:
    running = run_server(SandboxConfig(seed=31, portal_id=PORTAL, **COUNTS, counts=CUSTOM_COUNTS, custom_objects=3,
                                       custom_properties=4, search_rate=0, **extra), background=True)
    assert running is not None
    return running


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningSandbox]:
    running = _sandbox()
    yield running
    running.shutdown()


@pytest.fixture(autouse=True)
def _fresh_run() -> Iterator[None]:
    reset_run_state()
    yield
    reset_run_state()


def _config(sandbox: RunningSandbox, **extra: Any) -> Dict[str, Any]:
    return {"credentials": {"credentials_title": "Private App Credentials", "access_token": TOKEN},
            "api_base_url": sandbox.url, "retry_backoff_factor": 0.05, "calls_per_10_seconds": 1000, **extra}


def _ids(sandbox: RunningSandbox, object_type: str, archived: str = "exclude") -> List[str]:
    return requests.get(f"{sandbox.url}/_sandbox/objects/{object_type}?archived={archived}&fields=ids",
                        timeout=30).json()["ids"]


def _records(output: Any, stream: str) -> List[Dict[str, Any]]:
    return [m.record.data for m in output.records if m.record.stream == stream]


def _warnings(output: Any) -> str:
    return " ".join(m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING"))


def test_given_custom_objects_when_discovered_then_one_typed_stream_each_with_its_associations(portal):
    output = run_discover(_config(portal))

    streams = {s.name: s for s in output.catalog.catalog.streams}
    assert {"custom_cars", "custom_dealers", "custom_owners", "owners", "contacts"} <= set(streams)
    cars = streams["custom_cars"].json_schema["properties"]
    assert {name for name, column in cars.items() if column.get("items")} == {"contacts", "companies", "deals", DEALERS}
    assert cars["properties_hs_lastmodifieddate"]["format"] == "date-time"
    assert cars["properties_name"]["type"] == ["null", "string"]
    typed = {column["type"][1] for name, column in cars.items() if name.startswith("properties_custom_prop_")}
    assert "number" in typed  # the custom properties carry their HubSpot types, not strings all
    assert streams["custom_dealers"].json_schema["properties"][CARS]["type"] == ["null", "array"]
    assert SyncMode.incremental in streams["custom_cars"].supported_sync_modes
    assert streams["custom_cars"].default_cursor_field == ["updatedAt"]
    assert not _warnings(output) or "custom" not in _warnings(output)
    assert {CARS, DEALERS, OWNERS} <= set(OBJECT_TYPES)
    reset_run_state()  # a new run forgets them: the next discover reads the schemas again
    assert not {CARS, DEALERS, OWNERS} & set(OBJECT_TYPES)


def test_given_custom_objects_when_read_in_full_then_each_completely_once_with_its_association_ids(portal):
    output = run_read(_config(portal), catalog(*STREAM_OF.values()))

    assert not output.errors
    for object_type, stream in STREAM_OF.items():
        ids = [record["id"] for record in _records(output, stream)]
        assert sorted(ids) == sorted(_ids(portal, object_type)) and len(ids) == len(set(ids)), stream
    cars = _records(output, "custom_cars")
    dealer_ids = set(_ids(portal, DEALERS, archived="include"))
    linked = [dealer for car in cars for dealer in car[DEALERS]]
    assert linked and set(linked) <= dealer_ids
    assert any(car["contacts"] for car in cars) and any(car["deals"] for car in cars)
    dealers = {record["id"]: record for record in _records(output, "custom_dealers")}
    some_car = next(car for car in cars if any(d in dealers for d in car[DEALERS]))
    dealer = next(d for d in some_car[DEALERS] if d in dealers)
    assert some_car["id"] in dealers[dealer][CARS]  # the same link, read from either side


def test_given_a_custom_object_named_owners_when_read_with_the_owners_stream_then_each_keeps_its_own_rows(portal):
    output = run_read(_config(portal), catalog("owners", "custom_owners"))

    owners, custom = _records(output, "owners"), _records(output, "custom_owners")
    assert owners and all("email" in row for row in owners)
    assert sorted(row["id"] for row in custom) == sorted(_ids(portal, OWNERS))
    assert not {row["id"] for row in owners} & {row["id"] for row in custom}
    assert all("contacts" in row for row in custom)


def test_given_a_custom_object_changed_and_deleted_when_synced_again_then_the_change_and_the_delete_come(portal):
    incremental = catalog("custom_cars", sync_mode=SyncMode.incremental)
    first = run_read(_config(portal, include_archived=True), incremental)
    state = [first.state_messages[-1].state]
    reset_run_state()
    changed = requests.post(f"{portal.url}/_sandbox/mutate", json={"type": CARS, "update": 5, "archive": 2, "seed": 4},
                            timeout=30).json()

    second = run_read(_config(portal, include_archived=True, lookback_minutes=0), incremental, state)

    records = {record["id"]: record for record in _records(second, "custom_cars")}
    updated, archived = set(changed.get("updated") or []), set(changed.get("archived") or [])
    assert updated and archived, changed
    assert updated | archived <= set(records), (changed, sorted(records))
    assert all(records[i]["archived"] for i in archived)
    assert len(records) < CUSTOM_COUNTS[CARS] / 2, "the second sync read everything again"


def test_given_a_token_without_the_schemas_scope_when_discovered_then_a_warning_names_it_and_no_custom_streams():
    # Every scope of the built-in streams, none for custom objects (HubSpot's schemas API takes either custom scope).
    granted = sorted({entry.scope for entry in OBJECT_TYPES.values()} | {"crm.objects.owners.read"})
    running = _sandbox(scopes=granted)
    try:
        assert not [scope for scope in granted if ".custom." in scope]
        output = run_discover(_config(running))
        reset_run_state()
        read = run_read(_config(running), catalog("contacts"))
    finally:
        running.shutdown()

    names = {s.name for s in output.catalog.catalog.streams}
    assert "contacts" in names and not [name for name in names if name.startswith("custom_")]
    assert "scope crm.schemas.custom.read" in _warnings(output)
    assert _records(read, "contacts") and not read.errors


def test_given_a_bare_custom_object_name_in_a_path_then_the_sandbox_refuses_it_as_hubspot_does(portal):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bare = requests.get(f"{portal.url}/crm/v3/objects/cars?limit=1", headers=headers, timeout=30)
    by_id = requests.get(f"{portal.url}/crm/v3/objects/2-2150001?limit=1", headers=headers, timeout=30)
    by_name = requests.get(f"{portal.url}/crm/v3/objects/{CARS}?limit=1", headers=headers, timeout=30)

    assert bare.status_code == 400 and by_id.status_code == by_name.status_code == 200
    assert by_id.json()["results"] == by_name.json()["results"]


def test_given_a_custom_objects_history_listed_when_it_is_read_alone_then_its_versions_come(portal):
    config = _config(portal, property_history=[{"stream": "custom_cars", "properties": ["name"]}],
                     start_date="2021-06-01T00:00:00Z", window_days=3650)
    assert "custom_cars_property_history" in {s.name for s in run_discover(config).catalog.catalog.streams}
    reset_run_state()

    output = run_read(config, catalog("custom_cars_property_history", sync_mode=SyncMode.incremental))

    rows = _records(output, "custom_cars_property_history")
    assert not output.errors and "Skipping" not in _warnings(output), _warnings(output)
    assert rows and {row["property"] for row in rows} == {"name"}
    assert {row["objectId"] for row in rows} <= set(_ids(portal, CARS))
