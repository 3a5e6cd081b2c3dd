"""HubSpot's answers, read once and used by every reader of the connector (components, first syncs, analyst tables).

- **Bodies and pages.** A body is parsed once per response (`parse_body`, kept on the response); a page's records
  are its `results` list (`results_of`, `page_results`); the object type and path of a request (`path_of`,
  `searched_type`, `listed_type`).
- **The end of a paged read.** A read ends only when HubSpot's answer has no `paging.next.after` (`next_after`).
  An empty or short page with a next cursor is followed; a cursor already followed in the same read is a loop, and
  the read fails naming the endpoint (`CursorTrail`, `Keyset`).
- **Keyset paging of searches.** Searches are sorted by `hs_object_id` and page by "id above the last id read"
  (so HubSpot's 10,000-result cap never applies); a page that comes back empty with a next cursor is followed with
  HubSpot's own `after` under the same filter (`Keyset`; the filters are in search.py).
- **Batch answers** (207s, v4 association reads) are read in batch.py.
- **Values.** Epoch milliseconds and ISO 8601 (`millis_of`, `iso_of_epoch_text`), HubSpot's booleans and numbers
  outside the record caster (`as_bool`, `as_number`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Mapping, MutableMapping, Optional, Sequence, Set, Tuple

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException


# --------------------------------------------------------------------------------------------------------------
# Bodies, pages and requests
# --------------------------------------------------------------------------------------------------------------

_PARSED_BODY = "_hubspot_parsed_body"


def parse_body(response: requests.Response) -> Any:
    """The response's JSON body, parsed once with orjson and kept on the response ({} for an empty or unreadable
    body): the extractor, the paginator and the error handler all read it."""
    body = getattr(response, _PARSED_BODY, None)
    if body is None:
        content = response.content
        try:
            body = orjson.loads(content) if content else {}
        except orjson.JSONDecodeError:
            body = {}
        setattr(response, _PARSED_BODY, body)
    return body


def path_of(response: requests.Response) -> str:
    """The path of the request that produced this response."""
    url = response.request.url if response.request is not None else response.url
    return requests.utils.urlparse(url).path if url else "?"


def endpoint_of(response: requests.Response) -> str:
    """`METHOD /path` of the request that produced this response."""
    return f"{response.request.method} {path_of(response)}" if response.request is not None else path_of(response)


def searched_type(response: requests.Response) -> str:
    """The object type in the path of the search request that produced this page (.../objects/{type}/search)."""
    parts = path_of(response).rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def listed_type(response: requests.Response) -> str:
    """The object type in the path of the list request that produced this page (.../objects/{type})."""
    return path_of(response).rstrip("/").split("/")[-1]


def results_of(response: requests.Response) -> List[MutableMapping[str, Any]]:
    """A page's `results` list; a body without one is a HubSpot-side fault."""
    body = parse_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise AirbyteTracedException(
            message=(
                f"HubSpot answered {endpoint_of(response)} with a body that has no 'results' list (HTTP "
                f"{response.status_code}). This is a HubSpot-side fault; retry the sync."
            ),
            internal_message=f"unexpected body: {response.text[:300]!r}",
            failure_type=FailureType.transient_error,
        )
    return body["results"]


def page_results(response: requests.Response, object_type: str = "") -> List[MutableMapping[str, Any]]:
    """A list or search page's `results`, each record with an `id`; anything else is a HubSpot-side fault."""
    records = results_of(response)
    for record in records:
        if "id" not in record:
            raise AirbyteTracedException(
                message=(
                    f"HubSpot returned a {object_type} record without an 'id' from {path_of(response)}; "
                    "the page cannot be trusted. Retry the sync; if it persists, report it to HubSpot support."
                ),
                failure_type=FailureType.transient_error,
            )
    return records


# --------------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------------


