"""HubSpot's published contract against the sandbox and the connector, and the connector reading both answer shapes.

The contract is hubspot-api-client's models (generated from HubSpot's OpenAPI documents), applied strictly by
testkit/contract.py. One sandbox on 127.0.0.1 serves one whole read (every main stream with its association ids,
association_links, owners, pipelines, property history; OAuth, so the token is refreshed) in each answer shape:
HubSpot's observed shape (the sandbox's default) and its documented shape (`answer_shape: documented`,
sandbox/shapes.py). Quirks make the read meet empty search pages (so bodies carry `after`), 207 batch answers with
errors, and v4 results paged per record; contacts are read by an ids-only list completed with batch reads. Every
request and answer of the read is kept, and a few direct calls add the error answers (400, 401, 403, 404, 429, a
refused token refresh) and the association labels.

- Documented shape: every answer is one the contract accepts.
- Observed shape: every answer departs from the contract only in the known ways (OBSERVED_DEPARTURES, the table in
  docs/hubspot-behaviour.md).
- Every request body the connector sent (search, batch read, v4 association batch read, the token form) is one the
  contract accepts, limits included; and a body broken in any of the ways listed here is refused.
- The two reads emit the same records.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from typing import Any, Dict, List, NamedTuple, Tuple
from urllib.parse import urlsplit

import pytest
import requests
from airbyte_cdk.models import SyncMode

from sandbox.server import SandboxConfig, run_server
from sandbox.shapes import DOCUMENTED, OBSERVED
from source_hubspot import first_sync
from testkit import contract, reset_run_state
from testkit.connector import catalog, check_status, run_check, run_read
from testkit.harness import ALL_STREAMS, PRIVATE_APP_TOKEN

STREAMS = [*ALL_STREAMS, "association_links", "owners", "deal_pipelines", "ticket_pipelines",
           "contacts_property_history"]
# Small, but enough for every kind of answer: the first company holds more contacts than a v4 page of 5, so its
# results page; 2 % of inputs fail once in a batch read (a 207 with an INTERNAL_ERROR) and are read again.
SANDBOX = dict(seed=11, contacts=60, companies=8, deals=12, tickets=6, calls=4, emails=4, meetings=4, notes=4, tasks=4,
               custom_properties=2, search_rate=0, assoc_page_size=5)
QUIRKS = {"seed": 3, "empty_pages": {"rate": 0.3, "on": ["search"]}, "partial_batch_errors": {"rate": 0.2}}
# A list URL shorter than contacts' property names: the first sync reads contacts' ids by list and their properties
# with batch reads (first_sync.py), so those bodies are checked too.
LIST_URL_MAX = 300


class Exchange(NamedTuple):
    kind: str
    method: str
    path: str
    request_body: Any
    status: int
    answer: Any


class ShapeRun(NamedTuple):
    records: Dict[str, List[Dict[str, Any]]]
    sent: List[Exchange]  # by the connector (the read, then a check refused its refresh token)
    direct: List[Exchange]  # by _direct_calls

    @property
    def exchanges(self) -> List[Exchange]:
        return self.sent + self.direct

    check_message: str = ""


def _exchange(request: requests.PreparedRequest, response: requests.Response) -> Exchange:
    path = urlsplit(request.url or "").path
    kind = contract.endpoint_kind(request.method or "", path) or ""
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    return Exchange(kind, request.method or "", path, request.body, response.status_code, answer)


def _direct_calls(url: str) -> List[Exchange]:
    """The answers a read does not meet: the association labels and the error bodies."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {PRIVATE_APP_TOKEN}"

    def control(**body: Any) -> None:
        requests.post(f"{url}/_sandbox/config", json=body, timeout=30).raise_for_status()

    def call(method: str, path: str, session: requests.Session = api, **kwargs: Any) -> Exchange:
        response = session.request(method, f"{url}{path}", timeout=30, **kwargs)
        return _exchange(response.request, response)

    search = "/crm/v3/objects/contacts/search"
    calls = [
        call("GET", "/crm/v4/associations/contacts/companies/labels"),
        call("POST", search, json={"limit": 500}),  # 400
        call("GET", "/crm/v3/objects/contacts/1"),  # 404
        call("GET", "/crm/v3/objects/contacts", session=requests.Session(), headers={"Authorization": "Bearer wrong"}),
        call("POST", "/oauth/v1/token", session=requests.Session(),
             data={"grant_type": "refresh_token", "client_id": "sandbox-client-id",
                   "client_secret": "sandbox-client-secret", "refresh_token": "revoked"}),
    ]
    control(scopes=["crm.objects.contacts.read"])
    calls.append(call("GET", "/crm/v3/objects/deals"))  # 403
    control(scopes="all", search_rate=1)
    calls += [call("POST", search, json={"limit": 1}) for _ in range(3)]  # 429 after the first
    control(search_rate=0, reset_rate_limits=True)
    return calls


