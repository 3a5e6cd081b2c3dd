"""Adding a CRM object type is one entry in source_hubspot/objects.py and one stream entry in the manifest (here
added to the loaded manifest): nothing else changes. The sandbox generates the type from the same entry, and the
connector discovers it, types its properties, reads it completely on a first sync (list and search at once), reads
its changes incrementally, and emits its deletes; association_links reads its pairs, and its property history is a
stream once the config lists it.

The sandbox runs in a thread of this process (the harness's sandboxes are subprocesses, which see the registry as
shipped), and so does the connector."""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, List

import pytest
import requests
from airbyte_cdk.models import SyncMode

from sandbox.server import RunningSandbox, SandboxConfig, run_server
from source_hubspot import source as source_module
from source_hubspot.objects import ObjectType, register, unregister
from testkit.analyst_truth import LINK_TARGETS
from testkit.connector import catalog, run_discover, run_read

# The whole addition: a registry entry and a stream entry.
# HubSpot's projects object (0-970), which the registry does not hold.
PROJECTS = ObjectType(name="projects", type_id="0-970", singular="project", stream="projects",
                      scope="crm.objects.projects.read", associations=("deals",))
STREAM = {"$ref": "#/definitions/object_stream", "name": "projects", "$parameters": {"name": "projects", "object_type": "projects"}}

TOKEN = "sandbox-private-app-token"
PROJECT_COUNT = 450
COUNTS = {"contacts": 30, "companies": 10, "deals": 40, "tickets": 5, "calls": 2, "emails": 2, "meetings": 2,
          "notes": 2, "tasks": 2}


@pytest.fixture(scope="module")
def projects() -> Iterator[RunningSandbox]:
    register(PROJECTS)
    running = run_server(SandboxConfig(seed=23, **COUNTS, counts={"projects": PROJECT_COUNT}, custom_properties=5,
                                       search_rate=0), background=True)
    assert running is not None
    yield running
    running.shutdown()
    unregister("projects")


@pytest.fixture(autouse=True)
def with_the_stream_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = copy.deepcopy(dict(source_module.load_manifest()))
    manifest["definitions"]["projects_stream"] = STREAM
    manifest["streams"] = [*manifest["streams"], {"$ref": "#/definitions/projects_stream"}]
    monkeypatch.setattr(source_module, "load_manifest", lambda: copy.deepcopy(manifest))


def _config(sandbox: RunningSandbox, **extra: Any) -> Dict[str, Any]:
    return {"credentials": {"credentials_title": "Private App Credentials", "access_token": TOKEN},
            "api_base_url": sandbox.url, "retry_backoff_factor": 0.05, "calls_per_10_seconds": 1000,
            "first_sync_list_reads": True, **extra}


def _sandbox_ids(sandbox: RunningSandbox, archived: str = "exclude") -> List[str]:
    url = f"{sandbox.url}/_sandbox/objects/projects?archived={archived}&fields=ids"
    return requests.get(url, timeout=30).json()["ids"]


def _records(output: Any) -> List[Dict[str, Any]]:
    return [m.record.data for m in output.records if m.record.stream == "projects"]


def test_given_a_registered_type_when_discovered_then_its_stream_has_typed_properties_and_its_associations(projects):
    output = run_discover(_config(projects))

    stream = next(s for s in output.catalog.catalog.streams if s.name == "projects")
    columns = stream.json_schema["properties"]
    assert columns["deals"]["type"] == ["null", "array"]  # the ids of its associated deals
    assert columns["properties_hs_lastmodifieddate"].get("format") == "date-time"  # typed from the properties API
    assert "properties_name" in columns and "contacts" not in columns
    assert SyncMode.incremental in stream.supported_sync_modes


def test_given_a_registered_type_when_read_then_every_record_once_with_its_deal_ids(projects):
    output = run_read(_config(projects), catalog("projects"))

    records = _records(output)
    ids = [record["id"] for record in records]
    assert sorted(ids) == sorted(_sandbox_ids(projects)) and len(ids) == len(set(ids))
    assert any(record["deals"] for record in records)
    assert not output.errors


