"""The object streams' records: each body decoded once, a page's records with their association arrays, each search
window checked against HubSpot's count, and archived records added to the window they were archived in."""

from __future__ import annotations

import threading
import time
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester

from source_hubspot import objects
from source_hubspot.api import millis_of, parse_body
from source_hubspot.budget import closing_call
from source_hubspot.completeness import WindowTally, checked_top, lookback_ms, total_of, verify
from source_hubspot.components.associations import AssociationArrays
from source_hubspot.components.memos import ArchivedRecords
from source_hubspot.components.pages import Page, PageExtractor
from source_hubspot.constants import ASSOCIATION_BATCH_SIZE
from source_hubspot.paths import api_paths
from source_hubspot.progress import Completeness
from source_hubspot.search import count_body

class HubspotJsonDecoder(JsonDecoder):
    """Parses each response body once with orjson and keeps it on the response (api.parse_body).

    CDK type that nearly fits: JsonDecoder (this is one), which the extractor and again the paginator call, parsing
    every (large) page twice; the manifest has no switch for caching.
    """

    def __init__(self, parameters: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__(parameters=parameters or {})

    def decode(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        yield parse_body(response)


@dataclass
class HubspotRecordExtractor(PageExtractor):
    """A page's records (`body["results"]`, read by pages.WindowSelector) with association id arrays attached.

    CDK type that nearly fits: DpathExtractor, which walks every node of a wide page; and attaching associations
    needs extra batch requests per page (HubSpot's search returns none), which no declarative extractor can make.
    The associated types are the registry's (objects.py) unless `associations` names them.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    associations_requester: Optional[HttpRequester] = None
    object_type: str = ""
    associations: Optional[List[str]] = None
    archived_requester: Optional[HttpRequester] = None
    # A first sync's list reader (first_sync.py): its pages carry their associations inline.
    list_requester: Optional[HttpRequester] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.object_type = self.object_type or parameters.get("object_type", "")
        self._include_archived = bool(self.config.get("include_archived", False))
        self._held: Dict[Tuple[Any, ...], List[MutableMapping[str, Any]]] = {}
        self._held_lock = threading.Lock()
        backoff = float(self.config.get("retry_backoff_factor", 1) or 0)
        api = api_paths(self.config)
        self._arrays = AssociationArrays(self.associations_requester, api["associations"], backoff)
        self.stream = str(parameters.get("name") or self.object_type)
        self.objects_path = api["objects"]
        self._lookback_ms = lookback_ms(self.config)
        self._tallies: Dict[Tuple[Any, ...], Optional[WindowTally]] = {}

    def _associations_of(self, object_type: str) -> List[str]:
        if self.associations is not None:
            return self.associations
        return list(objects.object_type(object_type).associations)

    def page_records(self, page: Page) -> Iterable[MutableMapping[str, Any]]:
        records, object_type = page.records, page.object_type
        if page.listed:
            # A list page: its associations came inline, and a list has no windows to hold pages for.
            self._arrays.attach_inline(records, object_type, self._associations_of(object_type))
            return records
        if page.checked:
            self._tally_window(page)
        associations = self._associations_of(object_type)
        if associations and self.associations_requester is not None:
            # Pages wait here until 1,000 ids can go in one association batch read per type (search pages hold
            # 200), or the window ends: a fifth of the association calls. Keyed by the window this page is from.
            # Only whole batches leave before the end (pages of a first sync's readers come in any size): the rest
            # waits for the next page.
            key = (object_type, *page.window)
            with self._held_lock:
                held = self._held.setdefault(key, [])
                held.extend(records)
                if page.last:
                    records = self._held.pop(key)
                else:
                    whole = len(held) - len(held) % ASSOCIATION_BATCH_SIZE
                    if not whole:
                        return []
                    records, self._held[key] = held[:whole], held[whole:]
            if records:
                self._arrays.attach(records, object_type, associations)
        if self._include_archived and self.archived_requester is not None and page.last:
            records = records + self._archived_in_window(page)
        return records

    def _tally_window(self, page: Page) -> None:
        """Counts a search window's records as they arrive and, on its last page, checks them against HubSpot's
        count (completeness.py) before the window's records, and with them its state, leave the extractor."""
        low, high = page.window
        key = (page.object_type, low, high)
        with self._held_lock:
            if key not in self._tallies:
                top = checked_top(low, high, self._lookback_ms, int(time.time() * 1000))
                modified = objects.object_type(page.object_type).modified_property
                self._tallies[key] = WindowTally(modified, low, top, high) if top is not None else None
                if top is None:
                    Completeness.unchecked(self.stream, "every record it read was modified within lookback_minutes")
            tally = self._tallies[key] if not page.last else self._tallies.pop(key)
        if tally is None:
            return
        tally.add(page.records)
        if page.last:
            verify(self.stream, page.object_type, tally, self.count_modified(page.object_type, tally.low, tally.top))

    def count_modified(self, object_type: str, low: int, top: int, extra_filters: Iterable[Dict[str, Any]] = ()) -> Optional[int]:
        """HubSpot's count of the records of `object_type` modified in [low, top] (epoch ms), with more filters."""
        modified = objects.object_type(object_type).modified_property
        return total_of(self.search_once(object_type, count_body(modified, low, top, extra_filters)))

    def search_once(self, object_type: str, body: Mapping[str, Any]) -> Any:
        """HubSpot's answer (parsed) to one search of `object_type` with this body: a count or a probe."""
        with closing_call():  # the window's worker waits on this one call: ahead of the page reads
            response = self.associations_requester.send_request(  # type: ignore[union-attr]
                path=f"{self.objects_path}/{object_type}/search",
                request_body_json=body,
                log_formatter=None,
            )
        return parse_body(response) if response is not None else {}

    def _archived_in_window(self, page: Page) -> List[MutableMapping[str, Any]]:
        """Archived records whose archiving moment falls in this page's window, emitted with the window's last page.

        Search never returns archived records; HubSpot lists them (for 90 days) with `archived=true`. The list is
        read once per stream per run and each window takes the records archived inside its own bounds, so the
        cursor never moves past a window that was not read to its end. A record belongs to the window of its
        `archivedAt`, not of its `updatedAt`: archiving does not move HubSpot's modification date, so a record
        archived since the last sync usually has an `updatedAt` in a window read long ago.
        """
        low, high = page.window
        archived = ArchivedRecords.get(self.archived_requester, page.object_type)
        chosen = []
        for record in archived:
            changed = _archived_millis(record)
            if changed is not None and low <= changed <= high:
                chosen.append({**record, "archived": True, "properties": dict(record.get("properties") or {})})
        return chosen


def _archived_millis(record: Mapping[str, Any]) -> Optional[int]:
    """When an archived record was archived (epoch ms): `archivedAt`, else (never seen) its `updatedAt`."""
    moment = millis_of(record.get("archivedAt"))
    return moment if moment is not None else millis_of(record.get("updatedAt"))
