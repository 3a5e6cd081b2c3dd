"""A first sync reads each object with both of HubSpot's budgets at once (DESIGN.md section 3).

HubSpot limits search to 5 calls a second and everything else to its per-10-second budget, separately. A first sync
of an object (no saved state, or a full refresh) reads every record, so it is read as one window
[start_date, now] by two readers at the same time:

- the list reader pages `GET {objects}/{type}` (100 records a call, associations inline) from the lowest id
  up, on the general budget;
- the search reader pages search (200 records a call, sorted by `hs_object_id` descending, keyset on the id) from
  the highest id down, on the search budget, its association reads on the general budget.

`IdMeeting` decides, under one lock, which reader takes which id: the list takes ids below the lowest id search
took, search takes ids above the highest id the list took, and each stops where it meets the other. No id is
taken twice and none is skipped, provided the list returns ids in ascending order. That order is checked on every
page: if the list ever returns an id at or below one it returned before, search stops where it is and the list
reads to its end, taking only ids below search's range (slower, still exact).

Both readers keep only records modified inside the window, as the search filter does, so a record changed during
the sync (after the window's end) is left to the next sync and the saved state never passes the window's end.
Every page whose ids the list took goes on to the output, so if the list reader fails (a 414 for a URL too long, a
missing scope, retries exhausted) search just reads on down to the list's highest id, and the sync stays exact.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.api import CursorTrail, Keyset, RepeatedCursorError, next_after, page_results, parse_body, path_of
from source_hubspot.batch import BodyList, read_batch
from source_hubspot.budget import HELPER_PRIORITY, set_priority
from source_hubspot.completeness import WindowTally, checked_top, lookback_ms, modified_millis, verify
from source_hubspot.components.pages import Page
from source_hubspot.components.windows import WindowRetriever
from source_hubspot.search import DESCENDING_IDS, IDS_ONLY, window_bounds
from source_hubspot.progress import ApiCalls, Completeness

logger = logging.getLogger("airbyte")

# The list reader carries every property name in its URL. HubSpot answers 414 to long URLs without saying how long
# is too long; longer lists than this are read by search alone.
LIST_URL_MAX = 7_000
_QUEUE_PAGES = 3  # pages parsed ahead of the records built from them, per reader (memory: wide pages are large)
_POLL_SECONDS = 0.5
# How a reader ended (FirstSyncRead.list_end).
END, MET, FAILED = "end", "met", "failed"


class IdMeeting:
    """Which reader takes which id: the list from the bottom, search from the top, never both, never neither."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.list_high: Optional[int] = None  # every id the list took is at or below this
        self.search_low: Optional[int] = None  # every id search took is at or above this
        self.list_ordered = True
        self.search_trusted = True
        self.list_failed = False
        self.list_to_end = False  # the list reads to its end, taking every id below search's range
        self._list_seen: Optional[int] = None
        self.taken = 0  # ids taken by either reader

    def take_list(self, ids: List[int]) -> Tuple[List[int], bool]:
        """The ids of one list page the list reader takes, and whether it is finished (it met search)."""
        with self._lock:
            for object_id in ids:
                if self._list_seen is not None and object_id <= self._list_seen:
                    if self.list_ordered:
                        logger.warning(
                            "HubSpot's list returned ids out of ascending order: the list reader reads to its end "
                            "and search stops where it is (slower, still exact)."
                        )
                    self.list_ordered = False
                self._list_seen = object_id if self._list_seen is None else max(self._list_seen, object_id)
            low = self.search_low
            taken = [i for i in ids if low is None or i < low]
            if taken:
                self.list_high = max(taken) if self.list_high is None else max(self.list_high, max(taken))
            self.taken += len(taken)
            return taken, self.list_ordered and not self.list_to_end and len(taken) < len(ids)

    def list_stopped(self) -> bool:
        """The list reader failed: whether search still reads the rest (down to `list_high`). Only while the list's
        ids came in ascending order and search keeps the order asked for: then every id up to `list_high` was taken
        by the list and every id above it is search's to take. (Whether the list really served every id below its
        meeting point is checked by a count after both readers are done.)"""
        with self._lock:
            self.list_failed = True
            return self.list_ordered and self.search_trusted

    def take_search(self, ids: List[int]) -> Tuple[List[int], bool]:
        """The ids of one search page (descending) search takes, and whether it is finished (it met the list)."""
        with self._lock:
            low = self.search_low
            if any(b >= a for a, b in zip(ids, ids[1:])) or (low is not None and ids and ids[0] >= low):
                # Not the order asked for (hs_object_id descending, below the last id read): this page is not taken
                # and search stops; what it took before stays a contiguous range, and the list reads up to it.
                if self.list_failed:
                    raise AirbyteTracedException(
                        message=(
                            "HubSpot's search returned ids out of the order asked for (hs_object_id descending) after "
                            "the list reader had failed, so neither reader can read the rest of this first sync. The "
                            "sync stopped; no state was saved for the stream. Run it again."
                        ),
                        failure_type=FailureType.transient_error,
                    )
                if self.search_trusted:
                    logger.warning(
                        "HubSpot's search returned ids out of the order asked for (hs_object_id descending): search "
                        "stops where it is and the list reads the rest (slower, still exact)."
                    )
                self.search_trusted = False
            if not self.list_ordered or not self.search_trusted:
                return [], True
            high = self.list_high
            taken = [i for i in ids if high is None or i > high]
            if taken:
                self.search_low = min(taken) if self.search_low is None else min(self.search_low, min(taken))
            self.taken += len(taken)
            return taken, len(taken) < len(ids)