def _read(url: str, shape: str) -> ShapeRun:
    requests.post(f"{url}/_sandbox/config", json={"answer_shape": shape, "quirks": QUIRKS}, timeout=30).raise_for_status()
    exchanges: List[Exchange] = []
    send = requests.Session.send

    def recording_send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = send(session, request, **kwargs)
        exchanges.append(_exchange(request, response))
        return response

    config = {
        "credentials": {"credentials_title": "OAuth Credentials", "client_id": "sandbox-client-id",
                        "client_secret": "sandbox-client-secret", "refresh_token": "sandbox-refresh-token"},
        "api_base_url": url, "retry_backoff_factor": 0.01, "calls_per_10_seconds": 1000,
        "start_date": "2021-06-01T00:00:00Z", "window_days": 3650,
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests.Session, "send", recording_send)
        patch.setattr(first_sync, "LIST_URL_MAX", LIST_URL_MAX)
        reset_run_state()
        output = run_read(config, catalog(*STREAMS, sync_mode=SyncMode.incremental))
        reset_run_state()
        refused = copy.deepcopy(config)
        refused["credentials"]["refresh_token"] = "revoked"
        check = run_check(refused)
        reset_run_state()
    assert not output.errors, [e.trace.error.message for e in output.errors]
    records: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for message in output.records:
        records[message.record.stream].append(message.record.data)
    status = check_status(check)
    check_message = (status.message or "") if status is not None else ""
    requests.post(f"{url}/_sandbox/config", json={"quirks": None}, timeout=30).raise_for_status()
    return ShapeRun(dict(records), exchanges, _direct_calls(url), check_message)


@pytest.fixture(scope="module")
def runs() -> Dict[str, ShapeRun]:
    sandbox = run_server(SandboxConfig(**SANDBOX), background=True)
    try:
        return {shape: _read(sandbox.url, shape) for shape in (OBSERVED, DOCUMENTED)}
    finally:
        sandbox.shutdown()


def _general(problem: str) -> str:
    """A problem without its indexes and map keys: one line per kind of departure."""
    problem = re.sub(r"\[\d+\]", "[]", problem)
    return re.sub(r"\b(properties|propertiesWithHistory|context|metadata)\.[^.\[:]+", r"\1.*", problem)


def _answer_problems(run: ShapeRun) -> Dict[Tuple[str, int], set]:
    found: Dict[Tuple[str, int], set] = defaultdict(set)
    for exchange in run.exchanges:
        if exchange.kind:
            for problem in contract.answer_problems(exchange.kind, exchange.status, exchange.answer):
                found[(exchange.kind, exchange.status)].add(_general(problem))
    return found


# Where HubSpot's real answers (and so the sandbox's default shape) depart from its documents, by kind of answer and
# status. docs/hubspot-behaviour.md has this table with what the connector does about each.
PROPERTY_NULL = "results[].properties.*: null (the documents allow leaving it out, not null)"
STANDARD_ERROR_PARTS = {"errors[].errors: missing (required by StandardError)",
                        "errors[].links: missing (required by StandardError)"}
