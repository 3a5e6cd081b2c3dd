"""The safety net of every object stream: each window's emitted records checked against HubSpot's own count.

At the end of each search window and of each first sync, one search with `limit: 1` gives HubSpot's `total` of the
records modified inside the window but before its last `lookback_minutes`. Those records were in the window,
unchanged, for the whole read (records modified later are read again by the next sync's lookback, and HubSpot's
search index may show them late: leaving them out keeps normal index lag from raising a false alarm). So the records
the window emitted, less those modified within its last lookback, must be at least that many; a shortfall fails the
stream, with the numbers, before its state moves past the window. The sync report says per stream what was
checked (`progress.Completeness`).

It guards every way of losing records found so far (pages dropped, cursors mis-followed, readers that left a gap)
and the ones nobody has found yet. Its cost is one search per window.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.api import iso_of_millis, millis_of
from source_hubspot.progress import Completeness

MINUTE_MS = 60_000
DEFAULT_LOOKBACK_MINUTES = 10


def lookback_ms(config: Mapping[str, Any]) -> int:
    try:
        minutes = int(config.get("lookback_minutes", DEFAULT_LOOKBACK_MINUTES))
    except (TypeError, ValueError):
        minutes = DEFAULT_LOOKBACK_MINUTES
    return max(0, minutes) * MINUTE_MS


def modified_millis(record: Mapping[str, Any], modified_property: str) -> Optional[int]:
    """A record's modification moment (epoch ms), as HubSpot's search filters on it: the modification property,
    else `updatedAt`."""
    properties = record.get("properties")
    moment = millis_of(properties.get(modified_property)) if isinstance(properties, Mapping) else None
    return moment if moment is not None else millis_of(record.get("updatedAt"))


class WindowTally:
    """The records one window emitted that HubSpot's count of [low, top] must not exceed: every record but the
    archived ones (search never counts those) and those modified after `top` but not after the window's end
    (`high`): in the lookback, they may be counted late. A record modified after `high` (changed while the sync
    ran) is kept: HubSpot's count may still hold it under its earlier date. Thread-safe."""

    def __init__(self, modified_property: str, low: int, top: int, high: int) -> None:
        self.modified_property = modified_property
        self.low, self.top, self.high = low, top, high
        self.emitted = 0
        self._lock = threading.Lock()

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        counted = 0
        top, high, name = self.top, self.high, self.modified_property
        for record in records:
            if record.get("archived") is True:
                continue
            moment = modified_millis(record, name)
            if moment is None or moment <= top or moment > high:
                counted += 1
        with self._lock:
            self.emitted += counted


def checked_top(low: int, high: int, lookback: int, now_ms: int) -> Optional[int]:
    """The last moment of a window [low, high] that its count covers, or None when nothing of it is old enough."""
    top = min(high, now_ms) - lookback
    return top if top >= low else None


def total_of(body: Any) -> Optional[int]:
    total = body.get("total") if isinstance(body, Mapping) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def verify(stream: str, object_type: str, tally: WindowTally, counted: Optional[int]) -> None:
    """Records the check in the sync report; a shortfall fails the stream with the numbers."""
    if counted is None:
        Completeness.unchecked(stream, "HubSpot's count answer had no total")
        return
    Completeness.checked(stream, tally.emitted, counted)
    if tally.emitted < counted:
        raise AirbyteTracedException(
            message=(
                f"{stream}: HubSpot counts {counted:,} {object_type} records modified from {iso_of_millis(tally.low)} to "
                f"{iso_of_millis(tally.top)}, but this sync read only {tally.emitted:,} of them: {counted - tally.emitted:,} "
                "would have been lost. The sync stopped before its state moved past them, so the next sync reads "
                "them again. If this repeats, report it with this message."
            ),
            failure_type=FailureType.system_error,
        )