def test_given_a_registered_type_when_changed_and_deleted_then_the_next_sync_reads_the_changes_and_the_delete(projects):
    incremental = catalog("projects", sync_mode=SyncMode.incremental)
    first = run_read(_config(projects, include_archived=True), incremental)
    state = [first.state_messages[-1].state]
    changed = requests.post(f"{projects.url}/_sandbox/mutate", json={"type": "projects", "update": 4, "archive": 2,
                                                                      "seed": 9}, timeout=30).json()

    second = run_read(_config(projects, include_archived=True, lookback_minutes=0), incremental, state)

    records = {record["id"]: record for record in _records(second)}
    updated = set(changed.get("updated") or [])
    archived = set(changed.get("archived") or [])
    assert updated and archived, changed
    assert updated | archived <= set(records), (changed, sorted(records))
    assert all(records[i].get("archived") for i in archived)
    assert len(records) < PROJECT_COUNT, "the second sync read everything again"


# The analyst tables cover the type with no change of theirs: its association pairs, and its property history once the
# config lists its stream.
HISTORY = {"property_history": [{"stream": "projects", "properties": ["name", "hubspot_owner_id"]}],
           "start_date": "2021-06-01T00:00:00Z", "window_days": 3650}


def _control(sandbox: RunningSandbox, what: str, **params: Any) -> Any:
    return requests.get(f"{sandbox.url}/_sandbox/analyst/{what}", params=params, timeout=30).json()["results"]


def test_given_a_registered_type_when_association_links_read_then_its_pairs_join_the_others(projects):
    output = run_read(_config(projects, start_date="2021-06-01T00:00:00Z", window_days=3650),
                      catalog("association_links", sync_mode=SyncMode.incremental))

    rows = [(r["fromObjectType"], r["fromObjectId"], r["toObjectType"], r["toObjectId"], r["associationTypeId"])
            for r in (m.record.data for m in output.records if m.record.stream == "association_links")]
    assert len(rows) == len(set(rows)) and not output.errors
    pairs = {(row[0], row[2]) for row in rows}
    shipped = {(a, b) for a, targets in LINK_TARGETS.items() for b in targets}
    assert pairs - shipped == {("projects", "deals")}  # the shipped types' pairs are read as before
    held = {("projects", link["fromObjectId"], "deals", link["toObjectId"], link["associationTypeId"])
            for link in _control(projects, "links", **{"from": "projects", "to": "deals"})}
    assert held and {row for row in rows if row[0] == "projects"} == held


def test_given_a_registered_type_in_property_history_when_synced_twice_then_every_version_and_then_the_new_one(projects):
    streams = {s.name for s in run_discover(_config(projects, **HISTORY)).catalog.catalog.streams}
    assert "projects_property_history" in streams
    history = catalog("projects_property_history", sync_mode=SyncMode.incremental)

    first = run_read(_config(projects, **HISTORY), history)

    def rows(output: Any) -> List[tuple]:
        return [(r["objectId"], r["property"], r["value"], r["timestamp"]) for r in
                (m.record.data for m in output.records if m.record.stream == "projects_property_history")]

    held = _control(projects, "history", type="projects", properties="name,hubspot_owner_id")
    expected = [(i, name, v["value"], v["timestamp"]) for i, by_name in held.items() for name, versions in by_name.items()
                for v in versions]
    assert sorted(rows(first)) == sorted(expected) and len(rows(first)) == len(set(rows(first))) > 0
    project = _sandbox_ids(projects)[5]
    written = requests.post(f"{projects.url}/_sandbox/analyst/property", json={
        "type": "projects", "id": project, "property": "name", "value": "Renamed project"}, timeout=30).json()

    second = run_read(_config(projects, **HISTORY, lookback_minutes=0), history, [first.state_messages[-1].state])

    assert (project, "name", "Renamed project", written["version"]["timestamp"]) in rows(second)
    # Only records changed since the first sync are read again (here the one written, and the ones the other tests
    # changed just before), not all 450.
    assert len({row[0] for row in rows(second)}) < 10