OBSERVED_DEPARTURES: Dict[Tuple[str, int], set] = {
    ("list", 200): {PROPERTY_NULL},
    ("search", 200): {PROPERTY_NULL},
    ("batch_read", 200): {
        PROPERTY_NULL,
        "results[].propertiesWithHistory.*[].sourceLabel: null (the documents allow leaving it out, not null)",
        "results[].propertiesWithHistory.*[].updatedByUserId: null (the documents allow leaving it out, not null)",
    },
    ("batch_read", 207): {PROPERTY_NULL, *STANDARD_ERROR_PARTS},
    ("associations_batch_read", 200): {
        "results[].to[].toObjectId: int, documented str",
        "results[].to[].associationTypes[].label: null (the documents allow leaving it out, not null)",
        "results[].paging.next.link: null (the documents allow leaving it out, not null)",
    },
    ("associations_batch_read", 207): {
        "results[].to[].toObjectId: int, documented str",
        "results[].to[].associationTypes[].label: null (the documents allow leaving it out, not null)",
        "results[].paging.next.link: null (the documents allow leaving it out, not null)",
        "errors[].subCategory: str, documented an object",
        *STANDARD_ERROR_PARTS,
    },
    ("association_labels", 200): {"results[].label: null (the documents allow leaving it out, not null)"},
    ("owners", 200): {"results[].userId: null (the documents allow leaving it out, not null)"},
    ("search", 429): {"category: missing (required by Error)"},
    ("token", 400): {"category: missing (required by Error)"},
}


def test_given_every_kind_of_answer_when_the_read_and_the_direct_calls_ran_then_each_was_met(runs):
    for shape, run in runs.items():
        met = {(e.kind, e.status) for e in run.exchanges if e.kind}
        assert met >= {
            ("list", 200), ("search", 200), ("batch_read", 200), ("batch_read", 207), ("associations_batch_read", 200),
            ("associations_batch_read", 207), ("properties", 200), ("owners", 200), ("pipelines", 200),
            ("association_labels", 200), ("token", 200), ("token", 400), ("search", 400), ("search", 429),
            ("list", 401), ("list", 403), ("record", 404),
        }, shape
        paged = [e for e in run.exchanges if e.kind == "associations_batch_read"
                 and any("after" in i for i in json.loads(e.request_body)["inputs"])]
        assert paged, f"{shape}: no v4 result was paged"
        assert any("after" in json.loads(e.request_body) for e in run.exchanges if e.kind == "search"), shape


def test_given_the_documented_shape_when_every_answer_is_checked_then_the_contract_accepts_each(runs):
    assert dict(_answer_problems(runs[DOCUMENTED])) == {}


def test_given_the_observed_shape_when_every_answer_is_checked_then_it_departs_only_in_the_known_ways(runs):
    assert dict(_answer_problems(runs[OBSERVED])) == OBSERVED_DEPARTURES


def test_given_the_connectors_requests_when_checked_then_the_contract_accepts_every_body(runs):
    checked: Dict[str, int] = defaultdict(int)
    for run in runs.values():
        for exchange in run.sent:
            if exchange.method == "POST" and exchange.kind:
                assert contract.request_problems(exchange.kind, exchange.request_body) == [], exchange.path
                checked[exchange.kind] += 1
    assert set(checked) == {"search", "batch_read", "associations_batch_read", "token"}


