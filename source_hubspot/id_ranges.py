"""A first sync of a large object, read by ranges of ids with many requests in flight.

One list chain is bound by HubSpot's latency (each page waits for the previous page's cursor: about 8 calls a second
at 100 ms, 3 at 300 ms), far below the general budget (19 calls a second on Professional); one search chain, at
300 ms, cannot use the search budget (5 a second) either. So a window of a large object is cut into ranges of ids
(`IdRanges`), and several list readers and a few search readers read them at once:

- a search reader reads a range by keyset with `hs_object_id` filters (documented: exact by construction);
- a list reader starts at the range's first id (asking `after=<the id below it>`, so that a list reading `after` as
  "from this id" and one reading it as "past this id" both give the range's ids) and reads up to its end. HubSpot
  documents the list's `after` as an opaque cursor; that its cursors are the next record's id, and that a list
  started at an id gives the records from that id up, is observed behaviour. It is checked on every page: ids ascending and at or
  above the start, and, where a range meets the one below it, the first id of the range's list equals the first id
  at or above that boundary that the list of the range below gave as it read past its end (`IdRanges.reached`).

Any check that fails (and a list that refuses an id as its cursor) ends this way of reading for the window, with one
warning: the window is read again by `first_sync.FirstSyncRead` (one list and one search meeting at an id), and the
records already emitted are not emitted twice. After the ranges, the window is checked against HubSpot's count as
any first sync is.
"""

from __future__ import annotations

import logging
import math
import threading
from functools import partial
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.api import CursorTrail, Keyset, RepeatedCursorError, next_after, page_ids, page_results, parse_body
from source_hubspot.budget import BULK_PRIORITY, HELPER_PRIORITY, set_priority
from source_hubspot.completeness import total_of, verify
from source_hubspot.first_sync import FirstSyncRead, _ids, _reason
from source_hubspot.progress import ApiCalls, Completeness
from source_hubspot.search import IDS_BELOW, id_probe_body

logger = logging.getLogger("airbyte")

# A window of more records than this is read by ranges (a smaller one by one list and one search: first_sync.py).
LARGE_WINDOW = 50_000
# Records a list reader's range holds (40 pages; its last page, which crosses the range's end, is read twice) and a
# search reader's (10 pages). Readers cut their next range when they are done with one, lists from the bottom of the
# ids not yet taken and searches from the top, so the faster budget reads more of the window, and none idles long.
LIST_RANGE_RECORDS, SEARCH_RANGE_RECORDS = 4_000, 2_000
# Readers in flight per window (lists, searches): enough list chains for the general budget at 400 ms, enough search
# chains for the search budget at 300 ms. The rate budget (budget.py) holds them to HubSpot's limits.
LIST_READERS, SEARCH_READERS = 8, 3
# Near the end of a window each cut takes at most its share of the ids left (1 / readers), down to this fraction of
# the full span (a list range of 500 records, a search range of 500): the readers finish together instead of the
# last list ranges' 40-page chains running on alone with the search budget idle (10 s of 115 at 200-400 ms).
MIN_SPAN_SHARE = {"list": 8, "search": 4}
_NONE = -1  # IdRanges.reached: the list ended below this boundary
_TOP = 2**63  # above every id


