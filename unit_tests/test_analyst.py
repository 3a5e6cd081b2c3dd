"""The analyst tables with requests-mock: what reaches HubSpot, the rows that come out, scopes and odd answers."""

from __future__ import annotations

import json
import re

import pytest
from airbyte_cdk.models import SyncMode

from testkit import reset_run_state
from testkit.connector import ONE_WINDOW, catalog, check_status, private_app_config, run_check, run_discover, run_read
from testkit.mock_server import (
    API,
    CONTACT_PROPERTIES,
    associated,
    associations_batch,
    batch_read,
    deal_splits,
    deal_splits_batch,
    missing_scopes,
    mock_contacts,
    mock_no_custom_objects,
    owner,
    owners_page,
    properties_body,
    record,
    response,
    search_page,
    with_errors,
)

ANALYST = {"owners", "deal_pipelines", "ticket_pipelines", "association_links", "contacts_property_history",
           "companies_property_history", "deals_property_history", "tickets_property_history", "merges", "deal_splits"}
SPLITS = f"{API}/crm/v3/objects/deals/splits/batch/read"
SEARCH = re.compile(rf"{re.escape(API)}/crm/v3/objects/\w+/search$")


@pytest.fixture(autouse=True)
def _unpaced_search(monkeypatch):
    # A links read searches 8 objects at once; with sleep patched out, HubSpot's 5 searches per second would be
    # waited out by spinning. These tests are about requests and rows, not pacing.
    import source_hubspot.budget as budget

    monkeypatch.setattr(budget, "SEARCH_CALLS_PER_SECOND", 1000)
    reset_run_state()  # budgets built before the patch are forgotten


# The association type of every link in these tests but the labelled ones: one row per link.
UNLABELLED = [{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None}]


def _read(stream, config=None, expecting_exception=False):
    return run_read(config or private_app_config(**ONE_WINDOW), catalog(stream, sync_mode=SyncMode.incremental),
                    expecting_exception=expecting_exception)


def _rows(output, stream):
    return [m.record.data for m in output.records if m.record.stream == stream]


# --------------------------------------------------------------------------------------------------------------
# Discover
# --------------------------------------------------------------------------------------------------------------


def test_given_token_without_owners_and_deals_scopes_when_discover_then_those_tables_are_left_out(requests_mock):
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))
    for object_type in ("deals",):
        requests_mock.get(f"{API}/crm/v3/properties/{object_type}", status_code=403,
                          json=missing_scopes("crm.objects.deals.read"))
    requests_mock.get(f"{API}/crm/v3/owners", status_code=403, json=missing_scopes("crm.objects.owners.read"))
    mock_no_custom_objects(requests_mock)

    output = run_discover(private_app_config())

    names = {s.name for s in output.catalog.catalog.streams}
    assert ANALYST - names == {"owners", "deal_pipelines", "deals_property_history", "deal_splits"}
    warnings = " ".join(m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING"))
    assert "owners: HubSpot denied the request because the token lacks the scope(s) crm.objects.owners.read" in warnings
    assert "association_links: the token cannot read deals, so these links are not read: deals->contacts" in warnings
    assert "merges: deals records are not read" in warnings
    owners_calls = [r for r in requests_mock.request_history if r.path == "/crm/v3/owners"]
    assert len(owners_calls) == 1 and owners_calls[0].qs == {"limit": ["1"]}


def test_given_history_property_unknown_to_hubspot_when_discover_then_a_warning_names_it(requests_mock):
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))
    requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([]))
    mock_no_custom_objects(requests_mock)

    output = run_discover(private_app_config(contacts_history_properties=["email", "lifecyclestagee"]))

    warnings = " ".join(m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING"))
    assert "contacts_property_history: HubSpot has no contacts property lifecyclestagee" in warnings
    assert "email" not in warnings.split("lifecyclestagee")[0].split("property")[-1]


def test_given_read_then_no_scope_probe_is_sent(requests_mock):
    requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([owner(1)]))

    output = _read("owners")

    assert [r["id"] for r in _rows(output, "owners")] == ["1", "1"]  # the mock answers both partitions
    assert sorted(r.qs["archived"][0] for r in requests_mock.request_history) == ["false", "true"]
    assert all(r.qs["limit"] == ["500"] for r in requests_mock.request_history)