SEARCH = {
    "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "0"},
                                  {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1622505600000"}]}],
    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
    "properties": ["email"],
    "limit": 200,
    "after": "200",
}
BATCH = {"inputs": [{"id": "1"}], "properties": ["email"], "propertiesWithHistory": []}
V4 = {"inputs": [{"id": "1"}, {"id": "2", "after": "c2"}]}
TOKEN = "grant_type=refresh_token&client_id=id&client_secret=secret&refresh_token=token"


def _with(body: Dict[str, Any], **changes: Any) -> Dict[str, Any]:
    changed = copy.deepcopy(body)
    changed.update(changes)
    return changed


@pytest.mark.parametrize(
    "kind,body,problem",
    [
        ("search", _with(SEARCH, extra=1), "extra: not a field of PublicObjectSearchRequest"),
        ("search", _with(SEARCH, limit=201), "limit: 201, documented 1 to 200"),
        ("search", _with(SEARCH, limit="200"), "limit: str, documented int"),
        ("search", _with(SEARCH, after=200), "after: int, documented str"),
        ("search", _with(SEARCH, after="9900"), "after + limit: 10100, beyond the 10,000th result"),
        ("search", _with(SEARCH, filterGroups=SEARCH["filterGroups"] * 6), "filterGroups: 6 groups, documented at most 5"),
        ("search", _with(SEARCH, filterGroups=[{"filters": SEARCH["filterGroups"][0]["filters"] * 4}]),
         "filterGroups[0].filters: 8 filters, documented at most 6"),
        ("search", _with(SEARCH, filterGroups=[{"filters": SEARCH["filterGroups"][0]["filters"] * 3}] * 4),
         "filterGroups: 24 filters in all, documented at most 18"),
        ("search", _with(SEARCH, filterGroups=[{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "a"}]}]),
         "filterGroups[0].filters[0].operator: Invalid value for `operator` (LIKE)"),
        ("search", _with(SEARCH, filterGroups=[{"filters": [{"propertyName": "email", "value": "a"}]}]),
         "filterGroups[0].filters[0].operator: missing (required by Filter)"),
        ("search", _with(SEARCH, filterGroups=[{"filters": [{"propertyName": "email", "operator": "GT"}]}]),
         "filterGroups[0].filters[0].value: missing, GT compares with one"),
        ("search", _with(SEARCH, filterGroups=[{"filters": [{"propertyName": "n", "operator": "GT", "value": 5}]}]),
         "filterGroups[0].filters[0].value: int, documented str"),
        ("search", _with(SEARCH, sorts=[{"propertyName": "hs_object_id", "direction": "UP"}]),
         "sorts[0].direction: 'UP', documented one of ['ASCENDING', 'DESCENDING']"),
        ("search", _with(SEARCH, properties="email"), "properties: str, documented a list"),
        ("batch_read", _with(BATCH, archived=False), "archived: not a field of BatchReadInputSimplePublicObjectId"),
        ("batch_read", {"inputs": [{"id": "1"}], "properties": ["email"]},
         "propertiesWithHistory: missing (required by BatchReadInputSimplePublicObjectId)"),
        ("batch_read", _with(BATCH, inputs=[{"id": str(i)} for i in range(101)]), "inputs: 101 inputs, documented 1 to 100"),
        ("batch_read", _with(BATCH, propertiesWithHistory=["email"], inputs=[{"id": str(i)} for i in range(51)]),
         "inputs: 51 inputs, documented 1 to 50"),
        ("batch_read", _with(BATCH, inputs=[{"id": 1}]), "inputs[0].id: int, documented str"),
        ("associations_batch_read", _with(V4, inputs=[{"id": str(i)} for i in range(1001)]),
         "inputs: 1001 inputs, documented 1 to 1000"),
        ("associations_batch_read", _with(V4, inputs=[{"id": "1", "cursor": "c"}]),
         "inputs[0].cursor: not a field of PublicFetchAssociationsBatchRequest"),
        ("associations_batch_read", _with(V4, inputs=[{"after": "c"}]),
         "inputs[0].id: missing (required by PublicFetchAssociationsBatchRequest)"),
        ("token", TOKEN + "&redirect_uri=https%3A%2F%2Fexample.com", None),
        ("token", TOKEN + "&expires_in=60", "expires_in: not a field of the token form"),
        ("token", TOKEN.replace("&refresh_token=token", ""), "refresh_token: missing, a refresh needs it"),
        ("token", TOKEN.replace("refresh_token&", "password&"), "grant_type: 'password', documented one of"),
    ],
)
def test_given_a_broken_body_when_checked_then_the_contract_refuses_it(kind, body, problem):
    assert contract.request_problems(kind, {"search": SEARCH, "batch_read": BATCH,
                                            "associations_batch_read": V4}.get(kind, TOKEN)) == []
    found = contract.request_problems(kind, body)
    if problem is None:  # a documented field the connector does not send is still accepted
        assert found == []
    else:
        assert any(p.startswith(problem) for p in found), found