def millis_of(value: Any) -> Optional[int]:
    """A HubSpot moment as epoch milliseconds: ISO 8601 text (`updatedAt`, `archivedAt`, datetime properties) or
    epoch-millis digits; None for anything else."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def iso_of_millis(millis: int) -> str:
    """Epoch milliseconds as HubSpot writes a moment (`2024-05-01T10:00:00.123Z`); OverflowError, ValueError or
    OSError for one no datetime can hold."""
    moment = datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def iso_of_epoch_text(text: str) -> Optional[str]:
    """Epoch milliseconds as ISO-8601 text; None for text that is no epoch or one no datetime can hold."""
    if not text.isdigit():
        return None
    try:
        return iso_of_millis(int(text))
    except (OverflowError, ValueError, OSError):
        return None


def as_bool(value: Any) -> Optional[bool]:
    """HubSpot's "true" / "false" (any case) as a boolean; None for anything else."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return True if text == "true" else False if text == "false" else None


def as_number(value: Any) -> Optional[float]:
    """A number HubSpot sends as text, as a float; None for blank text and anything else."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------------------------
# The end of a paged read
# --------------------------------------------------------------------------------------------------------------


def next_after(body: Any) -> Optional[str]:
    """HubSpot's cursor for the next page (`paging.next.after`), or None: the one sign that a paged read is over."""
    if not isinstance(body, Mapping):
        return None
    paging = body.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    after = following.get("after") if isinstance(following, Mapping) else None
    return str(after) if after not in (None, "") else None


class RepeatedCursorError(AirbyteTracedException):
    """HubSpot gave a cursor the read had already followed: always fatal, never covered by another reader."""


def repeated_cursor_error(endpoint: str, cursor: str) -> AirbyteTracedException:
    return RepeatedCursorError(
        message=(
            f"HubSpot's answer from {endpoint} pointed back to a page already read (cursor {cursor!r}): following it "
            "would read the same records forever. The sync stopped instead; its state was not moved past this "
            "read. Run it again; if it happens again, report it to HubSpot support with this message."
        ),
        failure_type=FailureType.transient_error,
    )


class CursorTrail:
    """The cursors one paged read has followed: a cursor HubSpot gives twice is a loop, and fails the read."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._followed: Set[str] = set()

    def follow(self, cursor: str) -> str:
        if cursor in self._followed:
            raise repeated_cursor_error(self.endpoint, cursor)
        self._followed.add(cursor)
        return cursor


# --------------------------------------------------------------------------------------------------------------
# Keyset paging of searches
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyset:
    """Where a keyset-paged search goes on: ids above `last_id` (below it when descending) and, after a page that
    came back empty with a next cursor, HubSpot's `after` under the same filter. `offsets` are the cursors followed
    since `last_id` last moved: one given twice is a loop."""

    last_id: Optional[int] = None
    after: Optional[str] = None
    offsets: Tuple[str, ...] = ()

    def following(self, ids: Sequence[int], cursor: Optional[str], endpoint: str, descending: bool = False) -> Optional["Keyset"]:
        """Where the search goes on after a page with these ids and this next cursor; None when the read is over.

        The next page starts past the page's furthest id, whatever order the page's ids came in. A page without a
        next cursor is the last one, whatever its size; a page that is empty (or only repeats ids already read)
        but has a next cursor is followed by that cursor."""
        if cursor is None:
            return None
        furthest = (min(ids) if descending else max(ids)) if ids else None
        if furthest is not None and (
            self.last_id is None or (furthest < self.last_id if descending else furthest > self.last_id)
        ):
            return Keyset(last_id=furthest)
        if cursor in self.offsets:
            raise repeated_cursor_error(endpoint, cursor)
        return Keyset(last_id=self.last_id, after=cursor, offsets=(*self.offsets, cursor))


def page_ids(body: Any) -> List[int]:
    """The ids of a page's records as numbers (hs_object_id); records whose id is not a number are left out."""
    ids = []
    for record in (body.get("results") or []) if isinstance(body, Mapping) else []:
        try:
            ids.append(int(record["id"]))
        except (KeyError, TypeError, ValueError):
            continue
    return ids
