"""An object type added to the registry with `source_hubspot.objects.register` alone is generated and served by the
sandbox: list, search, batch read and archived pages, its properties, v4 associations to the types its entry names,
and its scope.

The harness's sandboxes run in a subprocess (`python -m sandbox`), which sees the registry as shipped; so this test
runs its sandbox in a thread of the test process (`run_server(background=True)`), where the registration is. A
sandbox serves the types registered when it was built: the type is unregistered as soon as the sandbox is up.
"""
from typing import Any, Dict, Iterator, List

import pytest
import requests

from sandbox.catalog import Catalog
from sandbox.data import Store
from sandbox.server import RunningSandbox, SandboxConfig, run_server
from source_hubspot.objects import OBJECT_TYPES, ObjectType, register, unregister

TOKEN = "sandbox-private-app-token"
# HubSpot's projects object (0-970), which the registry does not hold.
PROJECTS = ObjectType(
    name="projects",
    type_id="0-970",
    singular="project",
    stream="projects",
    scope="crm.objects.projects.read",
    associations=("deals",),
)
COUNTS = {"contacts": 60, "companies": 20, "deals": 40, "tickets": 10, "calls": 5, "emails": 5, "meetings": 5,
          "notes": 5, "tasks": 5}


@pytest.fixture(scope="module")
def projects_sandbox() -> Iterator[RunningSandbox]:
    register(PROJECTS)
    try:
        running = run_server(SandboxConfig(seed=11, **COUNTS, counts={"projects": 230}, custom_properties=9,
                                           search_rate=0), background=True)
    finally:
        unregister("projects")
    assert running is not None
    yield running
    running.shutdown()


@pytest.fixture()
def api(projects_sandbox: RunningSandbox) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    yield session
    requests.post(f"{projects_sandbox.url}/_sandbox/config", json={"scopes": "all"}, timeout=30)


def control_ids(sandbox: RunningSandbox, object_type: str, archived: str = "exclude") -> List[str]:
    url = f"{sandbox.url}/_sandbox/objects/{object_type}?archived={archived}&fields=ids"
    return requests.get(url, timeout=30).json()["ids"]


def list_ids(api: requests.Session, url: str, **params: Any) -> List[str]:
    ids: List[str] = []
    after = None
    while True:
        page = api.get(url, params={**params, "limit": 100, **({"after": after} if after else {})}, timeout=30)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [record["id"] for record in body["results"]]
        if "paging" not in body:
            return ids
        after = body["paging"]["next"]["after"]


