"""Adding a CRM object type is one entry in source_hubspot/objects.py and one stream entry in the manifest (here
added to the loaded manifest): nothing else changes. The sandbox generates the type from the same entry, and the
connector discovers it, types its properties, reads it completely on a first sync (list and search at once), reads
its changes incrementally, and emits its deletes.

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