class IdRanges:
    """The ids of one window not taken yet, [low, high): list readers cut ranges from the bottom, search readers from
    the top; a list reader that reaches its range's end goes on into the next one while no reader has taken it. A
    range is (start, end), end None for "every id from start up". Where a list started at an id meets the list
    below it, the two must agree (`started`, `reached`). Under one lock."""

    def __init__(self, lowest: int, highest: int, list_span: int, search_span: int, readers: int = 1) -> None:
        self.list_span, self.search_span = max(1, list_span), max(1, search_span)
        self.readers = max(1, readers)  # a cut takes at most 1 / readers of the ids left, near the end
        self._floor, self._ceiling = lowest, highest + 1  # the window's lowest id; every id from the ceiling up
        self._low, self._high = 0, _TOP
        self._lock = threading.Lock()
        self._first: Dict[int, int] = {}  # a list started at this boundary: the first id it gave (_NONE: none)
        self._reached: Dict[int, int] = {}  # the list below this boundary: the first id it gave there (_NONE: none)
        self.taken = 0  # ranges taken
        self.failure: Optional[str] = None
        # The first list started at an id goes alone until its first page is checked; the others wait for this.
        self._first_start_checked = threading.Event()
        self._first_start_taken = False

    def take_low(self) -> Optional[Tuple[int, Optional[int]]]:
        with self._lock:
            return self._cut_low() if self.failure is None and self._low < self._high else None

    def go_on(self, end: int) -> Optional[Tuple[int, Optional[int]]]:
        """The next range of the list that read up to `end`, if no reader has taken the ids from `end` on."""
        with self._lock:
            return self._cut_low() if self.failure is None and self._low == end < self._high else None

    def take_high(self) -> Optional[Tuple[int, Optional[int]]]:
        with self._lock:
            if self.failure is not None or self._low >= self._high:
                return None
            end = self._high
            top = min(end, self._ceiling)
            start = max(self._low, top - self._span(self.search_span, "search", top - max(self._low, self._floor)))
            self._high = start
            self.taken += 1
            return start, (end if end < _TOP else None)

    def _cut_low(self) -> Tuple[int, Optional[int]]:
        start = self._low
        bottom = max(start, self._floor)
        end = bottom + self._span(self.list_span, "list", min(self._high, self._ceiling) - bottom)
        if end >= min(self._high, self._ceiling):
            end = self._high  # the rest, up to search's ranges (or every id above)
        self._low = end
        self.taken += 1
        return start, (end if end < _TOP else None)

    def _span(self, full: int, kind: str, left: int) -> int:
        """A cut's span: the full one, or its share of the `left` ids near the window's end (MIN_SPAN_SHARE)."""
        return min(full, max(full // MIN_SPAN_SHARE[kind], left // self.readers, 1))

    def started(self, boundary: int, first_id: int) -> None:
        """A list started at `boundary` gave `first_id` first (_NONE: it gave nothing)."""
        self._note(self._first, boundary, first_id)

    def reached(self, boundary: int, first_id: int) -> None:
        """The list below `boundary` read past it: the first id it gave there was `first_id` (_NONE: none)."""
        self._note(self._reached, boundary, first_id)

    def _note(self, table: Dict[int, int], boundary: int, first_id: int) -> None:
        with self._lock:
            table[boundary] = first_id
            self._check(boundary)

    def fail(self, reason: str) -> None:
        with self._lock:
            if self.failure is None:
                self.failure = reason
        self._first_start_checked.set()

    def may_start(self, cancelled: threading.Event) -> bool:
        """Whether a list may start at an id now. The first to ask goes at once; the others wait until its first
        page is checked (`start_checked`), so a HubSpot that refuses such a start refuses one request, not eight."""
        with self._lock:
            first, self._first_start_taken = not self._first_start_taken, True
        while not first and not self._first_start_checked.wait(0.5):
            if cancelled.is_set():
                return False
        return self.failure is None

    def start_checked(self) -> None:
        self._first_start_checked.set()

    def unchecked(self) -> List[int]:
        """Boundaries where a list started at an id that nothing confirmed (a reader stopped before it could)."""
        with self._lock:
            return [b for b in self._first if b not in self._reached]

    def _check(self, boundary: int) -> None:
        first, reached = self._first.get(boundary), self._reached.get(boundary)
        if first is not None and reached is not None and first != reached and self.failure is None:
            self.failure = (
                f"a list started at id {boundary} gave {first if first != _NONE else 'nothing'} first, but the list "
                f"read from below gave {reached if reached != _NONE else 'nothing'} there"
            )


class RangeRead(FirstSyncRead):
    """A first sync's window read by ranges (see the module's docstring); windows of up to LARGE_WINDOW records are
    read by FirstSyncRead itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.emitted_ids: Set[str] = set()
        self._emitted_lock = threading.Lock()
        self.ranges = IdRanges(0, 0, 1, 1)
        self.taken = 0

    def records(self) -> Iterable[Any]:
        stream = self.retriever.name
        ApiCalls.belong_to(stream)
        plan = self._plan()
        if plan is None:
            yield from FirstSyncRead.records(self)
            return
        self.ranges = plan
        logger.info(
            f"{stream}: first sync of {self.object_type} ({self.total:,} records): ranges of ids read by "
            f"{LIST_READERS} list and {SEARCH_READERS} search readers at once."
        )
        lists = partial(self._each_range, plan.take_low, self._list_range_or_fail)
        searches = partial(self._each_range, plan.take_high, self._search_range)
        readers = [("list", lists)] * LIST_READERS + [("search", searches)] * SEARCH_READERS
        yield from self._run(readers)
        yield from self._close()  # before the count: the held search records are the window's too
        failure = plan.failure or (f"ranges {plan.unchecked()} were not confirmed" if plan.unchecked() else None)
        if failure is None and self.tally is not None:
            counted = self._count(self.tally.low, self.tally.top)
            if counted is not None and self.tally.emitted < counted:
                failure = f"HubSpot counts {counted:,} records in the window and the ranges gave {self.tally.emitted:,}"
        if failure is not None:
            logger.warning(
                f"{stream}: reading {self.object_type} by ranges of ids did not hold ({failure}); the window is read "
                "again by one list and one search reader (slower, still exact), without emitting a record twice."
            )
            yield from FirstSyncRead(self.retriever, self.records_schema, self.stream_slice, self.ids_only, done=self).records()
            return
        if self.tally is None:
            Completeness.unchecked(stream, "every record it read was modified within lookback_minutes")
        else:
            verify(stream, self.object_type, self.tally, counted)
        logger.info(
            f"{stream}: {self.object_type} read: {self.emitted['list']} records by list ({self.calls['list']} calls), "
            f"{self.emitted['search']} by search ({self.calls['search']} calls), {plan.taken} ranges."
        )

    def _plan(self) -> Optional[IdRanges]:
        """The window's ranges, from HubSpot's highest and lowest id in it; None for a window of LARGE_WINDOW
        records or fewer (or an answer without ids)."""
        extractor = self.retriever.record_selector.extractor
        highest = extractor.search_once(self.object_type, id_probe_body(self.modified_property, self.stream_slice, True))
        self.calls["search"] += 1
        self.total = total_of(highest)
        if self.total is None or self.total <= LARGE_WINDOW:
            return None
        lowest = extractor.search_once(self.object_type, id_probe_body(self.modified_property, self.stream_slice, False))
        self.calls["search"] += 1
        highest_ids, lowest_ids = page_ids(highest), page_ids(lowest)
        if not highest_ids or not lowest_ids:
            return None  # an answer without ids: the window is read the slower way
        high, low = highest_ids[0], lowest_ids[0]
        per_id = self.total / max(1, high - low + 1)  # records per id, about
        return IdRanges(low, high, math.ceil(LIST_RANGE_RECORDS / per_id), math.ceil(SEARCH_RANGE_RECORDS / per_id),
                        readers=LIST_READERS + SEARCH_READERS)

    def _priority(self, kind: str = "list") -> None:
        # The list ranges take the general budget's slots nothing else asks for (budget.BULK_PRIORITY). A search
        # page's association reads go ahead of them: a search reader waits for its pages' associations, and
        # searches are the other budget's work.
        set_priority(HELPER_PRIORITY if kind == "search" else BULK_PRIORITY)

    def _emitting(self, records: List[Any]) -> None:
        with self._emitted_lock:
            self.emitted_ids.update(str(record["id"]) for record in records)
            self.taken += len(records)

    # ---------------------------------------------------------------------------------------------- list readers
    def _each_range(self, take: Callable[[], Optional[Tuple[int, Optional[int]]]],
                    read: Callable[[int, Optional[int], Any], None], pages: Any) -> None:
        """A reader: takes ranges (`take`) and reads each (`read`) until none is left."""
        while not self.cancelled.is_set():
            taken = take()
            if taken is None:
                return
            read(*taken, pages)

    def _list_range_or_fail(self, start: int, end: Optional[int], pages: Any) -> None:
        """A list reader's range; a list that stops (HubSpot's error) ends this way of reading for the window."""
        try:
            self._list_range(start, end, pages)
        except RepeatedCursorError:
            raise
        except AirbyteTracedException as error:
            self.ranges.fail(f"a list reader stopped: {_reason(error)}")

    def _list_range(self, start: int, end: Optional[int], pages: Any) -> None:
        """Reads [start, end) by list (and the ranges above it that no reader has taken), from `start`."""
        ranges = self.ranges
        # Asked from the id below the start: a list that reads `after` as "from this id" gives that id first (it
        # belongs to the range below and is left out), one that reads it as "past this id" gives the start.
        after: Optional[str] = str(start - 1) if start > 0 else None
        trail = CursorTrail(f"GET the {self.object_type} list")
        previous: Optional[int] = None
        first = start > 0  # the first id of a list started at an id is checked against the list below it
        if start > 0 and not ranges.may_start(self.cancelled):
            return
        while not self.cancelled.is_set() and ranges.failure is None:
            try:
                response = self._page(self.retriever.list_requester, self.list_slice, after)
            except AirbyteTracedException as error:
                if after == str(start - 1) and start > 0:
                    ranges.fail(f"HubSpot's list refused the id {start} as its cursor: {_reason(error)}")
                    return
                raise
            self.calls["list"] += 1
            ids = _ids(response, self.object_type)
            for object_id in ids:
                if (previous is not None and object_id <= previous) or object_id < start - 1:
                    ranges.fail(f"the list gave id {object_id} after {previous if previous is not None else 'starting at ' + str(start)}")
                    return
                previous = object_id
            below = sum(1 for object_id in ids if object_id < start)  # the id just below the start, if given
            ids = ids[below:]
            if first and ids:
                ranges.started(start, ids[0])
                first = False
            if start > 0:
                ranges.start_checked()
            after = next_after(parse_body(response))
            # The page's ids up to the range's end; past it, the list goes on into the next range if it is free.
            kept, stopped = len(ids), False
            while end is not None:
                beyond = next((n for n, i in enumerate(ids) if i >= end), None)
                if beyond is None:
                    break
                following = ranges.go_on(end)
                if following is None:
                    ranges.reached(end, ids[beyond])
                    kept, stopped = beyond, True
                    break
                end = following[1]
            if not stopped and after is None:
                if end is not None:
                    ranges.reached(end, _NONE)  # the list ended inside this range
                if first:
                    ranges.started(start, _NONE)
            records = [r for r in page_results(response)[below:below + kept] if self._in_window(r)]
            done = stopped or after is None
            self._put(pages, self._page_of(records, listed=True))
            if done:
                return
            trail.follow(after)

    # -------------------------------------------------------------------------------------------- search readers
    def _search_range(self, start: int, end: Optional[int], pages: Any) -> None:
        """Reads [start, end) by search: ids at or above its start and below its end, keyset-paged upward."""
        partition = {**self.stream_slice.partition, **({IDS_BELOW: end} if end is not None else {})}
        in_range = StreamSlice(partition=partition, cursor_slice=self.stream_slice.cursor_slice,
                               extra_fields=self.stream_slice.extra_fields)
        keyset: Optional[Keyset] = Keyset(last_id=start - 1)
        endpoint = f"the {self.object_type} search"
        while keyset is not None and not self.cancelled.is_set():
            if self.ranges.failure is not None:  # the window is read again (its held pages go out when it closes)
                return
            response = self._page(self.retriever.requester, in_range, keyset, priority=HELPER_PRIORITY)
            self.calls["search"] += 1
            ids = _ids(response, self.object_type)
            if any(i < start or (end is not None and i >= end) for i in ids) or any(b <= a for a, b in zip(ids, ids[1:])):
                self.ranges.fail(f"search gave ids outside [{start}, {end}) or out of the order asked for")
                keyset = None
            else:
                keyset = keyset.following(ids, next_after(parse_body(response)), endpoint)
            records = page_results(response) if self.ranges.failure is None else []
            self._put(pages, self._page_of(list(records), listed=False))
