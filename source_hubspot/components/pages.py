"""A windowed search's page as its extractor reads it: the records, and the window and object they belong to.

HubSpot's answer alone does not say which window of which object a page is from; the slice that asked for it does.
`WindowSelector` (the selector of every windowed search stream; factory.py puts it in place) hands its extractor a
`Page` made of the answer and the slice. A first sync's readers (first_sync.py) make their own pages: the records
each reader took, with the window's last page said outright.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_selector import _EXTRACTED_RECORD_COUNT, RecordSelector
from airbyte_cdk.sources.types import Record, StreamSlice

from source_hubspot.api import next_after, page_results, parse_body
from source_hubspot.search import window_bounds



@dataclass
class Page:
    """One page of records of one object type, from one window of its modification date."""

    records: List[MutableMapping[str, Any]]
    object_type: str
    window: Tuple[int, int]  # the window's bounds (epoch ms; the sync's last window ends at 2**63)
    last: bool  # the window's last page: records held for association reads go out with it
    listed: bool = False  # a list page (GET): its associations came inline
    checked: bool = True  # False when another reader checks the window against HubSpot's count (a first sync)


class PageExtractor(RecordExtractor):
    """An extractor of a windowed search stream: it reads `Page`s (`page_records`).

    CDK type that nearly fits: RecordExtractor (this is one), whose `extract_records` gets the answer alone; holding
    a window's pages for one association read, or checking a window against HubSpot's count, needs the window.
    `extract_records` still reads an answer without its slice (one window from 0 to the end of time)."""

    # The object type of pages whose slice names none (not annotated: the CDK would pass it to every subclass).
    object_type = ""

    def page_of(self, response: requests.Response, stream_slice: Optional[Mapping[str, Any]]) -> Page:
        """The page of HubSpot's answer `response` to the request of `stream_slice`."""
        object_type = str((stream_slice or {}).get("object_type") or self.object_type)
        return Page(
            records=page_results(response, object_type),
            object_type=object_type,
            window=window_bounds(stream_slice),
            last=next_after(parse_body(response)) is None,
            listed=response.request is not None and response.request.method == "GET",
        )

    def page_records(self, page: Page) -> Iterable[MutableMapping[str, Any]]:
        raise NotImplementedError

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        return self.page_records(self.page_of(response, None))


@dataclass
class WindowSelector(RecordSelector):
    """The CDK's RecordSelector, handing its PageExtractor each answer with the slice it answers (`select_records`),
    or a page a first sync's reader made (`select_page`). Filtering, transformations (the record caster) and
    schema normalization are the CDK's.

    CDK type that nearly fits: RecordSelector (this is one), which passes its extractor the answer without the
    slice; the manifest has no custom selector type, so factory.py wraps the one the CDK built (`around`)."""

    @classmethod
    def around(cls, selector: RecordSelector) -> "WindowSelector":
        """A WindowSelector with the fields (extractor, caster, name, ...) of the CDK-built `selector`."""
        values = {f.name: getattr(selector, f.name) for f in fields(RecordSelector) if f.init and f.name != "name"}
        return cls(**values, name=selector.name, parameters=selector._parameters)

    def select_records(
        self,
        response: requests.Response,
        stream_state: Mapping[str, Any],
        records_schema: Mapping[str, Any],
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Record]:
        extractor: PageExtractor = self.extractor  # type: ignore[assignment]
        page = extractor.page_of(response, stream_slice)
        records = list(extractor.page_records(page))
        setattr(response, _EXTRACTED_RECORD_COUNT, len(records))
        yield from self.filter_and_transform(records, stream_state, records_schema, stream_slice, next_page_token)

    def select_page(self, page: Page, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice]) -> List[Record]:
        """The output records of a page a reader made itself (first_sync.py)."""
        records = list(self.extractor.page_records(page))  # type: ignore[attr-defined]
        return list(self.filter_and_transform(records, {}, records_schema, stream_slice, None))
