"""How the connector's searches are written, once for every searcher (object streams, first syncs, analyst tables).

Every search is one window of an object's modification date, keyset-paged on `hs_object_id` (api.Keyset): the
body's filters say "id above the last id read" and the window's bounds (`search_body`). The sync's last window has
no end filter (`window_filters`); a first sync's search reader pages ids downward (`DESCENDING_IDS`). A window's
bounds, as its filters have them, are `window_bounds` of its slice.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from source_hubspot.api import Keyset, millis_of
from source_hubspot.run_state import RunClock

# A search slice with this key set pages ids from the highest down (a first sync's search reader, first_sync.py).
DESCENDING_IDS = "hubspot_descending_ids"
# A list slice with this key set asks for no properties but the modification date (first_sync.py: wide objects).
IDS_ONLY = "hubspot_ids_only"
# A search slice with this key set reads only ids below it (a range of a first sync, id_ranges.py).
IDS_BELOW = "hubspot_ids_below"
# A search slice with these keys asks for an object's earliest modification (memos.EarliestModification).
EARLIEST_PROBE = "earliest_modification_probe"
EARLIEST_PROBE_BEFORE = "earliest_modification_probe_before"
DAY_MS = 86_400_000
# Windows that ended longer ago than this may be skipped unread (components.windows.WindowRetriever).
EMPTY_WINDOW_AGE_MS = 120 * DAY_MS


def epoch_millis(value: Any) -> int:
    """Epoch milliseconds of a slice boundary (a datetime, or text in the cursor's datetime format); ValueError for
    anything else."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return int(moment.timestamp() * 1000)
    millis = millis_of(value)
    if millis is None:
        raise ValueError(f"{value!r} is not a window boundary")
    return millis


def is_last_window_end(end_ms: int) -> bool:
    """Whether a window ending at `end_ms` is the sync's last: its end was "now" when the sync cut its windows."""
    return end_ms >= RunClock.started_ms


def keyset_of(next_page_token: Optional[Mapping[str, Any]]) -> Keyset:
    """Where a keyset-paged search goes on: the paginator's `Keyset`, or a first sync's last id read (a number)."""
    token = (next_page_token or {}).get("next_page_token")
    if isinstance(token, Keyset):
        return token
    return Keyset(last_id=int(token)) if token not in (None, "") else Keyset()


def window_filters(modified_property: str, stream_slice: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The filters of the slice's window of the modification date. The sync's last window has no end filter: a
    record HubSpot dates in the future (a wrong clock, an import) would otherwise never be in any window; it is read
    and emitted as it is, and the cursor stays at the sync's start (factory.py, ClampedCursor)."""
    filters = []
    for bound, operator in (("start_time", "GTE"), ("end_time", "LTE")):
        if not stream_slice or not stream_slice.get(bound):
            continue
        moment = epoch_millis(stream_slice[bound])
        if bound == "end_time" and is_last_window_end(moment):
            continue
        filters.append({"propertyName": modified_property, "operator": operator, "value": str(moment)})
    return filters


def search_request(
    filters: Sequence[Sequence[Dict[str, Any]]],
    properties: Sequence[str],
    limit: int,
    descending: bool = False,
    sort_property: str = "hs_object_id",
    after: Optional[str] = None,
) -> Dict[str, Any]:
    """One search body with every field HubSpot's published contract requires (`filterGroups`, `sorts`,
    `properties`, `limit`, `after`; "0" is the first result): a filter group per entry of `filters`."""
    return {
        "filterGroups": [{"filters": list(group)} for group in filters],
        "sorts": [{"propertyName": sort_property, "direction": "DESCENDING" if descending else "ASCENDING"}],
        "properties": properties,
        "limit": limit,
        "after": after if after is not None else "0",
    }


def earliest_probe_body(modified_property: str, before: Optional[int] = None) -> Dict[str, Any]:
    """The search that finds an object type's earliest modification: one record, sorted by the modification date;
    with `before`, the check that no record was modified before that moment (epoch ms)."""
    filters = [[{"propertyName": modified_property, "operator": "LT", "value": str(before)}]] if before is not None else []
    return search_request(filters, [modified_property], 1, sort_property=modified_property)


def count_body(modified_property: str, low: int, top: int, extra_filters: Iterable[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """A search that only counts: HubSpot's `total` of the records modified in [low, top] (and `extra_filters`)."""
    filters = [
        {"propertyName": modified_property, "operator": "GTE", "value": str(low)},
        {"propertyName": modified_property, "operator": "LTE", "value": str(top)},
        *extra_filters,
    ]
    return search_request([filters], [modified_property], 1)


def id_probe_body(modified_property: str, stream_slice: Optional[Mapping[str, Any]], descending: bool) -> Dict[str, Any]:
    """The search for the highest (or lowest) id of the records in the slice's window; its `total` counts them."""
    filters = window_filters(modified_property, stream_slice)
    return search_request([filters] if filters else [], ["hs_object_id"], 1, descending=descending)


def search_body(
    modified_property: str,
    stream_slice: Optional[Mapping[str, Any]],
    next_page_token: Optional[Mapping[str, Any]],
    properties: Sequence[str],
    limit: int,
    has_any_of: Sequence[str] = (),
) -> Dict[str, Any]:
    """The body of one search page (every search of the connector is written here): the slice's window, keyset on
    `hs_object_id` (descending for a first sync's search reader), these properties; with `has_any_of`, only records
    that have one of those properties set (one filter group each). HubSpot's `after` goes on when the last page
    came back empty with a next cursor."""
    stream_slice = stream_slice or {}
    if stream_slice.get(EARLIEST_PROBE):
        return earliest_probe_body(modified_property, stream_slice.get(EARLIEST_PROBE_BEFORE))
    descending = bool(stream_slice.get(DESCENDING_IDS))
    keyset = keyset_of(next_page_token)
    # Keyset paging: ids after the last one read (below it when descending; a descending read starts unfiltered).
    if not descending:
        common = [{"propertyName": "hs_object_id", "operator": "GT", "value": str(keyset.last_id or 0)}]
    elif keyset.last_id is not None:
        common = [{"propertyName": "hs_object_id", "operator": "LT", "value": str(keyset.last_id)}]
    else:
        common = []
    if stream_slice.get(IDS_BELOW) is not None:
        common.append({"propertyName": "hs_object_id", "operator": "LT", "value": str(stream_slice[IDS_BELOW])})
    common.extend(window_filters(modified_property, stream_slice))
    groups = [[*common, {"propertyName": name, "operator": "HAS_PROPERTY"}] for name in has_any_of]
    return search_request(groups or [common], properties, limit, descending=descending, after=keyset.after)


def window_bounds(stream_slice: Optional[Mapping[str, Any]]) -> Tuple[int, int]:
    """The bounds (epoch ms) of the slice's window of the modification date, as its search filters them
    (`window_filters`): from 0 without a start; to 2**63 without an end, and for the sync's last window."""
    stream_slice = stream_slice or {}
    low = epoch_millis(stream_slice["start_time"]) if stream_slice.get("start_time") else 0
    high = epoch_millis(stream_slice["end_time"]) if stream_slice.get("end_time") else 2**63
    return low, (2**63 if is_last_window_end(high) else high)
