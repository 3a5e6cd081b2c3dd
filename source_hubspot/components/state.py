"""Saved states: brought to this connector's cursor, or refused with a message that says how to reset."""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Mapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.utils import AirbyteTracedException

logger = logging.getLogger("airbyte")

# Cursor keys older states (and other HubSpot connectors) used, newest first.
_STATE_CURSOR_KEYS = ("updatedAt", "lastUpdated", "hs_lastmodifieddate", "lastmodifieddate")
_STATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_STATE_EXAMPLE = '{"updatedAt": "2024-06-01T10:00:00.000000Z"}'
# A saved cursor this far past now is refused: every later sync would search from it and read nothing. The margin
# allows for a clock a little behind HubSpot's.
_STATE_FUTURE_MARGIN = timedelta(minutes=10)


def _state_moment(value: Any) -> Optional[datetime]:
    """The moment a saved cursor value names (ISO-8601 text, or epoch seconds or milliseconds), else None.

    A number no datetime can hold (a 20-digit epoch) is unreadable like any other garbage: the caller's reset
    message, not the CDK's "Something went wrong" from an OverflowError."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            number = float(value)
            return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=timezone.utc)
        except (OverflowError, ValueError, OSError):
            return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


def _shown(value: Any, limit: int = 60) -> str:
    """A saved value as the reset message quotes it, cut so a garbage blob does not flood the message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class HubspotStateMigration(StateMigration):
    """Brings a saved state to `{"updatedAt": "<%Y-%m-%dT%H:%M:%S.%fZ>"}` (per activity type for `engagements`),
    or stops the sync with a clear message; an unreadable state is never taken as "no state".

    Accepted: this connector's and Airbyte's HubSpot source's `updatedAt` in any ISO-8601 or epoch form, and the
    `lastUpdated` / modification-property keys of older states (including the v1 `engagements` stream's
    `{"lastUpdated": <ms>}`). CDK type that nearly fits: LegacyToPerPartitionStateMigration, which only moves a
    global cursor under partitions; which key holds the cursor and how to read it is a decision per state. Refused
    with the reset message: a cursor that is no date-time, a per-type cursor without `updatedAt`, and a cursor in
    the future (every later sync would read nothing).
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def __post_init__(self, parameters: Optional[Mapping[str, Any]]) -> None:
        parameters = parameters or {}
        self.stream = str(parameters.get("name", "this stream"))
        self.object_types = list(parameters.get("object_types") or [])

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        # Every saved state is checked, also one already in the cursor's format: it may lie in the future, and a
        # per-type cursor is otherwise handed to the CDK unread. Once per stream per run; a good state comes out as is.
        return bool(stream_state)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.object_types and ("states" in stream_state or "state" in stream_state):
            return self._per_type(stream_state)
        key = next((k for k in _STATE_CURSOR_KEYS if k in stream_state), None)
        if key is None:
            raise self._reset(
                f"is not one this connector can read (keys: {', '.join(sorted(map(str, stream_state))) or 'none'})"
            )
        cursor = self._cursor(key, stream_state[key])
        if key != "updatedAt":
            logger.info(f"Migrated the state of {self.stream} from {key} = {stream_state[key]!r} to {cursor}.")
        if self.object_types:
            return {
                "use_global_cursor": False,
                "states": [{"partition": {"object_type": t}, "cursor": dict(cursor)} for t in self.object_types],
                "state": dict(cursor),
            }
        return cursor

    def _per_type(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        """The CDK's per-activity-type state, each cursor checked and written in the cursor's format; other keys
        (use_global_cursor, lookback_window) are kept. A cursor without `updatedAt` is refused: the CDK would take
        it as empty and read that type from the start date again."""
        migrated = dict(stream_state)
        if "states" in stream_state:
            entries = stream_state["states"]
            if not isinstance(entries, list):
                raise self._reset(f"has states = {_shown(entries)}, which is not a list of partitions")
            checked = []
            for entry in entries:
                if not isinstance(entry, Mapping):
                    raise self._reset(f"has a partition entry {_shown(entry)}, which is not an object")
                where = f", partition {_partition_text(entry.get('partition'))},"
                cursor = entry.get("cursor")
                if not isinstance(cursor, Mapping) or "updatedAt" not in cursor:
                    keys = ", ".join(sorted(map(str, cursor))) if isinstance(cursor, Mapping) else _shown(cursor)
                    raise self._reset(f"has a cursor without updatedAt ({keys or 'empty'})", where)
                checked.append({**entry, "cursor": self._cursor("updatedAt", cursor["updatedAt"], where)})
            migrated["states"] = checked
        overall = stream_state.get("state")
        if isinstance(overall, Mapping) and "updatedAt" in overall:
            migrated["state"] = self._cursor("updatedAt", overall["updatedAt"], ", stream-wide cursor (state),")
        elif overall not in (None, {}):
            raise self._reset(f"has state = {_shown(overall)}, which is not a cursor with updatedAt", "")
        return migrated

    def _cursor(self, key: str, value: Any, where: str = "") -> Dict[str, str]:
        """`{"updatedAt": ...}` in the cursor's format from a saved `key` = `value`, or the reset message."""
        moment = _state_moment(value)
        if moment is None:
            raise self._reset(f"has {key} = {_shown(value)}, which is not a date-time", where)
        now = datetime.now(timezone.utc)
        if moment > now + _STATE_FUTURE_MARGIN:
            raise self._reset(
                f"has {key} = {_shown(value)}, which is in the future (it is now {now.strftime('%Y-%m-%dT%H:%M:%SZ')}): "
                "every sync would search from it and read nothing",
                where,
            )
        return {"updatedAt": moment.strftime(_STATE_FORMAT)}

    def _reset(self, problem: str, where: str = "") -> AirbyteTracedException:
        return AirbyteTracedException(
            message=(
                f"The saved state of stream {self.stream}{where} {problem}. Reset the stream, or set its state to "
                f"{_STATE_EXAMPLE}."
            ),
            failure_type=FailureType.config_error,
        )


def _partition_text(partition: Any) -> str:
    if isinstance(partition, Mapping):
        return ", ".join(f"{key}={value}" for key, value in partition.items()) or "{}"
    return _shown(partition)
