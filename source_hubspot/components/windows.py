"""The retriever of every windowed search stream (the object streams and the analyst tables' id searches).

CDK type that nearly fits: SimpleRetriever, which it reads through. Two things are not a page loop's: a window
that ended before the object's earliest modification is not read at all (a first sync from the 2006 default
start would otherwise search every empty year of every object), and each window's slice hashes once (the CDK's
cursor looks every record's slice up in a dict; a StreamSlice hashes by dumping itself to JSON, each time).
`factory.py` builds one around each such SimpleRetriever; `first_sync.FirstSyncRetriever` adds a first sync's
list-and-search read.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.components.memos import EarliestModification
from source_hubspot.search import DAY_MS, EMPTY_WINDOW_AGE_MS, epoch_millis


class SliceHashedOnce(StreamSlice):
    """A window's slice that hashes once (the CDK's StreamSlice takes a SHA-256 of its JSON each time, ~6 us)."""

    def __init__(self, stream_slice: StreamSlice) -> None:
        super().__init__(partition=stream_slice.partition, cursor_slice=stream_slice.cursor_slice,
                         extra_fields=stream_slice.extra_fields)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


class WindowRetriever(Retriever):
    def __init__(self, search: SimpleRetriever) -> None:
        self.search = search
        self.name = search.name
        self.config = search.config
        self.requester = search.requester
        self.record_selector = search.record_selector

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        if isinstance(stream_slice, StreamSlice) and not isinstance(stream_slice, SliceHashedOnce):
            stream_slice = SliceHashedOnce(stream_slice)
        if stream_slice is not None and self.before_first_record(stream_slice):
            return
        yield from self.read_window(records_schema, stream_slice)

    def read_window(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice]) -> Iterable[Any]:
        yield from self.search.read_records(records_schema, stream_slice)

    def before_first_record(self, stream_slice: StreamSlice) -> bool:
        """Whether the window has nothing to read: its object is one this run may not read (requesters.skips), or the
        window ended before the earliest modification HubSpot's search holds for its object.

        Only windows that ended more than EMPTY_WINDOW_AGE ago are skipped (archived records, listed for 90 days,
        and records still waiting for the search index are always in later windows), and only when they end a day
        or more before the earliest modification, which a filtered search has confirmed (memos.EarliestModification).
        A probe the token may not make fails the stream as the window's request would, or skips the object where the
        requester says so (requesters.IdSearchRequester.refused)."""
        if self.requester.skips(stream_slice):  # type: ignore[attr-defined]
            return True
        end = stream_slice.get("end_time")
        if not end:
            return False
        try:
            end_ms = epoch_millis(end)
        except ValueError:
            return False
        if end_ms > int(time.time() * 1000) - EMPTY_WINDOW_AGE_MS:
            return False
        try:
            earliest = EarliestModification.get(self.requester, self.requester.object_type_of(stream_slice))  # type: ignore[attr-defined]
        except AirbyteTracedException as error:
            if self.requester.refused(stream_slice, error):  # type: ignore[attr-defined]
                return True
            raise
        return earliest is None or end_ms < earliest - DAY_MS

    def stream_slices(self) -> Iterable[Optional[StreamSlice]]:
        return self.search.stream_slices()

    @property
    def state(self) -> Any:
        return self.search.state

    @state.setter
    def state(self, value: Any) -> None:
        self.search.state = value