def search_ids(api: requests.Session, url: str, filters: List[Dict[str, Any]]) -> List[str]:
    """Keyset pages by hs_object_id, as the connector reads search."""
    ids: List[str] = []
    last = "0"
    while True:
        keyset = {"propertyName": "hs_object_id", "operator": "GT", "value": last}
        body = {"limit": 100, "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "filterGroups": [{"filters": [*filters, keyset]}], "properties": ["name", "hs_lastmodifieddate"]}
        page = api.post(f"{url}/search", json=body, timeout=30)
        assert page.status_code == 200, page.text
        results = page.json()["results"]
        if not results:
            return ids
        ids += [record["id"] for record in results]
        last = results[-1]["id"]


def test_a_registered_type_is_listed_by_name_and_type_id_with_its_archived_records(
    projects_sandbox: RunningSandbox, api: requests.Session
) -> None:
    active = control_ids(projects_sandbox, "projects")
    archived = control_ids(projects_sandbox, "projects", "only")
    assert len(active) + len(archived) == 230 and archived

    listed = list_ids(api, f"{projects_sandbox.url}/crm/v3/objects/projects")
    assert listed == active
    assert len(listed) == len(set(listed))
    assert [int(i) for i in listed] == sorted(int(i) for i in listed)
    assert min(int(i) for i in listed) > 40_000_000_000  # a range of its own, above HubSpot's types'
    assert list_ids(api, f"{projects_sandbox.url}/crm/v3/objects/0-970") == active
    assert list_ids(api, f"{projects_sandbox.url}/crm/v3/objects/projects", archived="true") == archived

    page = api.get(f"{projects_sandbox.url}/crm/v3/objects/projects", params={"limit": 3}, timeout=30).json()
    record = page["results"][0]
    assert set(record["properties"]) == {"name", "createdate", "hs_lastmodifieddate", "hs_object_id"}
    assert record["properties"]["hs_object_id"] == record["id"]
    assert record["properties"]["hs_lastmodifieddate"] == record["updatedAt"]
    assert record["properties"]["createdate"] == record["createdAt"]


def test_a_registered_type_is_searched_and_batch_read(projects_sandbox: RunningSandbox, api: requests.Session) -> None:
    url = f"{projects_sandbox.url}/crm/v3/objects/projects"
    active = control_ids(projects_sandbox, "projects")
    found = search_ids(api, url, [])
    assert found == active
    assert len(found) == len(set(found))

    records = requests.get(f"{projects_sandbox.url}/_sandbox/objects/projects?archived=exclude", timeout=30).json()
    since = sorted(r["updatedAt"] for r in records["records"].values())[len(active) // 2]
    recent = search_ids(api, url, [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": since}])
    assert recent == [i for i in active if records["records"][i]["updatedAt"] >= since]
    assert 0 < len(recent) < len(active)

    batch = api.post(f"{url}/batch/read", json={"inputs": [{"id": i} for i in [*active[:5], "1"]],
                                                "properties": ["name", "description"]}, timeout=30)
    assert batch.status_code == 207
    body = batch.json()
    assert [r["id"] for r in body["results"]] == active[:5]
    assert set(body["results"][0]["properties"]) == {"name", "description", "createdate", "hs_lastmodifieddate",
                                                     "hs_object_id"}
    assert body["errors"][0]["message"].startswith("Could not get some PROJECT objects")
    assert body["errors"][0]["context"] == {"ids": ["1"]}


def test_a_registered_type_has_typed_properties(projects_sandbox: RunningSandbox, api: requests.Session) -> None:
    answer = api.get(f"{projects_sandbox.url}/crm/v3/properties/projects", timeout=30)
    assert answer.status_code == 200
    properties = {p["name"]: p for p in answer.json()["results"]}
    assert {"name", "description", "hubspot_owner_id", "createdate", "hs_lastmodifieddate", "hs_object_id"} <= set(
        properties)
    assert {f"custom_prop_{i:03d}" for i in range(1, 10)} <= set(properties)
    assert properties["hs_lastmodifieddate"]["type"] == "datetime"
    assert properties["hs_object_id"]["type"] == "number"
    assert properties["hubspot_owner_id"]["type"] == "enumeration"
    assert {p["type"] for p in properties.values() if not p["hubspotDefined"]} == {
        "string", "number", "date", "datetime", "enumeration", "bool", "phone_number", "object_coordinates", "json"}
    assert {p["groupName"] for p in properties.values()} == {"projectinformation"}


def test_a_registered_type_is_associated_with_the_types_its_entry_names(
    projects_sandbox: RunningSandbox, api: requests.Session
) -> None:
    projects = control_ids(projects_sandbox, "projects")
    deals = set(control_ids(projects_sandbox, "deals"))
    v4 = f"{projects_sandbox.url}/crm/v4/associations"

    answer = api.post(f"{v4}/projects/deals/batch/read", json={"inputs": [{"id": i} for i in projects]}, timeout=30)
    assert answer.status_code in (200, 207)
    links = {(r["from"]["id"], str(to["toObjectId"])) for r in answer.json()["results"] for to in r["to"]}
    assert links and {deal for _, deal in links} <= deals
    labels = api.get(f"{v4}/projects/deals/labels", timeout=30).json()["results"]
    assert labels == [{"category": "HUBSPOT_DEFINED", "typeId": labels[0]["typeId"], "label": None}]
    assert all(t == labels[0] for r in answer.json()["results"] for to in r["to"] for t in to["associationTypes"])

    back = api.post(f"{v4}/deals/projects/batch/read", json={"inputs": [{"id": i} for i in sorted(deals)]}, timeout=30)
    assert {(str(to["toObjectId"]), r["from"]["id"]) for r in back.json()["results"] for to in r["to"]} == links

    unrelated = api.post(f"{v4}/projects/contacts/batch/read", json={"inputs": [{"id": projects[0]}]}, timeout=30)
    assert unrelated.status_code == 207
    assert unrelated.json()["results"] == []
    assert unrelated.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"

    linked = sorted({project for project, _ in links}, key=int)[0]
    inline = api.get(f"{projects_sandbox.url}/crm/v3/objects/projects/{linked}", params={"associations": "deals"},
                     timeout=30).json()
    assert {(linked, a["id"]) for a in inline["associations"]["deals"]["results"]} == {
        link for link in links if link[0] == linked}
    assert {a["type"] for a in inline["associations"]["deals"]["results"]} == {"project_to_deal"}


def test_a_registered_type_needs_its_entrys_scope(projects_sandbox: RunningSandbox, api: requests.Session) -> None:
    url = f"{projects_sandbox.url}/crm/v3/objects/projects"
    requests.post(f"{projects_sandbox.url}/_sandbox/config", json={"scopes": "crm.objects.deals.read"}, timeout=30)
    denied = api.get(url, timeout=30)
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["context"] == {"requiredGranularScopes": ["crm.objects.projects.read"]}
    requests.post(f"{projects_sandbox.url}/_sandbox/config", json={"scopes": "crm.objects.projects.read"}, timeout=30)
    assert api.get(url, timeout=30).status_code == 200


def test_records_created_for_a_registered_type_are_served(
    projects_sandbox: RunningSandbox, api: requests.Session
) -> None:
    change = requests.post(f"{projects_sandbox.url}/_sandbox/mutate", json={"type": "projects", "create": 3, "seed": 5},
                           timeout=30).json()
    assert len(change["created"]) == 3
    assert list_ids(api, f"{projects_sandbox.url}/crm/v3/objects/projects")[-3:] == change["created"]


def test_registering_a_type_leaves_the_other_types_data_as_it_was() -> None:
    counts = dict(COUNTS, projects=50)
    without = Store(seed=4, counts=counts, custom_properties=3)
    register(PROJECTS)
    try:
        with_projects = Store(seed=4, counts=counts, custom_properties=3)
    finally:
        unregister("projects")
    assert "projects" not in without.objects and len(with_projects.objects["projects"].ids) == 50
    linked_deals = 0
    for object_type in COUNTS:
        assert with_projects.objects[object_type].ids == without.objects[object_type].ids
        for rid in without.objects[object_type].ids:
            record = with_projects.full_record(object_type, with_projects.objects[object_type].recs[rid])
            linked_deals += "projects" in record["associations"]
            record["associations"].pop("projects", None)  # deals gain links to projects, and nothing else changes
            assert record == without.full_record(object_type, without.objects[object_type].recs[rid])
    assert linked_deals > 0


def test_an_unregistered_type_is_not_served_by_a_sandbox_built_after(projects_sandbox: RunningSandbox) -> None:
    assert "projects" not in OBJECT_TYPES
    assert "projects" not in Catalog.from_registry().names
    assert "projects" in projects_sandbox.app.catalog.names  # the running sandbox keeps what it was built with
    later = run_server(SandboxConfig(**{t: 1 for t in COUNTS}, search_rate=0), background=True)
    assert later is not None
    try:
        answer = requests.get(f"{later.url}/crm/v3/objects/projects", headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=30)
        assert answer.status_code == 400
        assert answer.json()["message"] == "Unable to infer object type from: projects"
    finally:
        later.shutdown()
