"""First syncs read by list (ids upward) and search (ids downward) at once: exact under every interleaving.

The two readers run on their own threads against fake requesters that page like HubSpot (the list by cursor, in id
order or scrambled; search sorted descending with a keyset filter) and sleep a random moment per call, so each
seed meets at a different id. The fakes' records stand for HubSpot's; what matters is which ids come out."""

from __future__ import annotations

import json
import random
import threading
from types import SimpleNamespace
from typing import Any, Dict, List, Mapping, Optional

import pytest
import requests
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.search import DESCENDING_IDS, keyset_of
from source_hubspot.components.pages import Page
from source_hubspot.components.windows import SliceHashedOnce
from source_hubspot.first_sync import FirstSyncRead, IdMeeting
from testkit.mock_server import associated, associations_batch, list_page, search_page

WINDOW = {"start_time": "2024-01-01T00:00:00.000000Z", "end_time": "2024-12-31T00:00:00.000000Z"}
IN_WINDOW = "2024-06-01T00:00:00.000Z"
AFTER_WINDOW = "2025-02-01T00:00:00.000Z"  # changed during the sync: left to the next one


def _sleep(seconds: float) -> None:
    """A real pause (the suite's autouse fixture makes time.sleep return at once, for fast retries)."""
    threading.Event().wait(seconds)


def _response(method: str, body: Dict[str, Any]) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()
    response.request = requests.Request(method, "https://api.hubapi.com/crm/v3/objects/contacts").prepare()
    return response


class Portal:
    def __init__(
        self, seed: int, count: int, scrambled: bool = False, list_fails_at: Optional[int] = None, list_late: float = 0.0
    ) -> None:
        rng = random.Random(seed)
        self.rng = rng
        ids = sorted(rng.sample(range(1, count * 20), count))
        self.records = {i: {"id": str(i), "updatedAt": AFTER_WINDOW if rng.random() < 0.05 else IN_WINDOW} for i in ids}
        self.list_order = sorted(ids, key=lambda i: rng.random()) if scrambled else ids
        self.counts = 0  # completeness counts asked for
        self.list_fails_at = list_fails_at  # the list call that fails (HubSpot refuses it)
        self.records_fail_at: Optional[int] = None  # the list page whose records cannot be processed
        self.list_late = list_late  # seconds the list's first call waits: search takes a share first
        self.list_calls = 0
        self.search_calls = 0

    def in_window(self) -> List[str]:
        return sorted(str(i) for i, r in self.records.items() if r["updatedAt"] == IN_WINDOW)

    def _pause(self) -> None:
        _sleep(self.rng.random() * 0.004)

    def list_page(self, stream_slice: Any, next_page_token: Optional[Mapping[str, Any]], **_: Any) -> requests.Response:
        self._pause()
        if not self.list_calls:
            _sleep(self.list_late)
        self.list_calls += 1
        if self.list_fails_at is not None and self.list_calls >= self.list_fails_at:
            raise AirbyteTracedException(message="HubSpot refused a request whose URL is too long (HTTP 414).")
        start = int((next_page_token or {}).get("next_page_token") or 0)
        page = self.list_order[start : start + 7]
        after = str(start + 7) if start + 7 < len(self.list_order) else None
        return _response("GET", list_page([dict(self.records[i]) for i in page], after=after))

    def select(self, page: Page, *_: Any) -> List[Dict[str, Any]]:
        """The output of a page a reader made (the selector's `select_page`)."""
        if page.listed and self.records_fail_at is not None and self.list_calls >= self.records_fail_at:
            raise AirbyteTracedException(message="HubSpot answered 403 for an association of this page.")
        assert not page.checked  # the first sync checks its window itself
        return list(page.records)

    def serve_block_late(self, start: int, size: int) -> List[int]:
        """HubSpot's list serves a block of ids (pages still ascending) after all the others."""
        block = self.list_order[start : start + size]
        self.list_order = [i for i in self.list_order if i not in block] + block
        return block

    def count(self, object_type: str, low: int, top: int) -> int:
        """HubSpot's search count of the window's records (all in-window records are modified at IN_WINDOW)."""
        self.counts += 1
        return sum(1 for r in self.records.values() if r["updatedAt"] == IN_WINDOW)

    def search_page(self, stream_slice: Any, next_page_token: Optional[Mapping[str, Any]], **_: Any) -> requests.Response:
        assert stream_slice.get(DESCENDING_IDS)
        self._pause()
        self.search_calls += 1
        below = keyset_of(next_page_token).last_id
        ids = [i for i in sorted(self.records, reverse=True) if (below is None or i < below)]
        ids = [i for i in ids if self.records[i]["updatedAt"] == IN_WINDOW]  # search filters on the window
        page = search_page([dict(self.records[i]) for i in ids[:5]], more=len(ids) > 5, total=len(ids), after="5")
        return _response("POST", page)


