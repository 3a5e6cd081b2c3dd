"""The few components the declarative manifest cannot express.

Each class says why YAML could not do the job. They make HTTP calls only through requesters declared in the
manifest, so authentication, retries, the rate budget and test mocks all apply to them. The only state shared
across components is what one connector run (one process) must read once: property definitions, archived
records (ProcessMemo) and the OAuth access token; the sync report's call counts live in progress.py.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import (
    Any,
    Callable,
    ClassVar,
    Dict,
    Iterable,
    List,
    Mapping,
    MutableMapping,
    Optional,
    Set,
    Tuple,
    Union,
)
from urllib.parse import quote

import orjson
import requests
from airbyte_cdk.config_observation import emit_configuration_as_airbyte_control_message
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import (
    DeclarativeAuthenticator,
)
from airbyte_cdk.sources.declarative.auth.oauth import DeclarativeOauth2Authenticator
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import (
    InterpolatedString,
)
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import (
    DefaultErrorHandler,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.sources.declarative.transformations.transformation import (
    RecordTransformation,
)
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    SUCCESS_RESOLUTION,
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.sources.utils.transform import TransformConfig, TypeTransformer
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.datetime_helpers import ab_datetime_now

from source_hubspot.api import CursorTrail, Keyset, association_from_id, follow_result_paging, millis_of, next_after, read_batch
from source_hubspot.budget import closing_call
from source_hubspot.completeness import WindowTally, checked_top, count_body, lookback_ms, total_of, verify
from source_hubspot.constants import (
    ASSOCIATION_BATCH_SIZE,
    OAUTH_CREDENTIALS,
    PRIVATE_APP_CREDENTIALS,
    TOKEN_REFRESH_MARGIN_FRACTION,
    TOKEN_REFRESH_MARGIN_MAX_SECONDS,
)
from source_hubspot.progress import ApiCalls, Completeness

logger = logging.getLogger("airbyte")

_PARSED_BODY = "_hubspot_parsed_body"
# Set on a search page whose window another reader checks (a first sync's, first_sync.py), and on the answer given
# without a call for a window before the object's earliest modification (already confirmed empty).
CHECKED_ELSEWHERE = "_hubspot_checked_elsewhere"
KNOWN_EMPTY = "_hubspot_known_empty"


def modified_property_of(object_type: str) -> str:
    """The property HubSpot bumps when a record changes: contacts have their own name for it."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"



# --------------------------------------------------------------------------------------------------------------
# Decoding and extraction (the fast path, DESIGN.md section 5)
# --------------------------------------------------------------------------------------------------------------


