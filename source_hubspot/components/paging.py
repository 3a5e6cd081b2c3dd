"""The paginators: HubSpot's `paging.next.after` followed to its end, and keyset paging of searches (api.Keyset)."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Tuple

import requests
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Record

from source_hubspot.api import Keyset, endpoint_of, next_after, page_ids, parse_body, repeated_cursor_error


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
        return self.following(parse_body(response), last_page_token_value, endpoint_of(response))

    def following(self, body: Any, previous: Optional[Any], endpoint: str) -> Optional[Any]:
        raise NotImplementedError


@dataclass
class KeysetPagination(_PageCursorPagination):
    """The paginator of keyset-paged searches (`api.Keyset`). CDK type that nearly fits: CursorPagination; its
    template could neither follow an empty page's cursor under the same filter nor tell a loop, and it ended a read
    on an empty page."""

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
    """Follows `paging.next.after` until HubSpot gives none, and fails on a cursor it already followed (a loop).
    CDK type that nearly fits: CursorPagination, which follows the cursor but cannot tell a loop (a read that never
    ends) and stops at the first empty page."""

    def following(self, body: Any, previous: Optional[Any], endpoint: str) -> Optional[Cursor]:
        after = next_after(body)
        if after is None:
            return None
        cursor = Cursor.after(after, previous)
        if after in cursor.followed:
            raise repeated_cursor_error(endpoint, after)
        return cursor