def _ignoring_the_sort(portal: Portal) -> Portal:
    """The portal's search answers each page in ascending id order, whatever sort was asked for."""
    search_page = portal.search_page

    def ascending(stream_slice: Any, next_page_token: Optional[Mapping[str, Any]], **kwargs: Any) -> requests.Response:
        response = search_page(stream_slice, next_page_token, **kwargs)
        body = json.loads(response.content)
        body["results"].sort(key=lambda r: int(r["id"]))
        response._content = json.dumps(body).encode()
        return response

    portal.search_page = ascending  # type: ignore[method-assign]
    return portal


def _read(portal: Portal) -> List[str]:
    retriever = SimpleNamespace(
        name="contacts",
        requester=SimpleNamespace(send_request=portal.search_page),
        list_requester=SimpleNamespace(send_request=portal.list_page, object_type_of=lambda stream_slice: "contacts"),
        record_selector=SimpleNamespace(select_page=portal.select, extractor=SimpleNamespace(count_modified=portal.count)),
        config={"lookback_minutes": 0},
    )
    read = FirstSyncRead(retriever, {}, StreamSlice(partition={}, cursor_slice=WINDOW))  # type: ignore[arg-type]
    return [record["id"] for record in read.records()]


@pytest.mark.parametrize("seed", range(12))
def test_given_an_ordered_list_when_both_readers_meet_then_every_record_in_the_window_comes_once(seed):
    portal = Portal(seed, count=120)
    emitted = _read(portal)
    assert sorted(emitted) == portal.in_window()
    assert portal.list_calls >= 1 and portal.search_calls >= 1


def test_given_an_ordered_list_then_both_readers_take_a_share():
    shares = []
    for seed in range(6):
        portal = Portal(seed, count=300)
        assert sorted(_read(portal)) == portal.in_window()
        shares.append((portal.list_calls, portal.search_calls))
    # Each reader stopped where it met the other: together they made about the calls one reader alone would need.
    assert all(list_calls < 300 / 7 + 1 for list_calls, _ in shares)
    assert any(search_calls > 2 for _, search_calls in shares)