class HubspotJsonDecoder(JsonDecoder):
    """Parses each response body once with orjson and keeps it on the response.

    The stock JsonDecoder is called by the extractor and again by the paginator, parsing every (large) page
    twice; the manifest has no switch for caching.
    """

    def __init__(self, parameters: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__(parameters=parameters or {})

    def decode(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        yield parse_body(response)


class BodyList(list):  # type: ignore[type-arg]
    """A list in a request body that the CDK's request-option merging hands on as it is. The merging deep-copies
    every value it merges: ~1,600 copy steps for a wide search page's property names and its association reads'
    ids, ~1 ms of CPU a page. Nothing changes such a list once built (an object's property names are one list for
    the whole run), so handing on the same list is safe."""

    def __deepcopy__(self, memo: Dict[int, Any]) -> BodyList:
        return self


def parse_body(response: requests.Response) -> Any:
    body = getattr(response, _PARSED_BODY, None)
    if body is None:
        content = response.content
        try:
            body = orjson.loads(content) if content else {}
        except orjson.JSONDecodeError:
            body = {}
        setattr(response, _PARSED_BODY, body)
    return body


@dataclass
class HubspotRecordExtractor(RecordExtractor):
    """Returns `body["results"]` and attaches association id arrays read with v4 batch calls.

    DpathExtractor walks every node of a wide page; and attaching associations needs extra batch requests per
    page (HubSpot's search returns none), which no declarative extractor can make.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    associations_requester: Optional[HttpRequester] = None
    object_type: str = ""
    associations: List[str] = field(default_factory=list)
    associations_path: str = ""
    archived_requester: Optional[HttpRequester] = None
    # A first sync's list reader (first_sync.py): its pages carry their associations inline.
    list_requester: Optional[HttpRequester] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self.object_type = self.object_type or parameters.get("object_type", "")
        self.associations = list(self.associations or parameters.get("associations") or [])
        self.associations_path = self.associations_path or parameters.get("associations_path", "/crm/v4/associations")
        self._include_archived = bool(self.config.get("include_archived", False))
        self._held: Dict[Tuple[Any, ...], List[MutableMapping[str, Any]]] = {}
        self._held_lock = threading.Lock()
        self._backoff = float(self.config.get("retry_backoff_factor", 1) or 0)
        self.stream = str(parameters.get("name") or self.object_type)
        self.objects_path = str(parameters.get("objects_path") or "/crm/v3/objects")
        self.modified_property = str(parameters.get("modified_property") or "")
        self._lookback_ms = lookback_ms(self.config)
        self._tallies: Dict[Tuple[Any, ...], Optional[WindowTally]] = {}

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        body = parse_body(response)
        records = page_results(response, self.object_type)
        if response.request is not None and response.request.method == "GET":
            # A list page: its associations came inline, and a list has no windows to hold pages for.
            self._attach_inline_associations(records, self.object_type or _listed_object_type(response))
            return records
        object_type = self.object_type or _searched_object_type(response)
        last_page = next_after(body) is None
        if not getattr(response, CHECKED_ELSEWHERE, False):
            self._tally_window(response, object_type, records, last_page)
        if self.associations and self.associations_requester is not None:
            # Pages wait here until 1,000 ids can go in one association batch read per type (search pages hold
            # 200), or the window ends: a fifth of the association calls. Keyed by the window this page is from.
            key = (object_type, *_window_of(response))
            with self._held_lock:
                held = self._held.setdefault(key, [])
                held.extend(records)
                if not last_page and len(held) < ASSOCIATION_BATCH_SIZE:
                    return []
                records = self._held.pop(key)
            if records:
                self._attach_associations(records, object_type)
        if self._include_archived and self.archived_requester is not None and last_page:
            records = records + self._archived_in_window(response, object_type)
        return records

    def _tally_window(
        self, response: requests.Response, object_type: str, records: List[MutableMapping[str, Any]], last_page: bool
    ) -> None:
        """Counts a search window's records as they arrive and, on its last page, checks them against HubSpot's
        count (completeness.py) before the window's records, and with them its state, leave the extractor."""
        low, high = _window_of(response)
        key = (object_type, low, high)
        with self._held_lock:
            if key not in self._tallies:
                top = checked_top(low, high, self._lookback_ms, int(time.time() * 1000))
                modified = self.modified_property or modified_property_of(object_type)
                self._tallies[key] = WindowTally(modified, low, top, high) if top is not None else None
                if top is None:
                    Completeness.unchecked(self.stream, "every record it read was modified within lookback_minutes")
            tally = self._tallies[key] if not last_page else self._tallies.pop(key)
        if tally is None:
            return
        tally.add(records)
        if last_page:
            if getattr(response, KNOWN_EMPTY, False):
                return  # a window before the object's earliest modification, confirmed empty by a filtered search
            verify(self.stream, object_type, tally, self.count_modified(object_type, tally.low, tally.top))

    def count_modified(self, object_type: str, low: int, top: int, extra_filters: Iterable[Dict[str, Any]] = ()) -> Optional[int]:
        """HubSpot's count of the records of `object_type` modified in [low, top] (epoch ms), with more filters."""
        modified = self.modified_property or modified_property_of(object_type)
        with closing_call():  # the window's worker waits on this one call: ahead of the page reads
            response = self.associations_requester.send_request(  # type: ignore[union-attr]
                path=f"{self.objects_path}/{object_type}/search",
                request_body_json=count_body(modified, low, top, extra_filters),
                log_formatter=None,
            )
        return total_of(parse_body(response)) if response is not None else None

    def _archived_in_window(self, response: requests.Response, object_type: str) -> List[MutableMapping[str, Any]]:
        """Archived records whose archiving moment falls in this page's window, emitted with the window's last page.

        Search never returns archived records; HubSpot lists them (for 90 days) with `archived=true`. The list is
        read once per stream per run and each window takes the records archived inside its own bounds, so the
        cursor never moves past a window that was not read to its end. A record belongs to the window of its
        `archivedAt`, not of its `updatedAt`: archiving does not move HubSpot's modification date, so a record
        archived since the last sync usually has an `updatedAt` in a window read long ago.
        """
        low, high = _window_of(response)
        archived = ArchivedRecords.get(self.archived_requester, object_type)
        chosen = []
        for record in archived:
            changed = _archived_millis(record)
            if changed is not None and low <= changed <= high:
                chosen.append({**record, "archived": True, "properties": dict(record.get("properties") or {})})
        return chosen

    def _attach_inline_associations(self, records: List[MutableMapping[str, Any]], object_type: str) -> None:
        """The id arrays of a list page, from each record's inline `associations` (one entry per id and association
        label, so ids repeat). HubSpot inlines a limited number per record and type and says so with `paging`:
        those records' arrays are read whole with a v4 batch read, like search pages'.

        Inline lists are trusted only once they proved right: a list silently leaves out what the token may not
        read, where a v4 batch read answers 403, and an empty array would claim "no links". So each pair's first
        list page is read with a v4 batch read as well and the two are compared; if they disagree, that pair's list
        pages are read with v4 batch reads for the rest of the run."""
        inline = [record.pop("associations", None) or {} for record in records]
        for to_type in self.associations:
            if DeniedAssociations.denied(object_type, to_type):
                continue
            listed, cut = [], []
            for links in inline:
                entry = links.get(to_type)
                if not entry:
                    listed.append([])
                    cut.append(False)
                    continue
                results = entry.get("results") or ()
                listed.append(list(dict.fromkeys([str(a["id"]) for a in results if a.get("id") is not None])))
                cut.append("paging" in entry and next_after(entry) is not None)
            trusted = DeniedAssociations.inline_trusted(object_type, to_type)
            if trusted is not True:
                self._attach_associations(records, object_type, [to_type])
                if trusted is None and not DeniedAssociations.denied(object_type, to_type):
                    agree = all(set(r[to_type]) == set(ids) for r, ids, c in zip(records, listed, cut) if not c)
                    DeniedAssociations.judge_inline(object_type, to_type, agree)
                continue
            for record, ids in zip(records, listed):
                record[to_type] = ids
            partial = [record for record, c in zip(records, cut) if c]
            if partial:
                path = f"{self.associations_path}/{object_type}/{to_type}/batch/read"
                linked = read_association_ids(self.associations_requester, path, [str(r["id"]) for r in partial], self._backoff)
                for record in partial:
                    record[to_type] = linked.get(str(record["id"]), [])

    def _attach_associations(
        self, records: List[MutableMapping[str, Any]], object_type: str, to_types: Optional[List[str]] = None
    ) -> None:
        ids = [str(record["id"]) for record in records]
        for to_type in self.associations if to_types is None else to_types:
            if DeniedAssociations.denied(object_type, to_type):
                continue
            path = f"{self.associations_path}/{object_type}/{to_type}/batch/read"
            try:
                linked = read_association_ids(self.associations_requester, path, ids, self._backoff)
            except AirbyteTracedException as error:
                if not is_missing_scope(error):
                    raise
                DeniedAssociations.deny(object_type, to_type, error.message or "")
                continue
            for record in records:
                record[to_type] = linked.get(str(record["id"]), [])


def page_results(response: requests.Response, object_type: str = "") -> List[MutableMapping[str, Any]]:
    """A list or search page's `results`, each record with an `id`; anything else is a HubSpot-side fault."""
    body = parse_body(response)
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise AirbyteTracedException(
            message=(
                f"HubSpot answered {response.request.method} {_path_of(response)} with a body that has no "
                f"'results' list (HTTP {response.status_code}). This is a HubSpot-side fault; retry the sync."
            ),
            internal_message=f"unexpected body: {response.text[:300]!r}",
            failure_type=FailureType.transient_error,
        )
    records: List[MutableMapping[str, Any]] = body["results"]
    for record in records:
        if "id" not in record:
            raise AirbyteTracedException(
                message=(
                    f"HubSpot returned a {object_type} record without an 'id' from {_path_of(response)}; "
                    "the page cannot be trusted. Retry the sync; if it persists, report it to HubSpot support."
                ),
                failure_type=FailureType.transient_error,
            )
    return records


def is_missing_scope(error: AirbyteTracedException) -> bool:
    """The manifest's MISSING_SCOPES filter wrote this error (its message starts the same way every time)."""
    return "token lacks the scope" in (error.message or "")


class DeniedAssociations:
    """Association types the token may not read: the records still arrive, without that id array, and the run
    says once which array is missing and the scope to add (a contact is readable without the deals scope)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _denied: ClassVar[Dict[Tuple[str, str], str]] = {}
    _inline: ClassVar[Dict[Tuple[str, str], bool]] = {}

    @classmethod
    def denied(cls, from_type: str, to_type: str) -> bool:
        return (from_type, to_type) in cls._denied

    @classmethod
    def inline_trusted(cls, from_type: str, to_type: str) -> Optional[bool]:
        """Whether a list's inline ids of this pair matched a v4 batch read this run; None before the comparison."""
        return cls._inline.get((from_type, to_type))

    @classmethod
    def judge_inline(cls, from_type: str, to_type: str, agree: bool) -> None:
        with cls._lock:
            if (from_type, to_type) in cls._inline:
                return
            cls._inline[(from_type, to_type)] = agree
        if not agree:
            logger.warning(
                f"HubSpot's list gave {from_type} records other '{to_type}' association ids than its v4 associations "
                "API: for this run they are read with v4 batch reads (exact, one more call per list page)."
            )

    @classmethod
    def deny(cls, from_type: str, to_type: str, reason: str) -> None:
        with cls._lock:
            if (from_type, to_type) not in cls._denied:
                cls._denied[(from_type, to_type)] = reason
                logger.warning(
                    f"{from_type} records are emitted without their '{to_type}' association ids for this run: {reason}"
                )

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls._denied.clear()
            cls._inline.clear()


def _searched_object_type(response: requests.Response) -> str:
    """The object type in the path of the search request that produced this page (.../objects/{type}/search)."""
    parts = _path_of(response).rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def _listed_object_type(response: requests.Response) -> str:
    """The object type in the path of the list request that produced this page (.../objects/{type})."""
    return _path_of(response).rstrip("/").split("/")[-1]


def _window_of(response: requests.Response) -> Tuple[int, int]:
    """The modification-date bounds (epoch ms) of the search request that produced this page."""
    low, high = 0, 2**63
    try:
        body = orjson.loads(response.request.body or b"{}")
        for group in body.get("filterGroups") or []:
            for condition in group.get("filters") or []:
                if condition.get("operator") == "GTE":
                    low = int(condition["value"])
                elif condition.get("operator") == "LTE":
                    high = int(condition["value"])
    except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        pass
    return low, high


def _archived_millis(record: Mapping[str, Any]) -> Optional[int]:
    """When an archived record was archived (epoch ms): `archivedAt`, else (never seen) its `updatedAt`."""
    moment = millis_of(record.get("archivedAt"))
    return moment if moment is not None else millis_of(record.get("updatedAt"))


def _object_slice(object_type: str) -> StreamSlice:
    """A slice naming the object type, for requesters whose path is `.../{object type}`."""
    return StreamSlice(partition={"object_type": object_type}, cursor_slice={})


class ProcessMemo:
    """Data read once per (API root, object type) per connector process, shared by every partition's components.

    The CDK builds fresh components for every partition, so a per-component cache would read the same data once
    per window; one run of the connector is one process, so the memo lives for the process.
    """

    _lock: threading.Lock
    _by_key: Dict[Tuple[str, str], List[Mapping[str, Any]]]

    def __init_subclass__(cls) -> None:
        cls._lock = threading.Lock()
        cls._by_key = {}

    @classmethod
    def get(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        key = (requester.get_url_base(), object_type)
        with cls._lock:
            if key not in cls._by_key:
                cls._by_key[key] = cls._fetch(requester, object_type)
            return cls._by_key[key]

    @classmethod
    def _fetch(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        raise NotImplementedError

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls._by_key.clear()


class ArchivedRecords(ProcessMemo):
    """Archived records of an object type (search never returns them), listed once per run."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        records: List[Mapping[str, Any]] = []
        after: Optional[str] = None
        trail = CursorTrail(f"the archived {object_type} listing")
        while True:
            token = {"next_page_token": after} if after else None
            response = requester.send_request(
                stream_slice=_object_slice(object_type),
                next_page_token=token,
                log_formatter=None,
            )
            body = parse_body(response) if response is not None else {}
            records.extend(body.get("results") or [])
            after = next_after(body)
            if after is None:
                break
            trail.follow(after)
        logger.info(f"Listed {len(records)} archived {object_type} records.")
        return records


def read_association_ids(requester: HttpRequester, path: str, ids: List[str], backoff_seconds: float = 1.0) -> Dict[str, List[str]]:
    """All ids associated with each of `ids` through one v4 batch-read path, following each result's own paging
    (a cursor a result gives twice fails the read); inputs a 207 answer failed are read again (`read_batch`)."""
    linked: Dict[str, List[str]] = {}
    seen: Dict[str, set] = {}
    followed: Set[Tuple[str, str]] = set()
    pending: List[Dict[str, str]] = [{"id": object_id} for object_id in ids]

    def send(inputs: List[Dict[str, Any]]) -> requests.Response:
        return requester.send_request(path=path, request_body_json={"inputs": BodyList(inputs)}, log_formatter=None)

    while pending:
        batch, pending = pending[:ASSOCIATION_BATCH_SIZE], pending[ASSOCIATION_BATCH_SIZE:]
        results = read_batch(send, batch, association_from_id, f"the associations at {path}", backoff_seconds)
        for result in results:
            from_id = association_from_id(result)
            bucket = linked.setdefault(from_id, [])
            known = seen.setdefault(from_id, set())
            for target in result.get("to") or []:
                to_id = str(target.get("toObjectId"))
                if to_id not in known:
                    known.add(to_id)
                    bucket.append(to_id)
            following = follow_result_paging(result, from_id, followed, f"POST {path}")
            if following is not None:
                pending.append(following)
    return linked


def _path_of(response: requests.Response) -> str:
    url = response.request.url if response.request is not None else response.url
    return requests.utils.urlparse(url).path if url else "?"


@dataclass
class HubspotErrorHandler(DefaultErrorHandler):
    """The manifest's error filters, plus one rule for successful answers: a 2xx must carry a `results` list.

    Every HubSpot endpoint this connector reads answers 2xx with `results`; an empty, truncated or non-JSON 2xx body
    is a HubSpot-side fault worth retrying, which no filter can say without its predicate (a filter matches on
    status code OR predicate). And a filter with a predicate re-parses every response body, a full extra JSON
    parse of every wide page per filter; deciding 2xx answers here uses the body the decoder parses anyway.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # A requester named after its stream counts its calls for that stream; the manifest's helper requesters carry
        # an unrendered name template and count for the stream their thread is reading.
        name = str((parameters or {}).get("name") or "")
        self._stream = name if name and "{{" not in name else None

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        ApiCalls.count(response_or_exception, self._stream)  # once per attempt: the sync report's calls and retries
        if isinstance(response_or_exception, requests.Response) and 200 <= response_or_exception.status_code < 300:
            body = parse_body(response_or_exception)
            if isinstance(body, dict) and isinstance(body.get("results"), list):
                return SUCCESS_RESOLUTION
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=(
                    f"HubSpot answered {response_or_exception.request.method} {_path_of(response_or_exception)} with "
                    f"HTTP {response_or_exception.status_code} but an empty, truncated or unreadable body (no 'results' "
                    "list), again after every retry. This is a HubSpot-side fault; run the sync again later (it resumes "
                    "from its last state)."
                ),
            )
        return super().interpret_response(response_or_exception)


# --------------------------------------------------------------------------------------------------------------
# Search requests
# --------------------------------------------------------------------------------------------------------------

_SLICE_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ")


def epoch_millis(value: Any) -> int:
    """Epoch milliseconds of a slice boundary written in the cursor's datetime format."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value)
        for fmt in _SLICE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


class SkipsOldEmptyWindows:
    """For search requesters: answers windows older than an object's earliest modification as empty, uncalled.
    (No class annotations here: the CDK would pass them to the requester as constructor fields.)"""

    def _answer_if_old_and_empty(self, args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Optional[requests.Response]:
        """For a window's first page (send_request's keyword call): an empty answer when the window is known empty."""
        stream_slice = kwargs.get("stream_slice")
        if not args and not kwargs.get("next_page_token") and self._before_first_record(stream_slice):
            return self._empty_page(stream_slice)
        return None

    def _before_first_record(self, stream_slice: Optional[Mapping[str, Any]]) -> bool:
        """A first sync starts at start_date (2006 by default) and searches every window since: one call per empty
        window and object. For old windows, one search for the earliest modification tells which ones are empty.

        Only windows that ended more than EMPTY_WINDOW_AGE ago are skipped (archived records, listed for 90 days,
        and records still waiting for the search index are always in later windows), and only when they end a day
        or more before the earliest modification HubSpot's search holds for that object."""
        end = (stream_slice or {}).get("end_time")
        if not end or (stream_slice or {}).get(EARLIEST_PROBE):
            return False
        try:
            end_ms = epoch_millis(end)
        except ValueError:
            return False
        if end_ms > int(time.time() * 1000) - EMPTY_WINDOW_AGE_MS:
            return False
        object_type = (stream_slice or {}).get("object_type") or getattr(self, "object_type", "")
        earliest = EarliestModification.get(self, object_type)  # type: ignore[arg-type]
        return earliest is None or end_ms < earliest - _DAY_MS

    def _empty_page(self, stream_slice: Optional[Mapping[str, Any]]) -> requests.Response:
        """What HubSpot answers for a window without records, without asking it."""
        body = self.get_request_body_json(stream_slice=stream_slice)  # type: ignore[attr-defined]
        path = self.get_path(stream_state=None, stream_slice=stream_slice, next_page_token=None)  # type: ignore[attr-defined]
        url = self.get_url_base().rstrip("/") + "/" + path.lstrip("/")  # type: ignore[attr-defined]
        response = requests.Response()
        response.status_code = 200
        setattr(response, KNOWN_EMPTY, True)
        response._content = b'{"total":0,"results":[]}'
        response.headers["Content-Type"] = "application/json"
        response.url = url
        response.request = requests.Request("POST", url, data=orjson.dumps(body), headers={"Content-Type": "application/json"}).prepare()
        return response


def keyset_of(next_page_token: Optional[Mapping[str, Any]]) -> Keyset:
    """Where a keyset-paged search goes on: the paginator's `Keyset`, or a first sync's last id read (a number)."""
    token = (next_page_token or {}).get("next_page_token")
    if isinstance(token, Keyset):
        return token
    return Keyset(last_id=int(token)) if token not in (None, "") else Keyset()


def keyset_window_filters(
    modified_property: str,
    stream_slice: Optional[Mapping[str, Any]],
    next_page_token: Optional[Mapping[str, Any]],
    descending: bool = False,
) -> List[Dict[str, Any]]:
    """A search page's filters: `hs_object_id` after the last id read (keyset paging) and the slice's window of the
    modification date. Every search of the connector pages this way; `descending` pages from the highest id down."""
    after_id = keyset_of(next_page_token).last_id
    if descending:
        filters = [{"propertyName": "hs_object_id", "operator": "LT", "value": str(after_id)}] if after_id is not None else []
    else:
        filters = [{"propertyName": "hs_object_id", "operator": "GT", "value": str(after_id or 0)}]
    filters.extend(window_filters(modified_property, stream_slice))
    return filters


# When this process started: a window that ends later is the sync's last one (its end is "now").
PROCESS_STARTED_MS = int(time.time() * 1000)


def is_last_window_end(end_ms: int) -> bool:
    """Whether a window ending at `end_ms` is the sync's last: its end was "now" when the sync cut its windows."""
    return end_ms >= PROCESS_STARTED_MS


def window_filters(modified_property: str, stream_slice: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The filters of the slice's window of the modification date. The sync's last window has no end filter: a
    record HubSpot dates in the future (a wrong clock, an import) would otherwise never be in any window; it is read
    and emitted as it is, and the cursor stays at the sync's start (source.py, clamp_to_sync_start)."""
    filters = []
    for bound, operator in (("start_time", "GTE"), ("end_time", "LTE")):
        if not stream_slice or not stream_slice.get(bound):
            continue
        moment = epoch_millis(stream_slice[bound])
        if bound == "end_time" and (stream_slice.get(OPEN_END) or is_last_window_end(moment)):
            continue
        filters.append({"propertyName": modified_property, "operator": operator, "value": str(moment)})
    return filters


def with_keyset_after(body: Dict[str, Any], next_page_token: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The search body with HubSpot's `after` when the last page came back empty with a next cursor (`Keyset`)."""
    after = keyset_of(next_page_token).after
    if after is not None:
        body["after"] = after
    return body


def earliest_probe_body(modified_property: str, before: Optional[int] = None) -> Dict[str, Any]:
    """The search that finds an object type's earliest modification: one record, sorted by the modification date;
    with `before`, the check that no record was modified before that moment (epoch ms)."""
    body: Dict[str, Any] = {
        "sorts": [{"propertyName": modified_property, "direction": "ASCENDING"}],
        "properties": [modified_property],
        "limit": 1,
    }
    if before is not None:
        body["filterGroups"] = [{"filters": [{"propertyName": modified_property, "operator": "LT", "value": str(before)}]}]
    return body


@dataclass
class ObjectPagesRequester(HttpRequester):
    """What the search and list requesters share: the object type (from the slice, else the manifest's parameters),
    its modification-date property, and every property name, read once per run through `properties_requester`."""

    properties_requester: Optional[HttpRequester] = None
    object_type: str = ""
    modified_property: str = "hs_lastmodifieddate"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        parameters = parameters or {}
        self.object_type = self.object_type or parameters.get("object_type", "")
        self.modified_property = parameters.get("modified_property") or self.modified_property

    def object_type_of(self, stream_slice: Optional[Mapping[str, Any]]) -> str:
        return (stream_slice or {}).get("object_type") or self.object_type

    def property_names(self, stream_slice: Optional[Mapping[str, Any]]) -> BodyList:
        return PropertyDefinitions.names(self.properties_requester, self.object_type_of(stream_slice))  # type: ignore[arg-type]


@dataclass
class HubspotSearchRequester(SkipsOldEmptyWindows, ObjectPagesRequester):
    """POSTs HubSpot search pages: every property in the body, one modification-date window, keyset on hs_object_id.

    The body needs the full property list (hundreds of names) and values derived from the window and the page
    token. Interpolating that list through Jinja costs an `ast.literal_eval` of a large string per page, and
    CPython 3.11 raises `SystemError: AST constructor recursion depth mismatch` when threads do that at once,
    so the body is built here.
    """

    page_size: int = 200

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.page_size = int((parameters or {}).get("search_page_size") or self.page_size)

    def get_request_body_json(  # type: ignore[override]
        self,
        *,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Mapping[str, Any]:
        if (stream_slice or {}).get(EARLIEST_PROBE):
            return earliest_probe_body(self.modified_property, (stream_slice or {}).get(EARLIEST_PROBE_BEFORE))
        properties = self.property_names(stream_slice)
        descending = bool((stream_slice or {}).get(DESCENDING_IDS))
        filters = keyset_window_filters(self.modified_property, stream_slice, next_page_token, descending)
        return with_keyset_after({
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING" if descending else "ASCENDING"}],
            "properties": properties,
            "limit": self.page_size,
        }, next_page_token)

    def send_request(self, *args: Any, **kwargs: Any) -> Optional[requests.Response]:
        # The page's association reads and archived listing follow on this thread: they are this stream's calls too.
        ApiCalls.belong_to(self.name)
        empty = self._answer_if_old_and_empty(args, kwargs)
        return empty if empty is not None else super().send_request(*args, **kwargs)

@dataclass
class HubspotListRequester(ObjectPagesRequester):
    """GETs list pages of an object type (`GET /crm/v3/objects/{type}`): 100 records, every property named in the
    URL, associations inline, HubSpot's `after` cursor. Built here for the same reason as the search body."""

    associations: List[str] = field(default_factory=list)
    page_size: int = 100

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.associations = list(self.associations or (parameters or {}).get("associations") or [])

    def get_path(  # type: ignore[override]
        self,
        *,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """The object's path with the query written out, property names joined by plain commas (the parameter is a
        comma-separated list). Given as params, requests would percent-encode every comma, and urllib3 would then
        re-check a wide object's ~6,000-character query byte by byte in Python: ~3 ms of CPU a page. (The manifest
        gives this requester no request parameters, so there are none to add to this query.)"""
        properties = [self.modified_property] if (stream_slice or {}).get(IDS_ONLY) else self.property_names(stream_slice)
        query = f"limit={self.page_size}&properties={quote(','.join(properties), safe=',')}"
        if self.associations:
            query += f"&associations={quote(','.join(self.associations), safe=',')}"
        after = (next_page_token or {}).get("next_page_token")
        if after:
            query += f"&after={quote(str(after), safe='')}"
        return f"{self.object_path(stream_slice)}?{query}"

    def object_path(self, stream_slice: Optional[Mapping[str, Any]]) -> str:
        """The object's path without a query (`crm/v3/objects/{type}`)."""
        return super().get_path(stream_state={}, stream_slice=stream_slice, next_page_token=None)  # type: ignore[arg-type]


# A search slice with this key set pages ids from the highest down (a first sync's search reader, first_sync.py);
# with OPEN_END too, its window has no end (a full refresh's first-sync read).
DESCENDING_IDS = "hubspot_descending_ids"
OPEN_END = "hubspot_open_end"
# A list slice with this key set asks for no properties but the modification date (first_sync.py: wide objects).
IDS_ONLY = "hubspot_ids_only"
EARLIEST_PROBE = "earliest_modification_probe"
EARLIEST_PROBE_BEFORE = "earliest_modification_probe_before"
_DAY_MS = 86_400_000
EMPTY_WINDOW_AGE_MS = 120 * _DAY_MS


class EarliestModification(ProcessMemo):
    """The earliest modification time (epoch ms) HubSpot's search holds for an object type; None when it holds none."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, object_type: str) -> Any:
        probe = StreamSlice(partition={"object_type": object_type, EARLIEST_PROBE: True}, cursor_slice={})
        response = HttpRequester.send_request(requester, stream_slice=probe, log_formatter=None)
        body = parse_body(response) if response is not None else {}
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            return 0  # unknown: skip nothing
        if not results:
            # No record at all: confirm with a filter before windows older than EMPTY_WINDOW_AGE go unsearched.
            return None if cls._none_before(requester, object_type, int(time.time() * 1000) - EMPTY_WINDOW_AGE_MS) else 0
        record = results[0]
        modified = (record.get("properties") or {}).get(getattr(requester, "modified_property", "")) or record.get("updatedAt")
        try:
            earliest = int(modified) if str(modified).isdigit() else epoch_millis(modified)
        except (TypeError, ValueError):
            return 0
        if not cls._none_before(requester, object_type, earliest - _DAY_MS):
            return 0
        logger.info(f"The earliest {object_type} modification in HubSpot's search is {modified}: older windows are not searched.")
        return earliest

    @classmethod
    def _none_before(cls, requester: HttpRequester, object_type: str, moment: int) -> bool:
        """Whether a filtered search confirms that no record was modified before `moment`. Windows are skipped on
        this filter's word, not on the sort's alone."""
        check = StreamSlice(partition={"object_type": object_type, EARLIEST_PROBE: True, EARLIEST_PROBE_BEFORE: moment}, cursor_slice={})
        response = HttpRequester.send_request(requester, stream_slice=check, log_formatter=None)
        body = parse_body(response) if response is not None else {}
        results = body.get("results") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if isinstance(results, list) and not results and not (isinstance(total, int) and total > 0):
            return True
        logger.warning(
            f"HubSpot's search for {object_type} did not confirm its earliest modification (records before it, or "
            "an unexpected answer): every window since start_date is searched."
        )
        return False


# --------------------------------------------------------------------------------------------------------------
# Schema and value casting
# --------------------------------------------------------------------------------------------------------------

_NULLABLE_STRING = {"type": ["null", "string"]}


def json_schema_for_property(hubspot_type: str) -> Dict[str, Any]:
    """JSON-schema type for a HubSpot property type; unknown types fall back to string."""
    if hubspot_type == "number":
        return {"type": ["null", "number"]}
    if hubspot_type == "bool":
        return {"type": ["null", "boolean"]}
    if hubspot_type == "datetime":
        return {"type": ["null", "string"], "format": "date-time"}
    if hubspot_type == "date":
        return {"type": ["null", "string"], "format": "date"}
    return dict(_NULLABLE_STRING)


def flat_column(name: str) -> str:
    """The top-level column that repeats a property's value (`properties_<name>`)."""
    return f"properties_{name}"


def build_object_schema(properties: List[Mapping[str, Any]], associations: List[str]) -> Dict[str, Any]:
    property_schemas = {
        prop["name"]: json_schema_for_property(str(prop.get("type", "string")))
        for prop in properties
        if prop.get("name")
    }
    columns: Dict[str, Any] = {
        "id": {"type": ["null", "string"]},
        "createdAt": {"type": ["null", "string"], "format": "date-time"},
        "updatedAt": {"type": ["null", "string"], "format": "date-time"},
        "archived": {"type": ["null", "boolean"]},
        "archivedAt": {"type": ["null", "string"], "format": "date-time"},
        "properties": {"type": ["null", "object"], "additionalProperties": True, "properties": property_schemas},
    }
    for name, schema in property_schemas.items():
        columns[flat_column(name)] = schema
    for to_type in associations:
        columns[to_type] = {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": ["null", "object"],
        "additionalProperties": True,
        "properties": columns,
    }


class PropertyDefinitions(ProcessMemo):
    """HubSpot's property definitions of an object type, read once per run for the schema and the search bodies."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        response = requester.send_request(stream_slice=_object_slice(object_type), log_formatter=None)
        body = parse_body(response) if response is not None else {}
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise AirbyteTracedException(
                message=f"HubSpot's properties API for {object_type} answered without a 'results' list; retry the sync.",
                failure_type=FailureType.transient_error,
            )
        return [prop for prop in results if isinstance(prop, Mapping) and prop.get("name")]

    _names: Dict[Tuple[str, str], BodyList] = {}

    @classmethod
    def names(cls, requester: HttpRequester, object_type: str) -> BodyList:
        """Every property name of the object type, in the properties API's order: built once per run, as the
        definitions are read once (every list URL and search body of the object carries them). A BodyList, so the
        CDK does not copy it into each body; nothing changes it."""
        key = (requester.get_url_base(), object_type)
        names = cls._names.get(key)
        if names is None:
            names = cls._names[key] = BodyList(prop["name"] for prop in cls.get(requester, object_type))
        return names

    @classmethod
    def clear(cls) -> None:
        super().clear()
        with cls._lock:
            cls._names.clear()


@dataclass
class HubspotPropertiesSchemaLoader(SchemaLoader):
    """Builds the stream schema from HubSpot's properties API: typed, nested and flattened.

    DynamicSchemaLoader produces a flat schema and fails on unmapped types; HubSpot streams need the values both
    nested under `properties` and flattened as `properties_<name>`, association arrays, and a string fallback
    for any type HubSpot adds later.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    requester: HttpRequester
    object_type: str = ""
    associations: List[str] = field(default_factory=list)
    engagement_columns: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self.object_type = self.object_type or parameters.get("object_type", "")
        self.object_types: List[str] = list(parameters.get("object_types") or [self.object_type])
        self.associations = list(self.associations or parameters.get("associations") or [])
        self._schema: Optional[Dict[str, Any]] = None

    def get_json_schema(self) -> Mapping[str, Any]:
        # One schema object per stream: the caster keys its per-property table on it.
        if self._schema is None:
            definitions: Dict[str, Mapping[str, Any]] = {}
            for object_type in self.object_types:
                for prop in PropertyDefinitions.get(self.requester, object_type):
                    definitions.setdefault(prop["name"], prop)
            self._schema = build_object_schema(list(definitions.values()), self.associations)
            if self.engagement_columns:
                for association in self.associations:
                    self._schema["properties"].pop(association, None)
                self._schema["properties"].update(ENGAGEMENT_COLUMNS)
        return self._schema


# A cast returns None for a value it cannot cast, as for a blank one; the caster's loops tell them apart
# (`_is_blank`), emit both as null, and count the first kind (`HubspotRecordCaster._count_uncast`).

# int() and str() refuse integers of more than 4,300 digits (sys.get_int_max_str_digits); longer ones go by parts.
_DIGITS_AT_ONCE = 4000


def _int_of_digits(digits: str) -> int:
    """The int of a text of ASCII digits, exactly, however many."""
    if len(digits) <= _DIGITS_AT_ONCE:
        return int(digits)
    low = len(digits) // 2
    return _int_of_digits(digits[:-low]) * 10**low + _int_of_digits(digits[-low:])


def _digits_of_int(number: int) -> str:
    """str() of an int, however many digits it has."""
    try:
        return str(number)
    except ValueError:
        high, low = divmod(abs(number), 10**_DIGITS_AT_ONCE)
        return ("-" if number < 0 else "") + _digits_of_int(high) + str(low).zfill(_DIGITS_AT_ONCE)


# orjson writes integers of 64 bits at most (signed, or unsigned); the caster keeps longer ones exact.
_ORJSON_INTS = range(-(2**63), 2**64)


def exact_big_ints(value: Any) -> Any:
    """`value` with every integer orjson cannot write replaced by an orjson.Fragment of its exact digits (dicts and
    lists walked and copied; anything else as it is). run.py writes a record that way when orjson refused it."""
    if type(value) is dict:
        return {key: exact_big_ints(item) for key, item in value.items()}
    if type(value) is list:
        return [exact_big_ints(item) for item in value]
    if type(value) is int and value not in _ORJSON_INTS:
        return orjson.Fragment(_digits_of_int(value))
    return value


def _is_blank(value: Any) -> bool:
    """A text of whitespace only (or none): a value the casts turn to null without counting it."""
    return isinstance(value, str) and (not value or str.isspace(value))


def _cast_number(value: Any) -> Any:
    """An integer literal (a sign perhaps, ASCII digits) to the int of exactly that value, however long; any other
    text float() reads to a float (an int when int() reads it too, as "1_000"); None for blank text, numbers that are
    not finite and anything else."""
    if type(value) is str:
        if len(value) < 19 and value.isdigit() and value.isascii():  # the common case: an integer of 18 digits at most
            return int(value)
        text = value.strip()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if value - value == 0 else None  # not nan or inf
    else:
        text = str(value).strip()
    if not text:
        return None
    if "." in text:  # a decimal, HubSpot's other usual number
        try:
            number = float(text)
        except ValueError:
            return None
        return number if number - number == 0.0 else None  # not nan, inf, or beyond a float's range
    unsigned = text[1:] if text[0] in "+-" else text
    if unsigned.isdigit() and unsigned.isascii():
        number = _int_of_digits(unsigned)
        return -number if text[0] == "-" else number
    try:
        number = float(text)
    except ValueError:
        return None
    if number - number != 0.0:  # nan, inf, or beyond a float's range
        return None
    if number.is_integer() and "e" not in text.lower():
        try:
            return int(text)  # digits with underscores, or of another script: exact too
        except ValueError:
            pass
    return number


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_BOOLEANS = {**{text: True for text in _TRUE}, **{text: False for text in _FALSE}}


def _cast_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    known = _BOOLEANS.get(value) if type(value) is str else None  # HubSpot's own "true" / "false"
    if known is not None:
        return known
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# Epoch-millisecond datetimes (some HubSpot properties, such as hs_lastmodifieddate, come that way) are formatted
# from a cache of days and tables of digits: time.gmtime and %-formatting per value were a third of the caster's time.
_DAYS: Dict[int, str] = {}
_DAYS_CACHED = 100_000
_TWO_DIGITS = tuple("%02d" % n for n in range(100))
_THREE_DIGITS = tuple("%03d" % n for n in range(1000))
_CLOCK = tuple("%02d:%02d" % divmod(minute, 60) for minute in range(1440))  # "HH:MM" of each minute of a day


def _day(days: int) -> Optional[str]:
    """'YYYY-MM-DD' (UTC) of a count of days since 1970-01-01, from the cache; None past the years 1 to 9999."""
    day = _DAYS.get(days)
    if day is None:
        try:
            moment = _EPOCH + timedelta(days=days)
        except OverflowError:
            return None
        day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        if len(_DAYS) < _DAYS_CACHED:
            _DAYS[days] = day
    return day


_EPOCH = datetime(1970, 1, 1)
# Epoch millis of the years 1 to 9999 (what ISO 8601 text and Python's datetime can tell); others are not datetimes.
_EPOCH_MILLIS = range(-62_135_596_800_000, 253_402_300_800_000)


def _is_epoch_text(text: str) -> bool:
    """Epoch millis as HubSpot writes them: ASCII digits, perhaps a minus sign. (isdigit alone lets through digits
    int() refuses, such as "²"; and int() refuses 4,300+ digits.)"""
    return len(text) <= 20 and text.isascii() and (text.isdigit() or (text.startswith("-") and text[1:].isdigit()))


def _datetime_of_epoch_millis(text: str) -> Optional[str]:
    """'1704067200123' -> '2024-01-01T00:00:00.123Z' for a text `_is_epoch_text` accepts; None past the years 1 to
    9999."""
    millis = int(text)
    if millis not in _EPOCH_MILLIS:
        return None
    seconds, millis = divmod(millis, 1000)
    days, second = divmod(seconds, 86400)
    day = _DAYS.get(days) or _day(days)
    if day is None:
        return None
    minute, second = divmod(second, 60)
    return f"{day}T{_CLOCK[minute]}:{_TWO_DIGITS[second]}.{_THREE_DIGITS[millis]}Z"


def _fromisoformat_takes_z() -> bool:
    try:
        datetime.fromisoformat("2000-01-01T00:00:00Z")
    except ValueError:  # Python 3.10
        return False
    return True


_FROMISOFORMAT_TAKES_Z = _fromisoformat_takes_z()


def _fromisoformat(text: str) -> Optional[datetime]:
    """datetime.fromisoformat of the text, a final Z read as +00:00; None where it refuses it."""
    if text[-1:] == "Z" and not _FROMISOFORMAT_TAKES_Z:
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None


import re as _re  # noqa: E402 - with the casts that use it

# ISO 8601 as the casts take it: a calendar or week date (extended or basic), then perhaps a time after a T (or a
# space, as RFC 3339 allows), with a fraction of its last part, and an offset or Z. datetime.fromisoformat alone
# also reads texts that are not ISO 8601 (since Python 3.11, any character between date and time: 5,000 digits
# are a datetime); it then checks the calendar and the clock.
_ISO_8601 = _re.compile(
    r"\d{4}(?:-\d{2}-\d{2}|\d{4}|-W\d{2}(?:-\d)?|W\d{2}\d?)"
    r"(?:[T ]\d{2}(?:[.,]\d+|:?\d{2}(?:[.,]\d+|:?\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)?)?",
    _re.ASCII,
)


def _iso_moment(text: str) -> Optional[datetime]:
    """The datetime of an ISO 8601 date or datetime (`_ISO_8601`, read by datetime.fromisoformat); None for any
    other text. A valid value of a HubSpot datetime property is such a text, or epoch millis."""
    return _fromisoformat(text) if _ISO_8601.fullmatch(text) is not None else None


# The casts' cheap path for HubSpot's usual datetimes ('YYYY-MM-DDTHH:MM:SS.fffZ', 'YYYY-MM-DDTHH:MM:SSZ') and dates:
# fromisoformat alone, where the length and the separators tell the text is ISO 8601 if fromisoformat reads it at all
# (it reads "10:00:00:123" too). unit_tests/test_caster.py checks that it judges texts of those shapes as the
# pattern and fromisoformat do.
_read_usual = datetime.fromisoformat if _FROMISOFORMAT_TAKES_Z else _fromisoformat
# The valid 'YYYY-MM-DD' texts met (dates repeat from record to record, a set lookup is the cheapest test), up to:
_VALID_DATES: Set[str] = set()
_VALID_DATES_CACHED = 100_000


def _cast_datetime(value: Any) -> Any:
    """An ISO 8601 datetime or date (`_iso_moment`) as it is, stripped; epoch millis to ISO 8601 in UTC; None for
    blank text and anything else."""
    if (
        type(value) is str and (len(value) == 24 and value[19] == "." or len(value) == 20) and value[10] == "T"
        and value[-1] == "Z" and value[13] == ":" and value[16] == ":"
    ):
        try:
            if _read_usual(value) is not None:
                return value  # as search and list answers give most datetimes
        except (ValueError, OverflowError):
            pass
    text = str(value).strip()
    if not text:
        return None
    if _is_epoch_text(text):
        return _datetime_of_epoch_millis(text)
    return text if _iso_moment(text) is not None else None


def _cast_date(value: Any) -> Any:
    """YYYY-MM-DD: of a date or a datetime in ISO 8601 (`_iso_moment`; the datetime's own day, not converted to
    UTC), of epoch millis (UTC); None for blank text and anything else."""
    if type(value) is str:
        if value in _VALID_DATES:
            return value
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                _read_usual(value)
            except (ValueError, OverflowError):
                pass
            else:
                if len(_VALID_DATES) < _VALID_DATES_CACHED:
                    _VALID_DATES.add(value)
                return value  # a valid YYYY-MM-DD, as HubSpot sends dates
    text = str(value).strip()
    if not text:
        return None
    if _is_epoch_text(text):
        millis = int(text)
        return _day(millis // 86_400_000) if millis in _EPOCH_MILLIS else None
    moment = _iso_moment(text)
    return None if moment is None else moment.date().isoformat()


def _cast_string(value: Any) -> Any:
    return value if isinstance(value, str) else (None if value is None else str(value))


def caster_for(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "number" in types or "integer" in types:
        return _cast_number
    if "boolean" in types:
        return _cast_bool
    if schema.get("format") == "date-time":
        return _cast_datetime
    if schema.get("format") == "date":
        return _cast_date
    return _cast_string


# Streams whose records leave the caster without top-level nulls (the last step before they are emitted): the
# serializer in run.py need not look through their hundreds of columns for one to leave out.
NULL_FREE_STREAMS: Set[str] = set()


# The caster's loop in C (source_hubspot/_casts.c), built by setup.py where a C compiler is found; without it the
# Python loop (`HubspotRecordCaster._cast_loop`, the reference the C loop is tested against) does the same work.
try:
    from source_hubspot._casts import cast_properties as _native_cast_properties
except ImportError:  # pragma: no cover - depends on the build
    _native_cast_properties = None

# What the C loop recognises (their usual cases inline, anything else through the function), in its order.
_NATIVE_KNOWN = (_cast_number, _cast_bool, _cast_datetime, _cast_date, _BOOLEANS, flat_column)

# Per cast: the HubSpot type and what its values must be, for the log line of values that could not be cast.
_UNCAST_WORDS: Dict[Any, Tuple[str, str]] = {
    _cast_number: ("number", "numbers"),
    _cast_bool: ("bool", "booleans (true, false, yes, no, 1 or 0)"),
    _cast_datetime: ("datetime", "ISO 8601 datetimes or epoch milliseconds"),
    _cast_date: ("date", "ISO 8601 dates or epoch milliseconds"),
}
_NATIVE_MISSING_LOGGED: List[bool] = []  # said once per process
if os.environ.get("SOURCE_HUBSPOT_C_CASTER") == "0":  # the Python loop on request (benchmarks/bench.py: wide-rate)
    _native_cast_properties, _NATIVE_MISSING_LOGGED[:] = None, [True]  # switched off, not missing: no warning
# A schema's plan is made again from a record whose names are not in its order, at most this many times.
_NATIVE_REPLANS = 16


class _SchemaCasts:
    """Per property of one schema: its caster (None for strings) and its flat column; and the plan of the C loop:
    the table's entries in the order records name them."""

    def __init__(self, table: Dict[str, Tuple[Optional[Callable[[Any], Any]], str]]) -> None:
        self.table = table
        # (names, their table entries): one tuple, replaced whole, as records threads read it concurrently.
        self.plan: Tuple[Tuple[Any, ...], Tuple[Any, ...]] = ((), ())
        self.replans = 0

    def cast_natively(self, record: Dict[str, Any], values: Dict[str, Any], failed: List[Any]) -> None:
        """The C loop over the record's properties; the names of the values it could not cast are added to `failed`.
        Its plan says which table entry each place holds, so a record with the names in the plan's order needs no
        lookup by name; any other name is looked up, and the plan is made again from this record (at most
        `_NATIVE_REPLANS` times: records of alternating orders are cast correctly either way)."""
        names, entries = self.plan
        unplanned = _native_cast_properties(record, values, self.table, _NATIVE_KNOWN, names, entries, failed)
        if unplanned and self.replans < _NATIVE_REPLANS:
            self.replans += 1
            names = tuple(values)
            self.plan = (names, tuple(map(self.table.get, names)))


class HubspotRecordCaster(TypeTransformer):
    """Casts HubSpot's string property values to the schema's types and adds `properties_<name>` columns.

    The CDK's default normalization validates every record with jsonschema (DESIGN.md section 5 measured ~10x the
    CPU per wide record); here a per-property caster table is built once per schema and applied in place: by the
    C loop of source_hubspot/_casts.c where it is built, else by the same loop in Python (`_cast_loop`); both give
    the same records. Top-level nulls are left out, as the emitted record would leave them out.
    """

    config: Mapping[str, Any]
    parameters: Mapping[str, Any]

    def __init__(self, config: Optional[Mapping[str, Any]] = None, parameters: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__(TransformConfig.NoTransform)
        stream = (parameters or {}).get("name")
        if stream:
            NULL_FREE_STREAMS.add(stream)
        self._stream = str(stream or "")
        self._casters: Dict[int, _SchemaCasts] = {}
        if _native_cast_properties is None and not _NATIVE_MISSING_LOGGED:
            _NATIVE_MISSING_LOGGED.append(True)
            logger.warning(
                "source_hubspot._casts (the record caster in C) is not built, so records are cast in Python: a read "
                "of wide records takes about 1.5 times the CPU. Reinstall the connector where a C compiler and the "
                "Python headers are present (for example `apt-get install gcc python3-dev`, then "
                "`pip install --force-reinstall .`)."
            )

    def _casters_for(self, schema: Mapping[str, Any]) -> _SchemaCasts:
        """Built once per schema."""
        key = id(schema)
        casts = self._casters.get(key)
        if casts is None:
            nested = ((schema.get("properties") or {}).get("properties") or {}).get("properties") or {}
            table = {}
            for name, prop_schema in nested.items():
                cast = caster_for(prop_schema)
                table[name] = (None if cast is _cast_string else cast, flat_column(name))
            casts = self._casters[key] = _SchemaCasts(table)
        return casts

    def transform(self, record: Dict[str, Any], schema: Mapping[str, Any]) -> None:  # type: ignore[override]
        casts = self._casters_for(schema)
        if None in record.values():  # before the flat columns (which are never null) are added
            for key in [key for key, value in record.items() if value is None]:
                del record[key]
        values = record.get("properties")
        if isinstance(values, dict):
            failed: List[Any] = []
            if _native_cast_properties is not None:
                casts.cast_natively(record, values, failed)
            else:
                self._cast_loop(record, values, casts.table, failed)
            if failed:
                self._count_uncast(failed, casts.table)
        if "id" in record and not isinstance(record["id"], str):
            record["id"] = str(record["id"])

    def _count_uncast(self, failed: List[Any], table: Mapping[str, Tuple[Optional[Callable[[Any], Any]], str]]) -> None:
        """Counts a record's values that could not be cast (now null) for the sync report, and logs the first of each
        property in the run. The value itself is never logged: it may be personal data."""
        from source_hubspot.progress import UncastValues

        for name in failed:
            if UncastValues.add(self._stream, str(name)):
                cast = (table.get(name) or (None, ""))[0]
                kind, expected = _UNCAST_WORDS.get(cast, ("its type", "of that type"))
                logger.warning(
                    f"{self._stream or 'a stream'}: property {name} has values HubSpot types as {kind} that are not "
                    f"{expected}; they are emitted as null and counted in the sync report"
                )

    @staticmethod
    def _cast_loop(record: Dict[str, Any], values: Dict[str, Any], table: Mapping[str, Tuple[Optional[Callable[[Any], Any]], str]], failed: List[Any]) -> None:
        # One pass: cast in place (re-assigning existing keys while iterating is allowed) and add the flat column of
        # each value that is set; a null column is left out of the emitted record anyway. A value a cast turns to
        # null that was not blank could not be cast: its name is added to `failed`.
        for name, value in values.items():
            if value is None:
                continue
            cast, column = table.get(name) or (None, flat_column(name))  # a property the schema lacks: a string
            if cast is not None:
                cast_value = values[name] = cast(value)
                if cast_value is None:
                    if not _is_blank(value):
                        failed.append(name)
                    continue
                value = cast_value
            elif type(value) is not str:
                value = values[name] = str(value)  # HubSpot sends strings; anything else becomes one
            record[column] = value


# --------------------------------------------------------------------------------------------------------------
# The unified engagements stream
# --------------------------------------------------------------------------------------------------------------

# Per activity object: its engagement type and the properties that hold its subject and body.
ENGAGEMENT_KINDS: Dict[str, Tuple[str, Tuple[str, ...], Tuple[str, ...]]] = {
    "calls": ("CALL", ("hs_call_title",), ("hs_call_body",)),
    "emails": ("EMAIL", ("hs_email_subject",), ("hs_email_text", "hs_email_html")),
    "meetings": ("MEETING", ("hs_meeting_title",), ("hs_meeting_body",)),
    "notes": ("NOTE", (), ("hs_note_body",)),
    "tasks": ("TASK", ("hs_task_subject",), ("hs_task_body",)),
}

ENGAGEMENT_COLUMNS: Dict[str, Any] = {
    "type": {"type": ["null", "string"]},
    "timestamp": {"type": ["null", "string"], "format": "date-time"},
    "ownerId": {"type": ["null", "string"]},
    "subject": {"type": ["null", "string"]},
    "body": {"type": ["null", "string"]},
    **{
        column: {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
        for column in ("contactIds", "companyIds", "dealIds", "ticketIds")
    },
}

_ASSOCIATION_COLUMNS = {"contacts": "contactIds", "companies": "companyIds", "deals": "dealIds", "tickets": "ticketIds"}


def _first_value(properties: Mapping[str, Any], names: Tuple[str, ...]) -> Any:
    for name in names:
        if properties.get(name) not in (None, ""):
            return properties[name]
    return None


@dataclass
class EngagementFields(RecordTransformation):
    """Gives every activity of the unified `engagements` stream the same columns whatever its type.

    The column that holds the subject or the body differs per activity type (hs_call_title, hs_email_subject,
    ...), chosen by the record's partition: a lookup AddFields could only spell as one Jinja branch per type.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Mapping[str, Any]] = None,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
    ) -> None:
        object_type = (stream_slice or {}).get("object_type", "")
        kind, subject_names, body_names = ENGAGEMENT_KINDS.get(object_type, (object_type.upper(), (), ()))
        properties = record.get("properties") or {}
        record["type"] = kind
        record["timestamp"] = _cast_datetime(properties["hs_timestamp"]) if properties.get("hs_timestamp") else None
        owner = properties.get("hubspot_owner_id")
        record["ownerId"] = None if owner in (None, "") else str(owner)
        record["subject"] = _first_value(properties, subject_names)
        record["body"] = _first_value(properties, body_names)
        for association, column in _ASSOCIATION_COLUMNS.items():
            if association in record:
                record[column] = record.pop(association)


# --------------------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------------------

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
    `{"lastUpdated": <ms>}`). Which key holds the cursor and how to read it is a decision per state: YAML has no
    construct for it. Refused with the reset message: a cursor that is no date-time, a per-type cursor without
    `updatedAt`, and a cursor in the future (every later sync would read nothing).
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


# --------------------------------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------------------------------

class DailyLimit:
    """Stops every request of the run once HubSpot says the account's daily API limit is spent.

    The error filter fails the request that meets a 429 DAILY, but the CDK goes on with its other partitions and
    streams, each of which would spend a call (and log an error) to hear the same answer. The authenticators
    attach this guard to every request: it watches responses and refuses to send once the limit is spent.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _spent_message: ClassVar[Optional[str]] = None

    @classmethod
    def guard(cls, request: requests.PreparedRequest) -> None:
        if cls._spent_message is not None:
            raise AirbyteTracedException(
                message=cls._spent_message,
                internal_message=f"not sending {request.method} {request.path_url.split('?')[0]}: daily limit spent",
                failure_type=FailureType.transient_error,
            )
        request.register_hook("response", cls._watch)

    @classmethod
    def _watch(cls, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.status_code == 429:
            body = parse_body(response)
            if isinstance(body, dict) and body.get("policyName") == "DAILY":
                with cls._lock:
                    cls._spent_message = (
                        "HubSpot's daily API limit for this account is spent "
                        f"({body.get('message') or 'daily limit reached'}). It is shared by every app on the account "
                        "and resets at midnight in the account's time zone; the sync stopped without further calls. "
                        "Run it after the reset (it resumes from its last state), or ask HubSpot for a higher limit."
                    )
        return response

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls._spent_message = None


@dataclass
class HubspotPrivateAppAuthenticator(DeclarativeAuthenticator):
    """Bearer auth for a Service Key or private-app token that fails at once when HubSpot calls it expired.

    BearerAuthenticator has no refresh, so the CDK turns the EXPIRED_AUTHENTICATION refresh-and-retry into a
    plain retry with backoff (minutes of waiting for an answer that cannot change); and it needs the daily-limit
    guard like the OAuth authenticator.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    api_token: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._api_token = InterpolatedString.create(self.api_token, parameters=parameters or {})

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self._api_token.eval(self.config)}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        DailyLimit.guard(request)
        return super().__call__(request)

    def refresh_and_set_access_token(self) -> None:
        raise AirbyteTracedException(
            message=(
                "HubSpot says the access token expired (EXPIRED_AUTHENTICATION). A Service Key or private-app token "
                "does not expire on its own: create a new one in HubSpot and set credentials.access_token, or switch "
                "to OAuth credentials."
            ),
            failure_type=FailureType.config_error,
        )


_REFRESH_ERRORS = {
    "BAD_CLIENT_ID": (
        "HubSpot rejected the OAuth client id (BAD_CLIENT_ID). Set credentials.client_id to the Client ID shown on "
        "the Auth tab of the HubSpot app that issued the refresh token."
    ),
    "BAD_CLIENT_SECRET": (
        "HubSpot rejected the OAuth client secret (BAD_CLIENT_SECRET). Set credentials.client_secret to the Client "
        "secret shown on the Auth tab of the HubSpot app that issued the refresh token."
    ),
    "BAD_REFRESH_TOKEN": (
        "HubSpot rejected the refresh token (BAD_REFRESH_TOKEN): it is invalid, was revoked (the app was uninstalled "
        "or its access removed) or belongs to another app. Re-authenticate the source (run the OAuth flow again) to "
        "get a new credentials.refresh_token."
    ),
    "BAD_GRANT_TYPE": "HubSpot rejected the token request (BAD_GRANT_TYPE). Check credentials.oauth_token_url.",
}


@dataclass
class HubspotOAuthAuthenticator(DeclarativeOauth2Authenticator):
    """OAuth refresh with HubSpot's own error vocabulary, an early refresh, and rotated refresh tokens persisted.

    The stock OAuthAuthenticator reports every rejected refresh the same way and, with `refresh_token_updater`,
    rewrites the config on every refresh; HubSpot users need to know which credential is wrong, and the config
    should change only when HubSpot really hands out a new refresh token.
    """

    # One access token per app and refresh token for the whole process: the CDK builds an authenticator for every
    # requester of every partition, and each would otherwise refresh a token that is still valid.
    _shared_lock: ClassVar[threading.RLock] = threading.RLock()
    _shared_tokens: ClassVar[Dict[Tuple[str, str], Tuple[str, datetime]]] = {}

    def _shared_key(self) -> Tuple[str, str]:
        return (str(self.get_token_refresh_endpoint()), str(self.get_client_id()))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        DailyLimit.guard(request)
        return super().__call__(request)

    def get_access_token(self) -> str:
        with self._shared_lock:
            token, expiry = self._shared_tokens.get(self._shared_key(), (None, None))
            if token is None or expiry is None or ab_datetime_now() >= expiry:
                token, expiry = self.refresh_access_token()
                self._shared_tokens[self._shared_key()] = (token, expiry)
        self.access_token = token
        self.set_token_expiry_date(expiry)
        return token

    def refresh_and_set_access_token(self) -> None:
        """A forced refresh (HubSpot said EXPIRED_AUTHENTICATION): refresh unless another thread already did."""
        used = self._current_access_token_or_none()
        with self._shared_lock:
            token, expiry = self._shared_tokens.get(self._shared_key(), (None, None))
            if token is None or token == used:
                token, expiry = self.refresh_access_token()
                self._shared_tokens[self._shared_key()] = (token, expiry)
        self.access_token = token
        self.set_token_expiry_date(expiry)

    @classmethod
    def forget_tokens(cls) -> None:
        with cls._shared_lock:
            cls._shared_tokens.clear()
            cls._rotated_refresh_tokens.clear()

    def refresh_access_token(self) -> Tuple[str, Any]:  # type: ignore[override]
        try:
            body = self._make_handled_request()
        except requests.exceptions.HTTPError as error:
            raise self._explain_refresh_error(error.response) from None
        except AirbyteTracedException as error:
            cause = error.__cause__
            if isinstance(cause, requests.exceptions.HTTPError) and cause.response is not None:
                raise self._explain_refresh_error(cause.response) from None
            raise
        access_token = body.get("access_token")
        if not access_token:
            raise AirbyteTracedException(
                message="HubSpot's token endpoint answered without an access_token. Check credentials.oauth_token_url.",
                failure_type=FailureType.config_error,
            )
        add_to_secrets(access_token)
        self._persist_rotated_refresh_token(body.get("refresh_token"))
        expires_in = _as_seconds(body.get("expires_in"))
        margin = min(TOKEN_REFRESH_MARGIN_MAX_SECONDS, expires_in * TOKEN_REFRESH_MARGIN_FRACTION)
        return access_token, ab_datetime_now() + timedelta(seconds=max(expires_in - margin, 1))

    def _explain_refresh_error(self, response: Optional[requests.Response]) -> AirbyteTracedException:
        status = response.status_code if response is not None else None
        try:
            body = response.json() if response is not None else {}
        except ValueError:
            body = {}
        code = str(body.get("status") or body.get("error") or "") if isinstance(body, dict) else ""
        detail = str(body.get("message") or "") if isinstance(body, dict) else ""
        message = _REFRESH_ERRORS.get(code)
        if message is None:
            message = (
                f"HubSpot's token endpoint refused to refresh the access token (HTTP {status}"
                f"{', ' + code if code else ''}{': ' + detail if detail else ''}). Check credentials.client_id, "
                "credentials.client_secret and credentials.refresh_token, or re-authenticate the source."
            )
        return AirbyteTracedException(
            message=message,
            internal_message=f"token refresh failed with HTTP {status}: {code} {detail}".strip(),
            failure_type=FailureType.config_error,
        )

    def _persist_rotated_refresh_token(self, new_refresh_token: Optional[str]) -> None:
        if not new_refresh_token:
            return
        add_to_secrets(new_refresh_token)
        credentials = self.config.get("credentials") if isinstance(self.config, Mapping) else None
        if not isinstance(credentials, MutableMapping) or credentials.get("refresh_token") == new_refresh_token:
            return
        credentials["refresh_token"] = new_refresh_token
        type(self)._rotated_refresh_tokens[self._shared_key()] = new_refresh_token  # used by the next refresh
        emit_configuration_as_airbyte_control_message(dict(self.config))
        logger.info("HubSpot issued a new refresh token; the connector config was updated through a CONTROL message.")

    _rotated_refresh_tokens: ClassVar[Dict[Tuple[str, str], str]] = {}

    def get_refresh_token(self) -> Optional[str]:
        return self._rotated_refresh_tokens.get(self._shared_key()) or super().get_refresh_token()


def _as_seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 1800.0


# --------------------------------------------------------------------------------------------------------------
# Config migration
# --------------------------------------------------------------------------------------------------------------

_CAMEL_TO_SPEC = {
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "accessToken": "access_token",
    "refreshToken": "refresh_token",
}


def _camel_params(config: Mapping[str, Any]) -> Dict[str, Any]:
    """HubSpot integration parameters found flat, under `credentials`, or under `auth.params`."""
    found: Dict[str, Any] = {}
    auth = config.get("auth")
    places = [config, config.get("credentials"), auth.get("params") if isinstance(auth, Mapping) else None]
    for place in places:
        if isinstance(place, Mapping):
            for camel in _CAMEL_TO_SPEC:
                if place.get(camel) not in (None, "") and camel not in found:
                    found[camel] = place[camel]
    return found


@dataclass
class FlowServiceConfigMigration(ConfigTransformation):
    """Turns a config written with HubSpot's camelCase integration parameters into this connector's spec shape.

    The parameters can stand flat, under `credentials` or under `auth.params`, and the target credential type
    depends on which are present: branching that ConfigRemapField/ConfigAddFields cannot express.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        params = _camel_params(config)
        if not params:
            return
        existing = config.get("credentials") if isinstance(config.get("credentials"), Mapping) else {}
        credentials = {k: v for k, v in existing.items() if k not in _CAMEL_TO_SPEC}
        for camel, snake in _CAMEL_TO_SPEC.items():
            if camel in params:
                credentials[snake] = params[camel]
        if params.get("refreshToken") or params.get("clientId") or params.get("clientSecret"):
            credentials["credentials_title"] = OAUTH_CREDENTIALS
        else:
            credentials["credentials_title"] = PRIVATE_APP_CREDENTIALS
        for camel in _CAMEL_TO_SPEC:
            config.pop(camel, None)
        auth = config.get("auth")
        if isinstance(auth, Mapping):
            remaining_params = {k: v for k, v in (auth.get("params") or {}).items() if k not in _CAMEL_TO_SPEC}
            remaining = {k: v for k, v in auth.items() if k != "params"}
            if remaining_params:
                remaining["params"] = remaining_params
            if remaining and set(remaining) != {"specName"}:
                config["auth"] = remaining
            else:
                config.pop("auth", None)
        config["credentials"] = credentials