# --------------------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------------------


def test_given_owners_on_two_pages_when_read_then_the_after_cursor_is_followed(requests_mock):
    def owners(request, context):
        if request.qs["archived"] == ["true"]:
            return owners_page([owner(3, archived=True)])
        if "after" in request.qs:
            return owners_page([owner(2)])
        return owners_page([owner(1)], after="abc")

    requests_mock.get(f"{API}/crm/v3/owners", json=owners)

    output = _read("owners")

    assert sorted(r["id"] for r in _rows(output, "owners")) == ["1", "2", "3"]
    assert sorted((r.qs["archived"][0], r.qs.get("after", [""])[0]) for r in requests_mock.request_history) == [
        ("false", ""), ("false", "abc"), ("true", "")]


def test_given_deal_pipeline_when_read_then_one_typed_row_per_stage(requests_mock):
    requests_mock.get(f"{API}/crm/v3/pipelines/deals", json=response("pipelines_deals"))  # two stages, closed first

    rows = _rows(_read("deal_pipelines"), "deal_pipelines")

    assert [(r["pipelineId"], r["pipelineLabel"], r["stageId"], r["stageLabel"], r["isClosed"], r["probability"])
            for r in rows] == [("default", "Sales Pipeline", "closedwon", "Closed won", True, 1.0),
                               ("default", "Sales Pipeline", "appointmentscheduled", "Appointment scheduled", False, 0.2)]


def _mock_link_searches(requests_mock, companies):
    requests_mock.post(SEARCH, json=search_page([]))
    requests_mock.post(f"{API}/crm/v3/objects/companies/search", json=search_page(companies))


def test_given_labelled_link_without_its_label_text_when_read_then_the_pair_labels_are_read_once(requests_mock):
    _mock_link_searches(requests_mock, [record(7), record(8)])
    decision_maker = {"category": "USER_DEFINED", "typeId": 102, "label": None}
    requests_mock.post(f"{API}/crm/v4/associations/companies/contacts/batch/read", json=associations_batch([
        associated(7, [70], types=[*UNLABELLED, decision_maker]), associated(8, [80], types=[decision_maker])]))
    labels = requests_mock.get(f"{API}/crm/v4/associations/companies/contacts/labels", json={"results": [
        {"category": "HUBSPOT_DEFINED", "typeId": 280, "label": None},
        {"category": "USER_DEFINED", "typeId": 102, "label": "Decision maker"}]})

    rows = _rows(_read("association_links"), "association_links")

    assert sorted((r["fromObjectId"], r["toObjectId"], r["associationTypeId"], r.get("associationLabel")) for r in rows) == [
        ("7", "70", 102, "Decision maker"), ("7", "70", 280, None), ("8", "80", 102, "Decision maker")]
    assert all(r["updatedAt"] == "2024-05-01T10:00:00.123Z" and r["fromObjectType"] == "companies" for r in rows)
    assert labels.call_count == 1


def test_given_links_on_several_pages_of_one_company_when_read_then_each_page_is_followed(requests_mock):
    _mock_link_searches(requests_mock, [record(7)])
    batch = requests_mock.post(f"{API}/crm/v4/associations/companies/contacts/batch/read", [
        {"json": associations_batch([associated(7, [1, 2], types=UNLABELLED, after="p2")])},
        {"json": associations_batch([associated(7, [3], types=UNLABELLED)])},
    ])

    rows = _rows(_read("association_links"), "association_links")

    assert sorted(r["toObjectId"] for r in rows) == ["1", "2", "3"]
    assert [json.loads(r.body)["inputs"] for r in batch.request_history] == [[{"id": "7"}], [{"id": "7", "after": "p2"}]]