@pytest.mark.parametrize("seed", range(8))
def test_given_a_list_out_of_id_order_then_it_reads_to_its_end_and_nothing_is_lost_or_doubled(seed):
    portal = Portal(seed, count=300, scrambled=True, list_late=0.01)  # search has taken the top ids by then
    emitted = _read(portal)
    assert sorted(emitted) == portal.in_window()
    assert portal.list_calls == -(-300 // 7)  # every list page


@pytest.mark.parametrize("fails_at", [1, 2, 5, 9])
def test_given_a_list_call_fails_then_search_reads_the_rest_exactly(fails_at):
    for seed in range(4):
        portal = Portal(seed, count=150, list_fails_at=fails_at, list_late=0.01 * seed)
        assert sorted(_read(portal)) == portal.in_window()


def test_given_a_list_call_fails_after_reading_out_of_order_then_the_read_fails_loudly():
    portal = Portal(3, count=150, scrambled=True, list_fails_at=4)
    with pytest.raises(AirbyteTracedException, match="414"):
        _read(portal)


def test_given_a_list_page_cannot_be_processed_then_the_read_fails_loudly():
    portal = Portal(5, count=150)
    portal.records_fail_at = 2
    with pytest.raises(AirbyteTracedException, match="403"):
        _read(portal)


def test_given_search_returns_ids_out_of_the_order_asked_then_search_stops_and_the_list_reads_up_to_its_range():
    meeting = IdMeeting()
    assert meeting.take_search([50, 40]) == ([50, 40], False)
    assert meeting.take_search([45, 30]) == ([], True)  # 45 is not below 40: the keyset was not honoured
    assert meeting.take_search([20, 10]) == ([], True)  # and search stays stopped
    assert meeting.take_list([1, 2, 39]) == ([1, 2, 39], False)
    assert meeting.take_list([40, 41]) == ([], True)


@pytest.mark.parametrize("seed", range(4))
def test_given_a_search_that_ignores_the_descending_sort_then_the_list_reads_everything_once(seed):
    portal = _ignoring_the_sort(Portal(seed, count=150))
    assert sorted(_read(portal)) == portal.in_window()


def test_meeting_gives_each_id_to_one_reader():
    meeting = IdMeeting()
    assert meeting.take_list([1, 2, 3]) == ([1, 2, 3], False)
    assert meeting.take_search([9, 8, 7]) == ([9, 8, 7], False)
    assert meeting.take_list([4, 7, 8]) == ([4], True)  # 7 and 8 are search's
    assert meeting.take_search([6, 4]) == ([6], True)  # 4 is the list's


# ------------------------------------------------------------------------------------------------------------------
# A list page's inline association ids are trusted only once a v4 batch read of the same page agreed with them.
# ------------------------------------------------------------------------------------------------------------------
class V4:
    """A v4 association batch-read endpoint: contact n is linked to companies n*10 and n*10+1."""

    def __init__(self) -> None:
        self.calls = 0

    def send_request(self, path: str, request_body_json: Dict[str, Any], **_: Any) -> requests.Response:
        self.calls += 1
        ids = [int(i["id"]) for i in request_body_json["inputs"]]
        return _response("POST", associations_batch([associated(n, [n * 10, n * 10 + 1]) for n in ids]))


def _list_page(first: int, inline: Any) -> requests.Response:
    records = [{"id": str(n), "updatedAt": IN_WINDOW, "properties": {}, **({"associations": inline(n)} if inline else {})}
               for n in range(first, first + 3)]
    return _response("GET", list_page(records))


def _extractor(v4: V4) -> Any:
    from source_hubspot.components.associations import DeniedAssociations
    from source_hubspot.components.records import HubspotRecordExtractor

    DeniedAssociations.clear()
    return HubspotRecordExtractor(config={}, parameters={}, associations_requester=v4, object_type="contacts",
                                  associations=["companies"])


def _ids_of(n: int) -> Dict[str, Any]:
    return {"companies": {"results": [{"id": str(n * 10), "type": "contact_to_company"},
                                      {"id": str(n * 10), "type": "contact_to_company_unlabeled"},
                                      {"id": str(n * 10 + 1), "type": "contact_to_company_unlabeled"}]}}


def test_given_inline_ids_that_match_the_v4_read_then_later_list_pages_use_them_without_calls():
    v4 = V4()
    extractor = _extractor(v4)
    first = list(extractor.extract_records(_list_page(1, _ids_of)))
    later = list(extractor.extract_records(_list_page(4, _ids_of)))
    assert [r["companies"] for r in first + later] == [[str(n * 10), str(n * 10 + 1)] for n in range(1, 7)]
    assert v4.calls == 1 and all("associations" not in r for r in first + later)


def test_given_a_list_that_leaves_associations_out_then_every_list_page_is_read_with_v4(caplog):
    v4 = V4()
    extractor = _extractor(v4)
    pages = [list(extractor.extract_records(_list_page(first, None))) for first in (1, 4, 7)]
    assert [r["companies"] for page in pages for r in page] == [[str(n * 10), str(n * 10 + 1)] for n in range(1, 10)]
    assert v4.calls == 3


def test_given_a_slice_hashed_once_then_the_cdks_cursor_finds_it_under_the_partitions_own_slice(monkeypatch):
    # The CDK's cursor keys each record's slice in a dict and looks it up again with the partition's own slice.
    from airbyte_cdk.utils.slice_hasher import SliceHasher

    original = StreamSlice(partition={"object_type": "contacts"}, cursor_slice={"start_time": "2024-01-01T00:00:00.000Z",
                                                                               "end_time": "2024-02-01T00:00:00.000Z"})
    hashed = SliceHashedOnce(original)
    assert hashed == original and original == hashed and hash(hashed) == hash(original)
    assert {hashed: 1}[original] == 1 and {original: 2}[hashed] == 2
    calls = []
    monkeypatch.setattr(SliceHasher, "hash", classmethod(lambda cls, *a, **k: calls.append(1) or 0))
    for _ in range(1000):
        hash(hashed)
    assert calls == [], "the slice was hashed again"
    assert dict(hashed) == dict(original) and hashed.partition == original.partition


# ------------------------------------------------------------------------------------------------------------------
# What stops one reader never leaves a gap: the list's early stop is checked by HubSpot's count, and a reader that
# cannot finish the other's part fails the read.
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_given_a_block_of_ids_the_list_serves_late_when_the_readers_meet_then_the_list_reads_on_and_nothing_is_lost(seed, caplog):
    portal = Portal(seed, count=300, list_late=0.02)
    block = portal.serve_block_late(start=20, size=9)  # low ids, after every other id in the list
    emitted = _read(portal)
    assert sorted(emitted) == portal.in_window() and len(emitted) == len(set(emitted))
    assert {str(i) for i in block if portal.records[i]["updatedAt"] == IN_WINDOW} <= set(emitted)
    assert "reads on to its end" in caplog.text


def test_given_an_ordered_list_that_met_search_then_one_count_confirms_its_part_and_it_stops_early():
    portal = Portal(1, count=300, list_late=0.02)
    assert sorted(_read(portal)) == portal.in_window()
    assert portal.counts == 1  # the whole window, once
    assert portal.list_calls < 300 / 7


def test_given_search_stopped_for_disorder_when_the_list_fails_then_the_read_fails_loudly():
    portal = _ignoring_the_sort(Portal(2, count=300, list_fails_at=6))
    with pytest.raises(AirbyteTracedException):
        _read(portal)


def test_given_the_list_fails_and_served_ids_late_then_the_read_fails_loudly_instead_of_skipping_them():
    portal = Portal(4, count=300, list_fails_at=4, list_late=0.02)
    portal.serve_block_late(start=5, size=9)
    with pytest.raises(AirbyteTracedException, match="would have been lost"):
        _read(portal)


def test_given_hubspot_counts_more_records_than_were_read_then_the_read_fails_with_the_numbers():
    portal = Portal(5, count=100)
    counted = portal.count

    def three_more_in_the_window(object_type: str, low: int, top: int) -> int:
        return counted(object_type, low, top) + 3

    portal.count = three_more_in_the_window  # type: ignore[method-assign]
    with pytest.raises(AirbyteTracedException, match="would have been lost"):
        _read(portal)
