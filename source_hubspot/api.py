"""How HubSpot's paged and batch answers are read, written once and used by every reader of the connector.

- **The end of a paged read.** A read ends only when HubSpot's answer has no `paging.next.after` (`next_after`).
  An empty or short page with a next cursor is followed; a cursor already followed in the same read is a loop, and
  the read fails naming the endpoint (`CursorTrail`, `Keyset`).
- **Keyset paging of searches.** Searches are sorted by `hs_object_id` and page by "id above the last id read"
  (so HubSpot's 10,000-result cap never applies); a page that comes back empty with a next cursor is followed with
  HubSpot's own `after` under the same filter (`Keyset`, `KeysetPagination`).
- **Partial batch answers.** A 207 batch answer lists the inputs it could not read in `errors`; only a
  not-found error means an id is gone (or has no associations). Every other error's ids are read again, with
  backoff, and a read that still fails stops the stream naming HubSpot's category and the ids (`read_batch`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from dataclasses import InitVar, dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, MutableMapping, Optional, Sequence, Set, Tuple

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Record
from airbyte_cdk.utils import AirbyteTracedException

logger = logging.getLogger("airbyte")


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


def endpoint_of(response: requests.Response) -> str:
    request = response.request
    url = request.url if request is not None else response.url
    path = requests.utils.urlparse(url).path if url else "?"
    return f"{request.method} {path}" if request is not None else path


@dataclass
class _PageCursorPagination(PaginationStrategy):
    """What both of the connector's paginators share: no first token, no page size of their own, and the next token
    derived from the page's parsed body and the last token alone (one instance pages many partitions at once)."""

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def get_page_size(self) -> Optional[int]:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        page_size_override: Optional[int] = None,
    ) -> Optional[Any]:
        from source_hubspot.components import parse_body  # the decoder's parsed body

        return self.following(parse_body(response), last_page_token_value, endpoint_of(response))

    def following(self, body: Any, previous: Optional[Any], endpoint: str) -> Optional[Any]:
        raise NotImplementedError


@dataclass
class KeysetPagination(_PageCursorPagination):
    """The paginator of keyset-paged searches (`Keyset`); CursorPagination's template could neither follow an empty
    page's cursor under the same filter nor tell a loop, and it ended a read on an empty page."""

    def following(self, body: Any, previous: Optional[Any], endpoint: str) -> Optional[Keyset]:
        keyset = previous if isinstance(previous, Keyset) else Keyset()
        return keyset.following(page_ids(body), next_after(body), endpoint)


class Cursor(str):
    """HubSpot's `after` for the next page (the text sent), carrying the cursors the read followed before it."""

    followed: Tuple[str, ...] = ()

    @classmethod
    def after(cls, text: str, previous: Any) -> "Cursor":
        cursor = cls(text)
        cursor.followed = (*previous.followed, str(previous)) if isinstance(previous, Cursor) else ()
        return cursor


@dataclass
class HubspotCursorPagination(_PageCursorPagination):
    """Follows `paging.next.after` until HubSpot gives none, and fails on a cursor it already followed (a loop)."""

    def following(self, body: Any, previous: Optional[Any], endpoint: str) -> Optional[Cursor]:
        after = next_after(body)
        if after is None:
            return None
        cursor = Cursor.after(after, previous)
        if after in cursor.followed:
            raise repeated_cursor_error(endpoint, after)
        return cursor


def association_from_id(result: Mapping[str, Any]) -> str:
    """The id of the record a v4 association result belongs to (`from.id`)."""
    source = result.get("from")
    return str(source.get("id")) if isinstance(source, Mapping) else "None"


def follow_result_paging(result: Mapping[str, Any], from_id: str, followed: Set[Tuple[str, str]], endpoint: str) -> Optional[Dict[str, str]]:
    """The input that reads the next page of one v4 association result (`{"id", "after"}`), or None on its last
    page; a cursor the same record's result gave before is a loop."""
    after = next_after(result)
    if after is None:
        return None
    if (from_id, after) in followed:
        raise repeated_cursor_error(f"{endpoint} (the associations of {from_id})", after)
    followed.add((from_id, after))
    return {"id": from_id, "after": after}


# --------------------------------------------------------------------------------------------------------------
# Batch answers
# --------------------------------------------------------------------------------------------------------------

