"""The requesters whose path or body is built in Python: object searches, object lists and the analyst tables' id
searches. Every other request is the manifest's `base_requester` as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Mapping, Optional
from urllib.parse import quote

import requests
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.batch import BodyList
from source_hubspot.components.analyst_scopes import Unreadable
from source_hubspot.components.errors import is_missing_scope
from source_hubspot.components.memos import PropertyDefinitions
from source_hubspot.progress import ApiCalls
from source_hubspot.search import EARLIEST_PROBE, IDS_ONLY, search_body


@dataclass
class ObjectPagesRequester(HttpRequester):
    """What the connector's requesters share: the object type (from the slice, else the manifest's parameters), its
    modification-date property (the registry's, objects.py), and every property name, read once per run through
    `properties_requester`. CDK type that nearly fits: HttpRequester (this is one)."""

    properties_requester: Optional[HttpRequester] = None
    object_type: str = ""

    def object_type_of(self, stream_slice: Optional[Mapping[str, Any]]) -> str:
        return str((stream_slice or {}).get("object_type") or self.object_type)

    def modified_property_of(self, stream_slice: Optional[Mapping[str, Any]]) -> str:
        return objects.object_type(self.object_type_of(stream_slice)).modified_property

    def skips(self, stream_slice: Optional[Mapping[str, Any]]) -> bool:
        """Whether this run already knows the window's object cannot be read (the analyst tables' id searches)."""
        return False

    def refused(self, stream_slice: Optional[Mapping[str, Any]], error: AirbyteTracedException) -> bool:
        """Whether `error` means this window is skipped rather than the stream failed (the analyst tables')."""
        return False

    def property_names(self, stream_slice: Optional[Mapping[str, Any]]) -> BodyList:
        return PropertyDefinitions.names(self.properties_requester, self.object_type_of(stream_slice))  # type: ignore[arg-type]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.page_size = int(parameters["page_size"])  # the manifest's page size: a missing one is a manifest error


@dataclass
class HubspotSearchRequester(ObjectPagesRequester):
    """POSTs HubSpot search pages: every property in the body, one modification-date window, keyset on hs_object_id.

    CDK type that nearly fits: HttpRequester with `request_body_json`. The body needs the full property list
    (hundreds of names) and values derived from the window and the page token. Interpolating that list through
    Jinja costs an `ast.literal_eval` of a large string per page, and CPython 3.11 raises `SystemError: AST
    constructor recursion depth mismatch` when threads do that at once, so the body is built here.
    """


    def get_request_body_json(  # type: ignore[override]
        self, *, stream_slice: Optional[Mapping[str, Any]] = None, next_page_token: Optional[Mapping[str, Any]] = None, **_: Any
    ) -> Mapping[str, Any]:
        properties = [] if (stream_slice or {}).get(EARLIEST_PROBE) else self.property_names(stream_slice)
        return search_body(self.modified_property_of(stream_slice), stream_slice, next_page_token, properties, self.page_size)

    def send_request(self, *args: Any, **kwargs: Any) -> Optional[requests.Response]:
        # The page's association reads and archived listing follow on this thread: they are this stream's calls too.
        ApiCalls.belong_to(self.name)
        return super().send_request(*args, **kwargs)


@dataclass
class HubspotListRequester(ObjectPagesRequester):
    """GETs list pages of an object type (`GET {objects}/{type}`, paths.py): every property named in the URL, the
    registry's associations inline, HubSpot's `after` cursor. CDK type that nearly fits: HttpRequester with
    `request_parameters`, which would percent-encode every comma of a ~6,000-character query (see `get_path`)."""


    def get_path(  # type: ignore[override]
        self, *, stream_slice: Optional[Mapping[str, Any]] = None, next_page_token: Optional[Mapping[str, Any]] = None, **_: Any
    ) -> str:
        """The object's path with the query written out, property names joined by plain commas (the parameter is a
        comma-separated list). Given as params, requests would percent-encode every comma, and urllib3 would then
        re-check a wide object's ~6,000-character query byte by byte in Python: ~3 ms of CPU a page. (The manifest
        gives this requester no request parameters, so there are none to add to this query.)"""
        ids_only = (stream_slice or {}).get(IDS_ONLY)
        properties = [self.modified_property_of(stream_slice)] if ids_only else self.property_names(stream_slice)
        query = f"limit={self.page_size}&properties={quote(','.join(properties), safe=',')}"
        associations = objects.object_type(self.object_type_of(stream_slice)).associations
        if associations:
            query += f"&associations={quote(','.join(associations), safe=',')}"
        after = (next_page_token or {}).get("next_page_token")
        if after:
            query += f"&after={quote(str(after), safe='')}"
        return f"{self.object_path(stream_slice)}?{query}"

    def object_path(self, stream_slice: Optional[Mapping[str, Any]]) -> str:
        """The object's path without a query (`{objects}/{type}`, at the configured api_version)."""
        return super().get_path(stream_state={}, stream_slice=stream_slice, next_page_token=None)  # type: ignore[arg-type]


@dataclass
class IdSearchRequester(ObjectPagesRequester):
    """POSTs a search for the ids of the records changed in one window, keyset-paged on hs_object_id (the analyst
    tables' reads). CDK type that nearly fits: HttpRequester with `request_body_json`, as for the object search.

    Unlike the object streams' search it asks only for the modification date (and, for merges, the registry's merge
    properties, with one of them required to be set), so pages stay small; and a stream read over several objects
    skips an object the token may not read instead of failing.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.skip_unreadable = bool(parameters.get("skip_unreadable"))
        self.reads_merges = bool(parameters.get("reads_merges"))
        self.stream = str(parameters["name"])

    def get_request_body_json(  # type: ignore[override]
        self, *, stream_slice: Optional[Mapping[str, Any]] = None, next_page_token: Optional[Mapping[str, Any]] = None, **_: Any
    ) -> Mapping[str, Any]:
        entry = objects.object_type(self.object_type_of(stream_slice))
        required: List[str] = list(entry.merge_properties) if self.reads_merges else []
        properties = list(dict.fromkeys([entry.modified_property, *required]))
        return search_body(entry.modified_property, stream_slice, next_page_token, properties, self.page_size, required)

    def skips(self, stream_slice: Optional[Mapping[str, Any]]) -> bool:
        return self.skip_unreadable and Unreadable.has((self.object_type_of(stream_slice),))

    def refused(self, stream_slice: Optional[Mapping[str, Any]], error: AirbyteTracedException) -> bool:
        """A missing scope for one object of a stream read over several is that object skipped, not a failure."""
        if not self.skip_unreadable or not is_missing_scope(error):
            return False
        Unreadable.add(self.stream, (self.object_type_of(stream_slice),), error.message or "")
        return True

    def send_request(self, *args: Any, **kwargs: Any) -> Optional[requests.Response]:  # type: ignore[override]
        if self.skips(kwargs.get("stream_slice")):
            return None
        try:
            return super().send_request(*args, **kwargs)
        except AirbyteTracedException as error:
            if not self.refused(kwargs.get("stream_slice"), error):
                raise
            return None