def test_given_ids_on_several_search_pages_when_read_then_one_association_batch_per_1000_ids(requests_mock):
    pages = [search_page([record(i) for i in range(start, start + 200)], more=start < 1001) for start in range(1, 1201, 200)]
    requests_mock.post(SEARCH, json=search_page([]))
    search = requests_mock.post(f"{API}/crm/v3/objects/companies/search", [{"json": page} for page in pages])
    batch = requests_mock.post(f"{API}/crm/v4/associations/companies/contacts/batch/read", json=associations_batch([]))

    _read("association_links")

    assert [json.loads(r.body)["filterGroups"][0]["filters"][0]["value"] for r in search.request_history] == [
        "0", "200", "400", "600", "800", "1000"]
    assert [len(json.loads(r.body)["inputs"]) for r in batch.request_history] == [1000, 200]
    body = json.loads(search.request_history[0].body)
    assert body["properties"] == ["hs_lastmodifieddate"] and body["limit"] == 200


def test_given_batch_answer_with_an_unexpected_error_when_read_then_the_sync_fails_instead_of_losing_rows(requests_mock):
    _mock_link_searches(requests_mock, [record(7), record(8)])
    requests_mock.post(f"{API}/crm/v4/associations/companies/contacts/batch/read", status_code=207, json=with_errors(
        associations_batch([]), {"category": "OBJECT_NOT_FOUND", "message": "No contacts for 7"},
        {"category": "INTERNAL_ERROR", "message": "try again"}))

    output = _read("association_links", expecting_exception=True)

    message = output.errors[0].trace.error.message
    assert "HubSpot could not read the companies/contacts associations (INTERNAL_ERROR: try again) for 2 id(s)" in message
    assert message.endswith("these ids.") and "retries: 7, 8." in message


def test_given_token_without_deals_scope_when_links_read_then_deals_parts_are_skipped_once_with_the_scope(requests_mock):
    _mock_link_searches(requests_mock, [record(7)])
    requests_mock.post(f"{API}/crm/v3/objects/deals/search", status_code=403, json=missing_scopes("crm.objects.deals.read"))
    requests_mock.post(f"{API}/crm/v4/associations/companies/contacts/batch/read",
                       json=associations_batch([associated(7, [1], types=UNLABELLED)]))
    denied = requests_mock.post(re.compile(rf"{re.escape(API)}/crm/v4/associations/\w+/deals/batch/read$"),
                                status_code=403, json=missing_scopes("crm.objects.deals.read"))

    output = _read("association_links")

    assert [r["toObjectId"] for r in _rows(output, "association_links")] == ["1"]
    warnings = [m.log.message for m in output.logs if "skipping deals" in m.log.message]
    assert len(warnings) == 1 and "crm.objects.deals.read" in warnings[0]
    assert [r for r in requests_mock.request_history if r.path.endswith("/deals/search")].__len__() == 1
    assert denied.call_count == 0  # no from-records were found in the other partitions to link to deals