def test_given_either_shape_when_the_whole_read_runs_then_the_records_are_identical(runs):
    observed, documented = runs[OBSERVED].records, runs[DOCUMENTED].records
    assert set(observed) == set(STREAMS)  # every stream emitted records
    for stream in STREAMS:
        key = (lambda r: json.dumps(r, sort_keys=True))
        assert sorted(map(key, observed[stream])) == sorted(map(key, documented[stream])), stream
        if stream in ALL_STREAMS:
            ids = [r["id"] for r in observed[stream]]
            assert len(ids) == len(set(ids)), stream
    assert any(record.get("companies") for record in observed["contacts"])  # association ids were read
    assert any(isinstance(r["toObjectId"], str) for r in observed["association_links"])


def test_given_either_shape_when_hubspot_refuses_the_refresh_token_then_the_check_names_the_field(runs):
    messages = {shape: run.check_message for shape, run in runs.items()}
    assert messages[OBSERVED] == messages[DOCUMENTED]
    assert "BAD_REFRESH_TOKEN" in messages[OBSERVED] and "credentials.refresh_token" in messages[OBSERVED]


def test_given_the_contracts_limits_then_the_sandbox_enforces_the_same_numbers():
    from sandbox import associations_api, objects_api, search_api

    assert contract.LIMITS["search_limit"] == search_api.SEARCH_MAX_LIMIT
    assert contract.LIMITS["search_filter_groups"] == search_api.MAX_FILTER_GROUPS
    assert contract.LIMITS["search_filters_per_group"] == search_api.MAX_FILTERS_PER_GROUP
    assert contract.LIMITS["search_filters"] == search_api.MAX_FILTERS_TOTAL
    assert contract.LIMITS["search_results"] == search_api.SEARCH_MAX_RESULTS
    assert contract.LIMITS["batch_read_inputs"] == objects_api.BATCH_READ_MAX
    assert contract.LIMITS["associations_batch_read_inputs"] == associations_api.ASSOC_BATCH_MAX


@pytest.mark.parametrize("path,kind", [
    ("/crm/v3/objects/contacts/search", "search"),
    ("/crm/objects/2026-09/contacts/search", "search"),
    ("/crm/objects/2026-03/p_custom/batch/read", "batch_read"),
    ("/crm/v4/associations/contacts/companies/batch/read", "associations_batch_read"),
    ("/crm/associations/2026-09/contacts/companies/batch/read", "associations_batch_read"),
    ("/oauth/v1/token", "token"),
    ("/oauth/2026-09/token", "token"),
])
def test_given_a_versioned_path_when_its_kind_is_asked_then_the_version_segment_does_not_matter(path, kind):
    assert contract.endpoint_kind("POST", path) == kind


@pytest.mark.parametrize("absent_as_null", [True, False])
def test_given_an_answer_that_leaves_a_property_out_when_cast_then_it_is_null_only_with_absent_as_null(absent_as_null):
    from source_hubspot.components.casting import HubspotRecordCaster

    schema = {"properties": {"properties": {"type": "object", "properties": {
        "email": {"type": ["null", "string"]}, "amount": {"type": ["null", "number"]}}}}}
    record = {"id": "1", "properties": {"email": "a@example.com"}}
    HubspotRecordCaster(absent_as_null=absent_as_null).transform(record, schema)
    expected = {"email": "a@example.com", "amount": None} if absent_as_null else {"email": "a@example.com"}
    assert record["properties"] == expected