def _ids(response: requests.Response, object_type: str) -> List[int]:
    """The ids of a page (checked as the extractor checks them), as numbers: the readers compare them."""
    try:
        return [int(record["id"]) for record in page_results(response, object_type)]
    except (TypeError, ValueError):
        raise AirbyteTracedException(
            message=(
                f"HubSpot returned a {object_type} record whose 'id' is not a number from {path_of(response)}; the "
                "page cannot be trusted. Retry the sync; if it persists, report it to HubSpot support."
            ),
            failure_type=FailureType.transient_error,
        )


class FirstSyncRead:
    """One window read by both readers. Each reader is two threads: one fetches pages and decides which ids it takes
    (so its next request leaves as soon as the page is parsed), one turns the taken records into output (casting,
    association reads). The partition's own thread yields what they hand on.

    When both are done, the window is checked against HubSpot's count (completeness.py). The list stopped where it
    met search trusting its ids' order; if HubSpot counts more records than the two read, some ids came later in the
    list than their order promised, and the list reads on to its end before the window is checked again. Any other
    shortfall (the list failed, search lost a page) fails the stream with the numbers."""

    def __init__(
        self,
        retriever: "FirstSyncRetriever",
        records_schema: Mapping[str, Any],
        stream_slice: StreamSlice,
        ids_only: bool = False,
        done: Any = None,
    ) -> None:
        """`done`: a read of this window that stopped part-way (id_ranges.RangeRead): its records are not emitted
        again and count towards this window's check."""
        self.retriever = retriever
        self.ids_only = ids_only  # list pages without properties: a batch read per page fetches them
        self.records_schema = records_schema
        self.stream_slice = stream_slice
        list_requester = retriever.list_requester
        self.object_type = list_requester.object_type_of(stream_slice)  # type: ignore[union-attr]
        self.modified_property = objects.object_type(self.object_type).modified_property
        self.meeting = IdMeeting()
        self.list_slice = (
            StreamSlice(partition={**stream_slice.partition, IDS_ONLY: True}, cursor_slice=stream_slice.cursor_slice,
                        extra_fields=stream_slice.extra_fields)
            if ids_only else stream_slice
        )
        self.window = window_bounds(stream_slice)
        self.out: "queue.Queue[Any]" = queue.Queue(maxsize=_QUEUE_PAGES)
        self.cancelled = threading.Event()
        self.calls = {"list": 0, "search": 0}
        self.emitted = {"list": 0, "search": 0}
        self.total: Optional[int] = None  # the window's records, as HubSpot's search counts them
        # Where the list reader stopped (END, MET or FAILED) and its cursor there.
        self.list_end: Optional[str] = None
        self.list_after: Optional[str] = None
        self.list_trail = CursorTrail(f"GET the {self.object_type} list")
        config = getattr(retriever, "config", None) or {}
        self.backoff = float(config.get("retry_backoff_factor", 1) or 0) if isinstance(config, Mapping) else 1.0
        low, high = self.window
        now = int(time.time() * 1000)
        top = checked_top(low, high, lookback_ms(config if isinstance(config, Mapping) else {}), now)
        self.tally = WindowTally(self.modified_property, low, top, high) if top is not None else None
        self.skip: Set[str] = set()  # ids emitted by an earlier read of this window
        if done is not None:
            self.tally, self.skip = done.tally, done.emitted_ids

    def _priority(self, kind: str = "list") -> None:
        """This thread's place in the rate budget (its reader's `kind`): the records this object still has to read
        (the largest object is the sync's longest part: its calls go first, the other objects' fill in the rest)."""
        taken = self.meeting.taken
        set_priority(max(0, (self.total or 0) - taken))

    def records(self) -> Iterable[Any]:
        stream = self.retriever.name
        ApiCalls.belong_to(stream)  # the counts this thread asks HubSpot for
        logger.info(
            f"{stream}: first sync of {self.object_type}: the list reads ids upward and search reads them downward, "
            "at once, until they meet."
        )
        yield from self._run([("list", self._list_pages), ("search", self._search_pages)])
        yield from self._close()
        tally = self.tally
        if tally is None:
            Completeness.unchecked(stream, "every record it read was modified within lookback_minutes")
        else:
            counted = self._count(tally.low, tally.top)
            if counted is not None and tally.emitted < counted and self.list_end == MET:
                # The list stopped where it met search, trusting its ids' order; HubSpot's count says some came later.
                logger.warning(
                    f"{stream}: HubSpot counts {counted:,} {self.object_type} records in this window and the two readers "
                    f"read {tally.emitted:,}: the list serves some ids later than their order, so it reads on to its "
                    "end (slower, still exact)."
                )
                self.meeting.list_to_end = True
                yield from self._run([("list", self._list_pages)])
                counted = self._count(tally.low, tally.top)
            verify(stream, self.object_type, tally, counted)
        meeting = self.meeting
        logger.info(
            f"{stream}: {self.object_type} read: {self.emitted['list']} records by list ({self.calls['list']} calls), "
            f"{self.emitted['search']} by search ({self.calls['search']} calls)"
            + (f"; search read down to id {meeting.search_low}." if meeting.search_low is not None else ".")
        )

    def _run(self, readers: Sequence[Tuple[str, Callable[["queue.Queue[Any]"], None]]]) -> Iterable[Any]:
        """Runs these readers (kind "list" or "search", and what fetches their pages; a fetching and a records
        thread each) and yields their records until all are done."""
        stream = self.retriever.name
        self.cancelled = threading.Event()
        threads = []
        for number, (kind, fetch) in enumerate(readers):
            pages: "queue.Queue[Any]" = queue.Queue(maxsize=_QUEUE_PAGES)
            name = f"{stream}-{kind}-{number}"
            threads.append(threading.Thread(target=self._fetch, args=(fetch, pages, stream), name=name, daemon=True))
            threads.append(threading.Thread(target=self._process, args=(pages, kind, stream), name=f"{name}-records", daemon=True))
        for thread in threads:
            thread.start()
        running = len(readers)  # each reader's records thread ends with None
        try:
            while running:
                item = self.out.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield from item
        finally:
            self.cancelled.set()

    def _count(self, low: int, top: int) -> Optional[int]:
        extractor = self.retriever.record_selector.extractor
        return extractor.count_modified(self.object_type, low, top)

    # ---------------------------------------------------------------------------------------------------- threads
    def _fetch(self, fetch: Callable[["queue.Queue[Any]"], None], pages: "queue.Queue[Any]", stream: str) -> None:
        ApiCalls.belong_to(stream)
        try:
            fetch(pages)
            self._put(pages, None)
        except BaseException as error:  # passed on to the partition's thread, which raises it
            self._put(pages, error)

    def _process(self, pages: "queue.Queue[Any]", kind: str, stream: str) -> None:
        ApiCalls.belong_to(stream)  # association batch reads
        while not self.cancelled.is_set():
            try:
                item = pages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if item is None or isinstance(item, BaseException):
                self._put(self.out, item)
                return
            try:
                self._priority(kind)
                if kind == "list" and self.ids_only:
                    item.records = self._read_properties(item.records)
                records = self.retriever.record_selector.select_page(item, self.records_schema, self.stream_slice)
            except BaseException as error:
                self._put(self.out, error)
                return
            self.emitted[kind] += len(records)
            if self.tally is not None:
                self.tally.add(records)
            self._emitting(records)
            self._put(self.out, records)

    def _emitting(self, records: List[Any]) -> None:
        """Records about to leave (id_ranges.RangeRead keeps their ids)."""

    def _put(self, target: "queue.Queue[Any]", item: Any) -> None:
        while not self.cancelled.is_set():
            try:
                target.put(item, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _read_properties(self, listed: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The records of an ids-only list page, complete: one `batch/read` (100 ids, every property in its body)
        replaces each record with HubSpot's current one, keeping the list's inline associations. A record HubSpot
        reports not found (gone since the list page) is dropped, and so is one changed after the window's end (the
        next sync reads it); ids a partial answer failed are read again (`read_batch`)."""
        if not listed:
            return []
        requester = self.retriever.list_requester
        path = requester.object_path(self.stream_slice).rstrip("/")  # type: ignore[union-attr]
        names = requester.property_names(self.stream_slice)  # type: ignore[union-attr]
        batch_requester = self.retriever.record_selector.extractor.associations_requester

        def send(inputs: List[Dict[str, Any]]) -> requests.Response:
            self.calls["list"] += 1
            return batch_requester.send_request(
                path=f"{path}/batch/read",
                # propertiesWithHistory: none, but named: HubSpot's documents make it a required field of the body.
                request_body_json={"inputs": BodyList(inputs), "properties": names, "propertiesWithHistory": []},
                log_formatter=None,
            )

        answered = read_batch(
            send, [{"id": str(r["id"])} for r in listed], lambda r: str(r.get("id")), f"{self.object_type} records", self.backoff
        )
        current = {str(r.get("id")): r for r in answered}
        completed = []
        for record in listed:
            full = current.get(str(record["id"]))
            if full is None or not self._in_window(full):
                continue
            full = dict(full)
            if "associations" in record:
                full["associations"] = record["associations"]
            completed.append(full)
        return completed

    def _in_window(self, record: Mapping[str, Any]) -> bool:
        changed = modified_millis(record, self.modified_property)
        return changed is None or self.window[0] <= changed <= self.window[1]

    def _list_pages(self, pages: "queue.Queue[Any]") -> None:
        meeting = self.meeting
        try:
            after = self.list_after
            while not self.cancelled.is_set():
                response = self._page(self.retriever.list_requester, self.list_slice, after)
                self.calls["list"] += 1
                ids = _ids(response, self.object_type)
                taken, finished = meeting.take_list(ids)
                keep = set(taken)
                records = [r for r, i in zip(page_results(response), ids) if i in keep and self._in_window(r)]
                after = next_after(parse_body(response))
                self.list_after = after
                # Every page whose ids the list took goes on to the output.
                self._put(pages, self._page_of(records, listed=True))
                if after is not None:
                    self.list_trail.follow(after)
                if after is None:
                    self.list_end = END
                    break
                if finished:
                    self.list_end = MET
                    break
        except Exception as error:
            self.list_end = FAILED
            if isinstance(error, RepeatedCursorError) or not meeting.list_stopped():
                raise
            logger.warning(
                f"{self.retriever.name}: the list reader of {self.object_type} stopped ({_reason(error)}); search "
                "reads the rest."
            )

    def _page(self, requester: Any, stream_slice: StreamSlice, token: Any, priority: Optional[int] = None) -> requests.Response:
        """One page of a reader, at this object's place in the rate budget (or at `priority`)."""
        if priority is None:
            self._priority()
        else:
            set_priority(priority)
        return requester.send_request(
            stream_state={}, stream_slice=stream_slice, next_page_token={"next_page_token": token} if token else None,
            log_formatter=None,
        )

    def _search_pages(self, pages: "queue.Queue[Any]") -> None:
        meeting = self.meeting
        descending = StreamSlice(
            partition={**self.stream_slice.partition, DESCENDING_IDS: True},
            cursor_slice=self.stream_slice.cursor_slice,
            extra_fields=self.stream_slice.extra_fields,
        )
        keyset: Optional[Keyset] = Keyset()
        endpoint = f"the {self.object_type} search"
        while not self.cancelled.is_set() and keyset is not None:
            # Search is this reader's help, not its only way: it waits behind searches that have no other.
            response = self._page(self.retriever.requester, descending, keyset if keyset != Keyset() else None,
                                  priority=HELPER_PRIORITY)
            self.calls["search"] += 1
            body = parse_body(response)
            ids = _ids(response, self.object_type)
            if self.total is None and isinstance(body.get("total"), int):
                self.total = body["total"]
            taken, finished = meeting.take_search(ids)
            keep = set(taken)
            records = [r for r, i in zip(page_results(response), ids) if i in keep]
            keyset = None if finished else keyset.following(ids, next_after(body), endpoint, descending=True)
            # The extractor holds search pages for association batch reads until the window closes (`_close`).
            self._put(pages, self._page_of(records, listed=False))

    def _page_of(self, records: List[Any], listed: bool) -> Page:
        """A page of the records a reader took: its window is checked against HubSpot's count here (`records`), not
        page by page in the extractor. Never the window's last page: however many readers and ranges, the window
        closes once, when all are done (`_close`)."""
        if self.skip:
            records = [r for r in records if str(r["id"]) not in self.skip]
        return Page(records=records, object_type=self.object_type, window=self.window, last=False, listed=listed,
                    checked=False)

    def _close(self) -> List[Any]:
        """The window's last page, once, after every reader's records are out: the search records the extractor
        still holds for association batch reads, and (deletes on request) the records archived in the window. A
        read of a window that an earlier read emitted part of (`done`) leaves those out."""
        page = Page(records=[], object_type=self.object_type, window=self.window, last=True, listed=False, checked=False)
        records = self.retriever.record_selector.select_page(page, self.records_schema, self.stream_slice)
        if self.skip:
            records = [r for r in records if str(r["id"]) not in self.skip]
        self.emitted["search"] += len(records)
        if self.tally is not None:
            self.tally.add(records)
        self._emitting(records)
        return records


def _reason(error: BaseException) -> str:
    if isinstance(error, AirbyteTracedException):
        return error.message or str(error)
    return f"{type(error).__name__}: {error}"


class FirstSyncRetriever(WindowRetriever):
    """An object stream's retriever (components.windows.WindowRetriever) that also reads a first sync's window by list
    and search at once (`FirstSyncRead`) when the manifest declares it (`first_sync_reads`).

    A SimpleRetriever nearly fits, but one window read by two readers in threads of their own is not a page loop;
    this retriever reads through the SimpleRetriever the CDK built and wired (its requester, paginator, selector)."""

    def __init__(self, search: SimpleRetriever, list_reads: bool) -> None:
        super().__init__(search)
        extractor = search.record_selector.extractor
        self.list_requester: Optional[HttpRequester] = getattr(extractor, "list_requester", None) if list_reads else None

    def read_window(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice]) -> Iterable[Any]:
        if stream_slice is None or self.list_requester is None:
            yield from self.search.read_records(records_schema, stream_slice)
            return
        from source_hubspot.id_ranges import RangeRead  # it builds on FirstSyncRead

        yield from RangeRead(self, records_schema, stream_slice, ids_only=not self._list_fits(stream_slice)).records()

    def _list_fits(self, stream_slice: StreamSlice) -> bool:
        """Whether every property name fits in the list URL; if not, the list reads ids and batch/read the rest."""
        requester = self.list_requester
        url = requester.get_url_base().rstrip("/") + "/" + requester.get_path(  # type: ignore[union-attr]
            stream_state={}, stream_slice=stream_slice, next_page_token={"next_page_token": "0" * 12}
        ).lstrip("/")
        length = len(requests.Request("GET", url).prepare().url or "")
        if length <= LIST_URL_MAX:
            return True
        logger.info(
            f"{self.name}: {requester.object_type_of(stream_slice)} has too many properties for a list URL ({length} "
            f"characters, more than {LIST_URL_MAX}): its list pages carry ids and associations, and a batch read of 100 "
            "fetches their properties."
        )
        return False