def test_given_history_of_120_deals_when_read_then_batches_of_50_with_the_configured_properties(requests_mock):
    requests_mock.post(f"{API}/crm/v3/objects/deals/search", json=search_page([record(i) for i in range(1, 121)]))

    def history(request, context):
        inputs = json.loads(request.body)["inputs"]
        return batch_read([{**record(item["id"]), "propertiesWithHistory": {"dealstage": [
            {"value": "won", "timestamp": "2024-04-02T00:00:00.000Z", "sourceType": "CRM_UI", "sourceId": "userId:5",
             "updatedByUserId": 5},
            {"value": "open", "timestamp": "2024-04-01T00:00:00.000Z", "sourceType": "API", "sourceId": "123"}]}}
            for item in inputs])

    batch = requests_mock.post(f"{API}/crm/v3/objects/deals/batch/read", json=history)

    rows = _rows(_read("deals_property_history", private_app_config(deals_history_properties=["dealstage"], **ONE_WINDOW)),
                 "deals_property_history")

    bodies = [json.loads(r.body) for r in batch.request_history]
    assert [len(b["inputs"]) for b in bodies] == [50, 50, 20]
    assert all(b["propertiesWithHistory"] == ["dealstage"] and b["properties"] == ["hs_object_id"] for b in bodies)
    assert len(rows) == 240
    assert rows[0] == {"objectId": "1", "property": "dealstage", "value": "won", "timestamp": "2024-04-02T00:00:00.000Z",
                       "sourceType": "CRM_UI", "sourceId": "userId:5", "updatedByUserId": 5,
                       "updatedAt": "2024-05-01T10:00:00.123Z"}


def test_given_merged_contacts_when_read_then_rows_from_both_merge_properties(requests_mock):
    requests_mock.post(SEARCH, json=search_page([]))
    contacts = requests_mock.post(f"{API}/crm/v3/objects/contacts/search", json=search_page([
        record(10, hs_merged_object_ids="11;12", hs_calculated_merged_vids="11:1704067200000;13:1704153600000")]))
    requests_mock.post(f"{API}/crm/v3/objects/deals/search", json=search_page([record(20, hs_merged_object_ids="21")]))

    rows = _rows(_read("merges"), "merges")

    assert sorted((r["objectType"], r["mergedId"], r["survivingId"], r.get("mergedAt")) for r in rows) == [
        ("contacts", "11", "10", "2024-01-01T00:00:00.000Z"), ("contacts", "12", "10", None),
        ("contacts", "13", "10", "2024-01-02T00:00:00.000Z"), ("deals", "21", "20", None)]
    groups = json.loads(contacts.request_history[0].body)["filterGroups"]
    assert [g["filters"][-1] for g in groups] == [
        {"propertyName": "hs_merged_object_ids", "operator": "HAS_PROPERTY"},
        {"propertyName": "hs_calculated_merged_vids", "operator": "HAS_PROPERTY"}]
    # The keyset, then the window's start (the sync's last window has no end: source_hubspot/components.py)
    assert [f["propertyName"] for f in groups[0]["filters"]][:2] == ["hs_object_id", "lastmodifieddate"]


# --------------------------------------------------------------------------------------------------------------
# Deal splits
# --------------------------------------------------------------------------------------------------------------


def test_given_150_deals_when_deal_splits_read_then_batches_of_100_deal_ids_and_one_row_per_split(requests_mock):
    search = requests_mock.post(f"{API}/crm/v3/objects/deals/search", json=search_page([record(i) for i in range(1, 151)]))

    def splits(request, context):
        ids = [item["id"] for item in json.loads(request.body)["inputs"]]
        return deal_splits_batch([deal_splits(i, ("0.7", "23"), ("0.3", "34")) if i == "7" else deal_splits(i)
                                  for i in ids])

    batch = requests_mock.post(SPLITS, json=splits)

    output = run_read(private_app_config(**ONE_WINDOW), catalog("deal_splits"))

    assert [len(json.loads(r.body)["inputs"]) for r in batch.request_history] == [100, 50]
    body = json.loads(search.request_history[0].body)
    assert body["properties"] == ["hs_lastmodifieddate"] and body["limit"] == 200
    assert [f["propertyName"] for f in body["filterGroups"][0]["filters"]] == ["hs_object_id"]  # every deal
    rows = _rows(output, "deal_splits")
    assert [(r["id"], r["dealId"], r["properties_hs_deal_split_percentage"], r["properties_hubspot_owner_id"])
            for r in rows] == [("701", "7", 0.7, "23"), ("702", "7", 0.3, "34")]
    assert rows[0]["properties"] == {"hs_deal_split_percentage": "0.7", "hubspot_owner_id": "23"}
    assert rows[0]["createdAt"] == "2024-03-11T14:02:51.312Z" and rows[0]["archived"] is False
    assert not output.state_messages or all(m.state.stream.stream_descriptor.name == "deal_splits"
                                            for m in output.state_messages)


