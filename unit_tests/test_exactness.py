"""Exact under every answer HubSpot can give: empty pages with a cursor, partial batch answers, repeated cursors,
future dates, deletes by their archiving date, and the completeness check against HubSpot's own count.

Each test gives HubSpot's real answer shapes through requests-mock and asserts what reached the output."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, List

from airbyte_cdk.models import SyncMode

from source_hubspot.batch import read_batch
from testkit.connector import ONE_WINDOW, catalog, private_app_config, run_read, stream_state
from testkit.mock_server import (
    API,
    CONTACT_PROPERTIES,
    associated,
    associations_batch,
    batch_read,
    batch_read_partial,
    contact,
    count_requests,
    empty_search_page,
    is_count,
    list_page,
    owner,
    owners_page,
    properties_body,
    search_page,
    search_requests,
    with_errors,
)

SEARCH = f"{API}/crm/v3/objects/contacts/search"
V4 = f"{API}/crm/v4/associations/contacts/{{}}/batch/read"
INCREMENTAL = catalog("contacts", sync_mode=SyncMode.incremental)
SAVED = stream_state("contacts", {"updatedAt": "2024-01-01T00:00:00.000000Z"})


def _iso(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _millis(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class Portal:
    """Contacts behind a search that pages as `pages` says and counts honestly: a count search (limit 1, no sort)
    gets the number of `records` whose modification date lies within its GTE/LTE filters."""

    def __init__(self, records: List[Dict[str, Any]], pages: List[Dict[str, Any]]) -> None:
        self.records = records
        self.pages = list(pages)
        self.extra_count = 0

    def search(self, request: Any, context: Any) -> Dict[str, Any]:
        body = json.loads(request.body)
        if is_count(request):
            low = high = None
            for condition in body["filterGroups"][0]["filters"]:
                if condition["operator"] == "GTE":
                    low = int(condition["value"])
                elif condition["operator"] == "LTE":
                    high = int(condition["value"])
            total = sum(1 for r in self.records if low <= _millis(r["properties"]["lastmodifieddate"]) <= high)
            return empty_search_page(total=total + self.extra_count)
        return self.pages.pop(0)


def _mock(requests_mock, portal: Portal, associations: Any = None) -> None:
    requests_mock.get(f"{API}/crm/v3/properties/contacts", json=properties_body(CONTACT_PROPERTIES))
    requests_mock.post(SEARCH, json=portal.search)
    for to_type in ("companies", "deals", "tickets"):
        requests_mock.post(V4.format(to_type), (associations or {}).get(to_type) or [{"json": associations_batch([])}])


def _ids(output) -> List[str]:
    return [m.record.data["id"] for m in output.records]


def _read(requests_mock, portal: Portal, expecting_exception: bool = False, **config: Any):
    return run_read(private_app_config(**{**ONE_WINDOW, **config}), INCREMENTAL, SAVED, expecting_exception=expecting_exception)


def _saved_cursor(output) -> List[str]:
    return [m.state.stream.stream_state.updatedAt for m in output.state_messages]


# ---------------------------------------------------------------------------------------------------- paging
def test_given_an_empty_search_page_with_a_next_cursor_when_read_then_it_is_followed_and_every_record_is_emitted(requests_mock):
    records = [contact(1), contact(2), contact(3)]
    portal = Portal(records, [
        search_page(records[:2], more=True),
        search_page([], more=True, total=3, after="400"),
        search_page(records[2:]),
    ])
    _mock(requests_mock, portal)

    output = _read(requests_mock, portal)

    assert sorted(_ids(output)) == ["1", "2", "3"] and output.errors == []
    third = json.loads(search_requests(requests_mock)[2].body)
    assert third["after"] == "400"  # HubSpot's own cursor, under the same keyset filter as the empty page's
    assert {"propertyName": "hs_object_id", "operator": "GT", "value": "2"} in third["filterGroups"][0]["filters"]


def test_given_a_short_page_with_a_next_cursor_when_read_then_the_read_goes_on_past_its_last_id(requests_mock):
    records = [contact(i) for i in (4, 9, 12)]
    portal = Portal(records, [search_page(records[:1], more=True), search_page(records[1:])])
    _mock(requests_mock, portal)

    output = _read(requests_mock, portal)

    assert sorted(_ids(output), key=int) == ["4", "9", "12"]
    second = json.loads(search_requests(requests_mock)[1].body)
    assert {"propertyName": "hs_object_id", "operator": "GT", "value": "4"} in second["filterGroups"][0]["filters"]


def test_given_an_empty_page_whose_cursor_repeats_when_read_then_the_stream_fails_naming_the_endpoint(requests_mock):
    records = [contact(1)]
    empty = [search_page([], more=True, total=1, after="200") for _ in range(3)]
    portal = Portal(records, [search_page(records, more=True), *empty])
    _mock(requests_mock, portal)

    output = _read(requests_mock, portal, expecting_exception=True)

    message = output.errors[0].trace.error.message
    assert "pointed back to a page already read" in message and "/crm/v3/objects/contacts/search" in message
    assert set(_saved_cursor(output)) <= {"2024-01-01T00:00:00.000000Z"}  # never moved past the saved state
    assert len(search_requests(requests_mock)) == 3


# ---------------------------------------------------------------------------------------------------- 207 answers
def _partial(ok: List[Dict[str, Any]], failed: List[str]) -> Dict[str, Any]:
    return {"json": batch_read_partial(ok, failed, category="INTERNAL_ERROR", message="Something went wrong"), "status_code": 207}


def test_given_a_partial_v4_answer_when_read_then_the_failed_ids_are_read_again_and_keep_their_associations(requests_mock):
    records = [contact(1), contact(2)]
    portal = Portal(records, [search_page(records)])
    _mock(requests_mock, portal, {"companies": [_partial([associated(1, [11])], ["2"]),
                                                {"json": associations_batch([associated(2, [21])])}]})

    output = _read(requests_mock, portal)

    assert {m.record.data["id"]: m.record.data.get("companies") for m in output.records} == {"1": ["11"], "2": ["21"]}
    bodies = [json.loads(r.body) for r in requests_mock.request_history if r.path.endswith("/contacts/companies/batch/read")]
    assert [b["inputs"] for b in bodies] == [[{"id": "1"}, {"id": "2"}], [{"id": "2"}]]


def test_given_a_v4_answer_that_keeps_failing_when_read_then_the_stream_fails_naming_the_category_and_ids(requests_mock):
    records = [contact(1), contact(2)]
    portal = Portal(records, [search_page(records)])
    _mock(requests_mock, portal, {"companies": [_partial([], ["1", "2"])]})

    output = _read(requests_mock, portal, expecting_exception=True)

    message = output.errors[0].trace.error.message
    assert "INTERNAL_ERROR" in message and "1, 2" in message and "again after 5 retries" in message
    assert _ids(output) == [] and set(_saved_cursor(output)) <= {"2024-01-01T00:00:00.000000Z"}


def test_given_a_batch_answer_naming_ids_not_found_then_only_those_are_gone_and_nothing_is_retried():
    sent: List[List[str]] = []

    def send(inputs):
        sent.append([i["id"] for i in inputs])
        response = type("R", (), {})()
        response.body = batch_read_partial([{"id": "1"}], ["2"], category="OBJECT_NOT_FOUND")
        return response

    results = read_batch(send, [{"id": "1"}, {"id": "2"}], lambda r: r["id"], "contacts", 0, parse=lambda r: r.body)

    assert results == [{"id": "1"}] and sent == [["1", "2"]]


def test_given_an_error_that_names_no_ids_then_every_unanswered_input_is_read_again():
    answers = [
        with_errors(batch_read([{"id": "1"}]), {"category": "INTERNAL_ERROR", "message": "try again"}),
        batch_read([{"id": "2"}, {"id": "3"}]),
    ]
    sent: List[List[str]] = []

    def send(inputs):
        sent.append([i["id"] for i in inputs])
        return answers.pop(0)

    results = read_batch(send, [{"id": "1"}, {"id": "2"}, {"id": "3"}], lambda r: r["id"], "contacts", 0, parse=lambda r: r)

    assert [r["id"] for r in results] == ["1", "2", "3"] and sent == [["1", "2", "3"], ["2", "3"]]


# ---------------------------------------------------------------------------------------------------- dates
def test_given_a_record_dated_in_the_future_when_read_then_it_is_emitted_as_is_and_the_state_stays_at_the_sync_start(requests_mock):
    future = contact(7, updated="2099-01-01T00:00:00.000Z")
    records = [contact(6), future]
    portal = Portal(records, [search_page(records)])
    _mock(requests_mock, portal)
    before = datetime.now(timezone.utc)

    output = _read(requests_mock, portal)

    assert {m.record.data["id"]: m.record.data["updatedAt"] for m in output.records}["7"] == "2099-01-01T00:00:00.000Z"
    saved = _saved_cursor(output)[-1]
    assert datetime.strptime(saved, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)
    assert saved.startswith(str(before.year))


def test_given_a_record_archived_since_the_last_sync_with_an_old_modification_date_then_its_delete_is_emitted(requests_mock):
    now = int(time.time() * 1000)
    archived = {**contact(5, updated="2023-03-01T00:00:00.000Z"), "archived": True, "archivedAt": _iso(now - 3_600_000)}
    long_ago = {**contact(4, updated="2023-03-01T00:00:00.000Z"), "archived": True, "archivedAt": "2023-03-02T00:00:00.000Z"}
    portal = Portal([contact(1)], [search_page([contact(1)])])
    _mock(requests_mock, portal)
    requests_mock.get(f"{API}/crm/v3/objects/contacts", json=list_page([archived, long_ago]))

    output = _read(requests_mock, portal, include_archived=True)

    by_id = {m.record.data["id"]: m.record.data for m in output.records}
    assert set(by_id) == {"1", "5"}  # 4 was archived before the window: an earlier sync emitted it
    assert by_id["5"]["archived"] is True


# ---------------------------------------------------------------------------------------------------- completeness
def test_given_hubspot_counts_more_records_than_the_window_emitted_then_the_stream_fails_before_its_state_moves(requests_mock):
    records = [contact(1), contact(2), contact(3)]
    portal = Portal(records, [search_page(records[:1])])  # HubSpot's pages leave two records out
    _mock(requests_mock, portal)

    output = _read(requests_mock, portal, expecting_exception=True)

    message = output.errors[0].trace.error.message
    assert "HubSpot counts 3 contacts records" in message and "read only 1 of them" in message
    assert set(_saved_cursor(output)) <= {"2024-01-01T00:00:00.000000Z"}  # never moved past the saved state
    count = json.loads(count_requests(requests_mock)[0].body)
    assert count["limit"] == 1 and [f["operator"] for f in count["filterGroups"][0]["filters"]] == ["GTE", "LTE"]


def test_given_a_record_modified_within_the_lookback_that_search_shows_late_then_no_alarm_and_the_next_sync_reads_it(requests_mock):
    recent = contact(2, updated=_iso(int(time.time() * 1000) - 60_000))  # a minute ago: not yet in search's index
    portal = Portal([contact(1), recent], [search_page([contact(1)])])
    _mock(requests_mock, portal)

    output = _read(requests_mock, portal, lookback_minutes=10)

    assert _ids(output) == ["1"] and output.errors == []
    saved = _saved_cursor(output)[-1]
    # The next sync starts lookback_minutes before the saved state, which is before the late record's date.
    assert _millis(saved.replace("000Z", "Z")) - 10 * 60_000 <= _millis(recent["updatedAt"])
    report = [m.log.message for m in output.logs if "verified" in m.log.message]
    assert report == [] or "HubSpot counts 1" in report[0]


# ---------------------------------------------------------------------------------------------------- cursors that repeat
def test_given_a_v4_result_whose_cursor_repeats_when_read_then_the_stream_fails_instead_of_looping(requests_mock):
    records = [contact(1)]
    portal = Portal(records, [search_page(records)])
    looping = associations_batch([associated(1, [11], after="MTE=")])
    _mock(requests_mock, portal, {"companies": [{"json": looping}]})

    output = _read(requests_mock, portal, expecting_exception=True)

    assert "pointed back to a page already read" in output.errors[0].trace.error.message
    assert len([r for r in requests_mock.request_history if r.path.endswith("/contacts/companies/batch/read")]) == 2


def test_given_an_archived_listing_whose_cursor_repeats_when_read_then_the_stream_fails_instead_of_looping(requests_mock):
    portal = Portal([contact(1)], [search_page([contact(1)])])
    _mock(requests_mock, portal)
    listing = requests_mock.get(f"{API}/crm/v3/objects/contacts", json=list_page([], after="AAA"))

    output = _read(requests_mock, portal, expecting_exception=True, include_archived=True)

    assert "pointed back to a page already read" in output.errors[0].trace.error.message
    assert listing.call_count == 2


def test_given_owners_whose_cursor_repeats_when_read_then_the_stream_fails_instead_of_looping(requests_mock):
    owners = requests_mock.get(f"{API}/crm/v3/owners", json=owners_page([owner(1)], after="2"))

    output = run_read(private_app_config(), catalog("owners"), expecting_exception=True)

    assert "pointed back to a page already read" in output.errors[0].trace.error.message
    assert owners.call_count <= 4  # two partitions (active, archived), each stopped at its first repeat