# Errors of a batch answer that say an input has nothing to return: the record is gone (deleted since it was
# listed), or it has no associations of that type. Any other error is a failure to read that input.
NOT_FOUND_CATEGORIES = frozenset({"OBJECT_NOT_FOUND", "NOT_FOUND"})
# How often the inputs an error names are read again, with exponential backoff, before the stream fails.
BATCH_RETRIES = 5


def _error_ids(error: Mapping[str, Any]) -> List[str]:
    """The input ids a batch error names: HubSpot puts them in `context.ids` (object batch reads) or
    `context.fromObjectId` (v4 association reads); any list in `context` is taken."""
    context = error.get("context")
    ids: List[str] = []
    if isinstance(context, Mapping):
        for value in context.values():
            if isinstance(value, list):
                ids.extend(str(v) for v in value)
    return ids


def _failures(body: Mapping[str, Any], asked: Iterable[str], answered: Set[str]) -> Dict[str, Tuple[str, str]]:
    """id -> (category, message) of the errors of one batch answer that failed an input. A not-found error only
    clears the ids it names; an error of another category that names no ids fails every input without a result
    that no not-found error named."""
    failed: Dict[str, Tuple[str, str]] = {}
    gone: Set[str] = set()
    unnamed: List[Tuple[str, str]] = []
    for error in body.get("errors") or []:
        if not isinstance(error, Mapping):
            continue
        category = str(error.get("category") or error.get("status") or "UNKNOWN")
        cause = (category, str(error.get("message") or "no message"))
        ids = _error_ids(error)
        if category in NOT_FOUND_CATEGORIES:
            gone.update(ids)
        elif ids:
            for object_id in ids:
                failed.setdefault(object_id, cause)
        else:
            unnamed.append(cause)
    if unnamed:
        for object_id in asked:
            if object_id not in answered and object_id not in gone:
                failed.setdefault(object_id, unnamed[0])
    return {i: cause for i, cause in failed.items() if i not in answered and i not in gone}


def read_batch(
    send: Callable[[List[Dict[str, Any]]], requests.Response],
    inputs: List[Dict[str, Any]],
    result_id: Callable[[Mapping[str, Any]], str],
    what: str,
    backoff_seconds: float = 1.0,
    parse: Optional[Callable[[requests.Response], Any]] = None,
) -> List[MutableMapping[str, Any]]:
    """Every result of one batch read of `inputs` (each `{"id": ...}`, perhaps with more keys): inputs that a 207
    answer failed are sent again, alone, until HubSpot reads them or BATCH_RETRIES are spent, and then the stream
    fails with HubSpot's category and the ids. Inputs HubSpot reports not found have no result."""
    if parse is None:
        from source_hubspot.components import parse_body as parse
    results: List[MutableMapping[str, Any]] = []
    pending = list(inputs)
    attempt = 0
    while pending:
        response = send(pending)
        body = parse(response) if response is not None else {}
        body = body if isinstance(body, Mapping) else {}
        answered: Set[str] = set()
        for result in body.get("results") or []:
            if isinstance(result, MutableMapping):
                results.append(result)
                answered.add(result_id(result))
        failed = _failures(body, (str(i["id"]) for i in pending), answered)
        if not failed:
            return results
        attempt += 1
        causes = "; ".join(f"{category}: {message}" for category, message in sorted(set(failed.values())))
        ids = sorted(failed)
        if attempt > BATCH_RETRIES:
            shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
            raise AirbyteTracedException(
                message=(
                    f"HubSpot could not read {what} ({causes}) for {len(ids)} id(s), again after {BATCH_RETRIES} "
                    f"retries: {shown}. The sync stopped rather than emit those records incomplete; its state was "
                    "not moved past them. Run it again later; if it persists, report it to HubSpot support with "
                    "these ids."
                ),
                internal_message=f"batch errors: {list(body.get('errors') or [])[:3]!r}",
                failure_type=FailureType.transient_error,
            )
        logger.info(
            f"HubSpot could not read {what} for {len(ids)} id(s) in a batch ({causes}); reading them "
            f"again (retry {attempt} of {BATCH_RETRIES})."
        )
        time.sleep(backoff_seconds * (2 ** (attempt - 1)))
        pending = [i for i in pending if str(i["id"]) in failed]
    return results