def test_given_split_properties_as_hubspot_writes_them_when_read_then_numbers_and_moments_are_typed(requests_mock):
    requests_mock.post(f"{API}/crm/v3/objects/deals/search", json=search_page([record(4)]))
    requests_mock.post(SPLITS, json=deal_splits_batch([deal_splits(
        4, ("1", "23"), hs_deal_split_amount="1250.5", hs_createdate="1710165771312",
        hs_lastmodifieddate="2024-04-02T09:17:40.008Z", hs_deal_id="4")]))

    row = _rows(run_read(private_app_config(**ONE_WINDOW), catalog("deal_splits")), "deal_splits")[0]

    assert (row["properties_hs_deal_split_percentage"], row["properties_hs_deal_split_amount"]) == (1.0, 1250.5)
    assert row["properties_hs_createdate"] == "2024-03-11T14:02:51.312Z"
    assert row["properties_hs_lastmodifieddate"] == "2024-04-02T09:17:40.008Z"
    assert row["properties_hs_deal_id"] == "4" and row["properties"]["hs_deal_split_amount"] == "1250.5"


def test_given_token_without_the_deal_splits_scope_when_discover_then_deal_splits_is_left_out_naming_it(requests_mock):
    mock_no_custom_objects(requests_mock)
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))
    requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([]))
    probe = requests_mock.post(SPLITS, status_code=403, json=missing_scopes("crm.dealsplits.read_write"))

    output = run_discover(private_app_config())

    names = {s.name for s in output.catalog.catalog.streams}
    assert ANALYST - names == {"deal_splits"}
    assert [json.loads(r.body) for r in probe.request_history] == [{"inputs": []}]  # reads no deal
    warnings = " ".join(m.log.message for m in output.logs if m.log.level.value in ("WARN", "WARNING"))
    assert "deal_splits: HubSpot denied the request because the token lacks the scope(s) crm.dealsplits.read_write" in warnings


# --------------------------------------------------------------------------------------------------------------
# Property history of any object
# --------------------------------------------------------------------------------------------------------------


def _history_answer(name):
    def answer(request, context):
        return batch_read([{**record(item["id"]), "propertiesWithHistory": {name: [
            {"value": "v", "timestamp": "2024-04-02T00:00:00.000Z", "sourceType": "API", "sourceId": "1"}]}}
            for item in json.loads(request.body)["inputs"]])
    return answer


def test_given_no_history_config_when_tickets_history_read_then_the_registry_defaults_are_asked(requests_mock):
    requests_mock.post(f"{API}/crm/v3/objects/tickets/search", json=search_page([record(3)]))
    batch = requests_mock.post(f"{API}/crm/v3/objects/tickets/batch/read", json=_history_answer("hs_pipeline_stage"))

    rows = _rows(_read("tickets_property_history"), "tickets_property_history")

    assert json.loads(batch.request_history[0].body)["propertiesWithHistory"] == [
        "hs_pipeline_stage", "hs_pipeline", "hs_ticket_priority", "hubspot_owner_id"]
    assert [(r["objectId"], r["property"], r["value"]) for r in rows] == [("3", "hs_pipeline_stage", "v")]


@pytest.mark.parametrize("config, asked", [
    ({"contacts_history_properties": ["email"]}, ["email"]),  # the older key still works
    ({"property_history": [{"stream": "contacts", "properties": ["num_notes", " email "]}],
      "contacts_history_properties": ["email"]}, ["num_notes", "email"]),  # an entry wins over it
    ({"property_history": [{"stream": "contacts", "properties": ["email"]},
                           {"stream": "contacts", "properties": ["num_notes", "email"]}]}, ["email", "num_notes"]),
    ({"property_history": [{"stream": "deals", "properties": ["amount"]}]},
     ["lifecyclestage", "hs_lead_status", "hubspot_owner_id"]),  # another stream's entry leaves the defaults
])
def test_given_history_config_when_contacts_history_read_then_the_chosen_properties_are_asked(requests_mock, config, asked):
    requests_mock.post(f"{API}/crm/v3/objects/contacts/search", json=search_page([record(5)]))
    batch = requests_mock.post(f"{API}/crm/v3/objects/contacts/batch/read", json=_history_answer("email"))

    _read("contacts_property_history", private_app_config(**config, **ONE_WINDOW))

    assert json.loads(batch.request_history[0].body)["propertiesWithHistory"] == asked


def test_given_an_activity_stream_in_property_history_when_read_then_its_own_history_stream_reads_that_type(requests_mock):
    mock_no_custom_objects(requests_mock)
    config = private_app_config(property_history=[{"stream": "engagements_calls", "properties": ["hs_call_title"]}],
                                **ONE_WINDOW)
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))
    requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([]))
    requests_mock.post(SPLITS, json=deal_splits_batch([]))
    streams = {s.name: s for s in run_discover(config).catalog.catalog.streams}
    search = requests_mock.post(f"{API}/crm/v3/objects/calls/search", json=search_page([record(i) for i in (1, 2)]))
    batch = requests_mock.post(f"{API}/crm/v3/objects/calls/batch/read", json=_history_answer("hs_call_title"))

    output = _read("engagements_calls_property_history", config)

    added = streams["engagements_calls_property_history"]
    assert SyncMode.incremental in added.supported_sync_modes
    assert added.json_schema["properties"].keys() == streams["contacts_property_history"].json_schema["properties"].keys()
    assert len(search.request_history) == 1
    assert json.loads(batch.request_history[0].body)["propertiesWithHistory"] == ["hs_call_title"]
    rows = _rows(output, "engagements_calls_property_history")
    assert sorted(r["objectId"] for r in rows) == ["1", "2"] and {r["property"] for r in rows} == {"hs_call_title"}
    state = output.state_messages[-1].state.stream.stream_state.__dict__
    assert [s["partition"] for s in state["states"]] == [{"object_type": "calls"}]


@pytest.mark.parametrize("stream, hint", [
    ("calls", "('calls' is the object type read by the stream 'engagements_calls': write that.)"),
    ("tikets", ""),
])
def test_given_property_history_naming_no_object_stream_when_discover_then_a_config_error_names_it(requests_mock, stream, hint):
    mock_no_custom_objects(requests_mock)
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))

    output = run_discover(private_app_config(property_history=[{"stream": stream, "properties": ["x"]}]),
                          expecting_exception=True)

    error = output.errors[-1].trace.error
    assert error.failure_type.value == "config_error"
    assert error.message.startswith(f"property_history lists the stream '{stream}', which is none of this connector's "
                                    f"object streams.{' ' + hint if hint else ''} Write the name of an object stream")
    assert "engagements_calls, engagements_emails" in error.message
    # No record is read: at most the property definitions, and the schemas answer that names the custom streams.
    assert all("/properties/" in r.path or r.path.endswith("/schemas") for r in requests_mock.request_history)


def test_given_property_history_naming_no_object_stream_when_check_then_it_fails_with_that_message(requests_mock):
    mock_contacts(requests_mock)

    status = check_status(run_check(private_app_config(property_history=[{"stream": "tikets", "properties": ["x"]}])))

    assert status.status.value == "FAILED"
    assert status.message.startswith("property_history lists the stream 'tikets', which is none of this connector's")
    assert requests_mock.call_count == 0  # said before any call
