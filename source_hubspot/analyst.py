"""Components of the analyst tables: owners, pipeline stages, association links, property history and merges.

The CRM object streams (components.py) emit one record per HubSpot record. These tables emit rows derived from
other endpoints or from several calls per page, which the manifest cannot express:

- association links and property history read the ids of the records changed in a window with a search that asks
  for no properties, then fetch what they need for those ids with batch calls (v4 association batch reads of up
  to 1,000 ids; object batch reads of 50 ids with `propertiesWithHistory`);
- pipelines are flattened to one row per stage; merges are parsed out of `hs_merged_object_ids` /
  `hs_calculated_merged_vids`;
- discover checks each table's scopes (ScopeCheck), because their schemas are fixed and no call would otherwise
  tell that the token cannot read them.

Every call goes through a requester declared in the manifest (authentication, retries, the rate budget and test
mocks apply). State shared across partitions is limited to what one run must remember: association labels read
once per pair, and which objects the token turned out not to be allowed to read.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timezone
from typing import (
    Any,
    ClassVar,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    MutableMapping,
    Optional,
    Tuple,
)

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot.api import association_from_id, follow_result_paging, next_after, read_batch
from source_hubspot.components import (
    EARLIEST_PROBE,
    EARLIEST_PROBE_BEFORE,
    ProcessMemo,
    PropertyDefinitions,
    SkipsOldEmptyWindows,
    earliest_probe_body,
    keyset_window_filters,
    modified_property_of,
    with_keyset_after,
    is_missing_scope,
    parse_body,
)

logger = logging.getLogger("airbyte")

def _for_type(mapping: Mapping[str, Any], object_type: str) -> List[str]:
    """A per-object-type list from a manifest parameter: the type's own entry, else the `*` entry."""
    values = mapping.get(object_type, mapping.get("*", [])) if isinstance(mapping, Mapping) else mapping
    return [str(v) for v in (values or [])]


# --------------------------------------------------------------------------------------------------------------
# Scopes
# --------------------------------------------------------------------------------------------------------------


class ScopeProbes:
    """Whether the schema loaders should check scopes now: only while discover builds the catalog.

    A read needs no probe (a missing scope answers the first real call with HubSpot's 403, which the error handler
    turns into a message naming the scope), so probing there would only spend calls.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _depth: ClassVar[int] = 0

    @classmethod
    @contextmanager
    def during_discover(cls) -> Iterator[None]:
        with cls._lock:
            cls._depth += 1
        try:
            yield
        finally:
            with cls._lock:
                cls._depth -= 1

    @classmethod
    def active(cls) -> bool:
        return cls._depth > 0


@dataclass
class ScopeCheck(SchemaLoader):
    """Adds no column; during discover it raises HubSpot's MISSING_SCOPES error when the token cannot read the
    stream, so discover leaves the stream out with the same warning as the object streams.

    The analyst tables have fixed (inline) schemas, so nothing in discover would otherwise call HubSpot for them.
    Object scopes are checked through the property definitions the object streams read anyway (one call per object
    type per run, shared); owners have no such endpoint and are probed with one owners call. A stream read over
    several objects (links, merges) stays in the catalog while one of its parts is readable, with a warning naming
    the parts it will skip. History streams also warn about configured properties HubSpot does not know.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    properties_requester: Optional[HttpRequester] = None
    probe_requester: Optional[HttpRequester] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self.stream = str(parameters.get("name", ""))
        single = [parameters["object_type"]] if parameters.get("object_type") else []
        self.object_types: List[str] = list(parameters.get("object_types") or single)
        self.link_targets: Dict[str, List[str]] = dict(parameters.get("link_targets") or {})
        self.history_key = str(parameters.get("history_properties_key") or "")
        self.history_default: List[str] = list(parameters.get("history_properties_default") or [])
        self._checked = False

    def get_json_schema(self) -> Mapping[str, Any]:
        if ScopeProbes.active() and not self._checked:
            self._checked = True
            self._check()
        return {"type": ["null", "object"], "properties": {}}

    def _check(self) -> None:
        if self.probe_requester is not None:
            self._probe()
        denied: Dict[str, AirbyteTracedException] = {}
        for object_type in self._all_types():
            try:
                PropertyDefinitions.get(self.properties_requester, object_type)
            except AirbyteTracedException as error:
                if not is_missing_scope(error):
                    raise
                denied[object_type] = error
        if not denied:
            self._warn_unknown_history_properties()
            return
        first = next(iter(denied.values()))
        if self.link_targets:
            skipped = [f"{a}->{b}" for a, targets in self.link_targets.items() for b in targets if a in denied or b in denied]
            usable = sum(len(targets) for targets in self.link_targets.values()) - len(skipped)
            if usable == 0:
                raise first
            logger.warning(
                f"{self.stream}: the token cannot read {', '.join(sorted(denied))}, so these links are not read: "
                f"{', '.join(skipped)}. {first.message}"
            )
        elif len(self.object_types) > 1 and len(denied) < len(self.object_types):
            logger.warning(f"{self.stream}: {', '.join(sorted(denied))} records are not read. {first.message}")
        else:
            raise first

    def _all_types(self) -> List[str]:
        types = list(self.object_types)
        for from_type, targets in self.link_targets.items():
            types += [from_type, *targets]
        return list(dict.fromkeys(types))

    def _probe(self) -> None:
        try:
            self.probe_requester.send_request(log_formatter=None)  # type: ignore[union-attr]
        except AirbyteTracedException as error:
            if is_missing_scope(error):
                raise
            logger.warning(f"{self.stream}: could not check the token's scopes ({error.message}); kept in the catalog.")
        except Exception as error:  # the stream stays; its read will say what is wrong
            logger.warning(f"{self.stream}: could not check the token's scopes ({error!r}); kept in the catalog.")

    def _warn_unknown_history_properties(self) -> None:
        if not self.history_key or len(self.object_types) != 1:
            return
        wanted = history_properties(self.config, self.history_key, self.history_default)
        known = {prop["name"] for prop in PropertyDefinitions.get(self.properties_requester, self.object_types[0])}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            logger.warning(
                f"{self.stream}: HubSpot has no {self.object_types[0]} propert{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)} (config {self.history_key}); no history is read for "
                f"{'it' if len(unknown) == 1 else 'them'}. Check the internal names in HubSpot's property settings."
            )


class Unreadable:
    """Object types and link pairs the token turned out not to be allowed to read during this run.

    A stream read over several objects skips those parts after HubSpot's first 403 (and says so once) instead of
    failing every other part of the stream with it.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _reasons: ClassVar[Dict[Tuple[str, ...], str]] = {}

    @classmethod
    def has(cls, key: Tuple[str, ...]) -> bool:
        return key in cls._reasons

    @classmethod
    def add(cls, stream: str, key: Tuple[str, ...], reason: str) -> None:
        with cls._lock:
            if key not in cls._reasons:
                cls._reasons[key] = reason
                logger.warning(f"{stream}: skipping {'->'.join(key)} for this run: {reason}")

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls._reasons.clear()


# --------------------------------------------------------------------------------------------------------------
# Ids of changed records
# --------------------------------------------------------------------------------------------------------------


@dataclass
class IdSearchRequester(SkipsOldEmptyWindows, HttpRequester):
    """POSTs a search for the ids of the records changed in one window, keyset-paged on hs_object_id.

    Unlike the object streams' search it asks only for the modification date and the few properties a table
    needs (none for links and history), so pages stay small; it can require a property to be set (merges); and a
    stream read over several objects skips an object the token may not read instead of failing.
    """

    page_size: int = 200
    skip_unreadable: bool = False
    search_properties: Mapping[str, Any] = field(default_factory=dict)
    has_any_of: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        parameters = parameters or {}
        self.object_type = str(parameters.get("object_type") or "")
        self.page_size = int(parameters.get("search_page_size") or self.page_size)
        self.skip_unreadable = bool(parameters.get("skip_unreadable", self.skip_unreadable))
        self.search_properties = parameters.get("search_properties") or self.search_properties
        self.has_any_of = parameters.get("has_any_of") or self.has_any_of
        self.stream = str(parameters.get("name", ""))

    def _type_of(self, stream_slice: Optional[Mapping[str, Any]]) -> str:
        return str((stream_slice or {}).get("object_type") or self.object_type)

    def get_request_body_json(  # type: ignore[override]
        self,
        *,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Mapping[str, Any]] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Mapping[str, Any]:
        object_type = self._type_of(stream_slice)
        modified = modified_property_of(object_type)
        if (stream_slice or {}).get(EARLIEST_PROBE):
            return earliest_probe_body(modified, (stream_slice or {}).get(EARLIEST_PROBE_BEFORE))
        common = keyset_window_filters(modified, stream_slice, next_page_token)
        required = _for_type(self.has_any_of, object_type)
        groups = [{"filters": [*common, {"propertyName": name, "operator": "HAS_PROPERTY"}]} for name in required]
        return with_keyset_after({
            "filterGroups": groups or [{"filters": common}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": list(dict.fromkeys([modified, *_for_type(self.search_properties, object_type)])),
            "limit": self.page_size,
        }, next_page_token)

    def send_request(self, *args: Any, **kwargs: Any) -> Optional[requests.Response]:  # type: ignore[override]
        object_type = self._type_of(kwargs.get("stream_slice"))
        if self.skip_unreadable and Unreadable.has((object_type,)):
            return None
        try:
            # A first sync's windows from before the object's earliest modification are answered empty, uncalled.
            empty = self._answer_if_old_and_empty(args, kwargs)
            return empty if empty is not None else super().send_request(*args, **kwargs)
        except AirbyteTracedException as error:
            if not self.skip_unreadable or not is_missing_scope(error):
                raise
            Unreadable.add(self.stream, (object_type,), error.message or "")
            return None


# --------------------------------------------------------------------------------------------------------------
# Extractors
# --------------------------------------------------------------------------------------------------------------


def _results(response: requests.Response) -> List[MutableMapping[str, Any]]:
    body = parse_body(response)
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise AirbyteTracedException(
            message=f"HubSpot answered {_path(response)} without a 'results' list. This is a HubSpot-side fault; retry the sync.",
            failure_type=FailureType.transient_error,
        )
    return results


def _path(response: requests.Response) -> str:
    url = response.request.url if response.request is not None else response.url
    return requests.utils.urlparse(url).path if url else "?"


def _searched_type(response: requests.Response) -> str:
    """The object type of a `.../objects/{type}/search` request."""
    parts = _path(response).rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def _window(response: requests.Response) -> Tuple[str, str]:
    """The modification-date bounds of the search that produced this page (they identify its partition)."""
    low = high = ""
    try:
        body = orjson.loads(response.request.body or b"{}")
        for condition in (body.get("filterGroups") or [{}])[0].get("filters") or []:
            if condition.get("operator") == "GTE":
                low = str(condition.get("value"))
            elif condition.get("operator") == "LTE":
                high = str(condition.get("value"))
    except (orjson.JSONDecodeError, TypeError, AttributeError):
        pass
    return low, high


def _changed(results: Iterable[Mapping[str, Any]]) -> List[Tuple[str, Any]]:
    """(id, updatedAt) of each searched record: updatedAt is the cursor of every row derived from the record."""
    return [(str(record["id"]), record.get("updatedAt")) for record in results if "id" in record]


@dataclass
class ResultsExtractor(RecordExtractor):
    """Returns `body["results"]` as HubSpot sent it (DpathExtractor walks every node of the page)."""

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        return _results(response)


def _as_bool(value: Any) -> Optional[bool]:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return True if text == "true" else False if text == "false" else None


def _as_number(value: Any) -> Optional[float]:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class PipelineStagesExtractor(RecordExtractor):
    """One row per pipeline stage, with its pipeline's columns: the stage id is what deals (`dealstage`) and
    tickets (`hs_pipeline_stage`) hold, so an analyst joins on it to get the label, the pipeline and the closed flag.

    HubSpot answers one record per pipeline with a `stages` array; exploding an array into rows is not something a
    declarative extractor does.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        rows: List[MutableMapping[str, Any]] = []
        for pipeline in _results(response):
            for stage in pipeline.get("stages") or []:
                metadata = stage.get("metadata") or {}
                rows.append({
                    "pipelineId": str(pipeline.get("id")),
                    "pipelineLabel": pipeline.get("label"),
                    "pipelineDisplayOrder": pipeline.get("displayOrder"),
                    "pipelineArchived": pipeline.get("archived"),
                    "pipelineCreatedAt": pipeline.get("createdAt"),
                    "pipelineUpdatedAt": pipeline.get("updatedAt"),
                    "stageId": str(stage.get("id")),
                    "stageLabel": stage.get("label"),
                    "stageDisplayOrder": stage.get("displayOrder"),
                    "probability": _as_number(metadata.get("probability")),
                    "ticketState": metadata.get("ticketState"),
                    "isClosed": _as_bool(metadata.get("isClosed")),
                    "stageArchived": stage.get("archived"),
                    "createdAt": stage.get("createdAt"),
                    "updatedAt": stage.get("updatedAt"),
                    "writePermissions": stage.get("writePermissions"),
                    "metadata": metadata,
                })
        return rows


class AssociationLabels(ProcessMemo):
    """The association types (and their labels) HubSpot defines for one `from/to` pair, read once per run."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, pair: str) -> List[Mapping[str, Any]]:
        response = requester.send_request(stream_slice=StreamSlice(partition={"pair": pair}, cursor_slice={}), log_formatter=None)
        return list(parse_body(response).get("results") or []) if response is not None else []

    @classmethod
    def label(cls, requester: HttpRequester, pair: str, category: Any, type_id: Any) -> Optional[str]:
        for kind in cls.get(requester, pair):
            if kind.get("typeId") == type_id and kind.get("category") == category:
                return kind.get("label")
        return None


@dataclass
class AssociationLinksExtractor(RecordExtractor):
    """Turns pages of changed from-record ids into one row per (from, to, association type) link.

    Ids are gathered across search pages until a full v4 batch (1,000 inputs) is ready, or the window's last page
    came, so a window costs one association call per 1,000 records and target type, not one per 200. Each result's
    own `paging.next.after` is followed (a company can have thousands of contacts). The label comes with each
    association type; the pair's label definitions are read (once per run) only if HubSpot leaves one out.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    associations_requester: HttpRequester
    labels_requester: HttpRequester

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self.stream = str(parameters.get("name", ""))
        self.targets: Dict[str, List[str]] = {k: list(v) for k, v in (parameters.get("link_targets") or {}).items()}
        self.associations_path = str(parameters.get("associations_path") or "/crm/v4/associations")
        self.batch_size = int(parameters.get("association_batch_size") or 1000)
        self.backoff = float(self.config.get("retry_backoff_factor", 1) or 0)
        self._lock = threading.Lock()
        self._pending: Dict[Tuple[str, str, str], List[Tuple[str, Any]]] = {}

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        from_type = _searched_type(response)
        key = (from_type, *_window(response))
        changed = _changed(_results(response))
        last = next_after(parse_body(response)) is None
        with self._lock:
            pending = self._pending.setdefault(key, [])
            pending.extend(changed)
            if last:
                ready = self._pending.pop(key)
            elif len(pending) >= self.batch_size:
                ready, pending[:] = pending[: self.batch_size], pending[self.batch_size :]
            else:
                return []
        rows: List[MutableMapping[str, Any]] = []
        if ready:
            for to_type in self.targets.get(from_type, []):
                rows.extend(self._links(from_type, to_type, dict(ready)))
        return rows

    def _links(self, from_type: str, to_type: str, updated: Dict[str, Any]) -> List[MutableMapping[str, Any]]:
        if Unreadable.has((from_type, to_type)):
            return []
        try:
            return list(self._read_pair(from_type, to_type, updated))
        except AirbyteTracedException as error:
            if not is_missing_scope(error):
                raise
            Unreadable.add(self.stream, (from_type, to_type), error.message or "")
            return []

    def _read_pair(self, from_type: str, to_type: str, updated: Dict[str, Any]) -> Iterator[MutableMapping[str, Any]]:
        path = f"{self.associations_path}/{from_type}/{to_type}/batch/read"
        pair = f"{from_type}/{to_type}"
        pending: List[Dict[str, str]] = [{"id": object_id} for object_id in updated]
        seen: set = set()
        followed: set = set()

        def send(inputs: List[Dict[str, Any]]) -> requests.Response:
            return self.associations_requester.send_request(path=path, request_body_json={"inputs": inputs}, log_formatter=None)

        while pending:
            inputs, pending = pending[: self.batch_size], pending[self.batch_size :]
            results = read_batch(send, inputs, association_from_id, f"the {pair} associations", self.backoff)
            for result in results:
                from_id = association_from_id(result)
                for target in result.get("to") or []:
                    to_id = str(target.get("toObjectId"))
                    for kind in target.get("associationTypes") or []:
                        type_id, category = kind.get("typeId"), kind.get("category")
                        if (from_id, to_id, type_id, category) in seen:
                            continue
                        seen.add((from_id, to_id, type_id, category))
                        label = kind.get("label")
                        if not label and category != "HUBSPOT_DEFINED":
                            label = AssociationLabels.label(self.labels_requester, pair, category, type_id)
                        yield {
                            "fromObjectType": from_type,
                            "fromObjectId": from_id,
                            "toObjectType": to_type,
                            "toObjectId": to_id,
                            "associationTypeId": type_id,
                            "associationCategory": category,
                            "associationLabel": label,
                            "updatedAt": updated.get(from_id),
                        }
                following = follow_result_paging(result, from_id, followed, f"POST {path}")
                if following is not None:
                    pending.append(following)


def history_properties(config: Mapping[str, Any], key: str, default: List[str]) -> List[str]:
    configured = config.get(key)
    names = configured if isinstance(configured, list) else default
    return list(dict.fromkeys(str(name).strip() for name in names if str(name).strip()))


@dataclass
class PropertyHistoryExtractor(RecordExtractor):
    """Turns a page of changed record ids into one row per version of each configured property.

    HubSpot returns history only from batch reads (or lists) with `propertiesWithHistory`, at most 50 records per
    call: the ids of a search page are read in batches of 50 and every version becomes a row.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    batch_requester: HttpRequester

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self.object_type = str(parameters.get("object_type") or "")
        self.batch_size = int(parameters.get("history_batch_size") or 50)
        self.properties = history_properties(
            self.config, str(parameters.get("history_properties_key") or ""), list(parameters.get("history_properties_default") or [])
        )

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        changed = dict(_changed(_results(response)))
        if not changed or not self.properties:
            return []
        object_type = self.object_type or _searched_type(response)
        ids = list(changed)
        rows: List[MutableMapping[str, Any]] = []
        for start in range(0, len(ids), self.batch_size):
            inputs = [{"id": object_id} for object_id in ids[start : start + self.batch_size]]
            body_json = {"inputs": inputs, "properties": ["hs_object_id"], "propertiesWithHistory": self.properties}
            answered = read_batch(
                lambda batch: self.batch_requester.send_request(request_body_json={**body_json, "inputs": batch}, log_formatter=None),
                inputs,
                lambda record: str(record.get("id")),
                f"the history of {object_type}",
                float(self.config.get("retry_backoff_factor", 1) or 0),
            )
            for record in answered:
                object_id = str(record.get("id"))
                for name, versions in (record.get("propertiesWithHistory") or {}).items():
                    for version in versions or []:
                        rows.append({
                            "objectId": object_id,
                            "property": name,
                            "value": version.get("value"),
                            "timestamp": version.get("timestamp"),
                            "sourceType": version.get("sourceType"),
                            "sourceId": version.get("sourceId"),
                            "sourceLabel": version.get("sourceLabel"),
                            "updatedByUserId": version.get("updatedByUserId"),
                            "updatedAt": changed.get(object_id),
                        })
        return rows


def _epoch_text_to_iso(text: str) -> Optional[str]:
    """Epoch milliseconds as ISO-8601 text; None for text that is no epoch or one no datetime can hold."""
    if not text.isdigit():
        return None
    try:
        moment = datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class MergesExtractor(RecordExtractor):
    """One row per record merged into a surviving record, from the survivor's `hs_merged_object_ids` (and, for
    contacts, `hs_calculated_merged_vids` = "vid:epoch-ms;...", which also says when): parsing two list formats
    into rows is beyond a declarative extractor.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    # Whether this run has logged an unreadable merge timestamp: one warning per run, not one per value (a portal
    # with a bad value has it on every page of every sync). Extractors are built per partition, so it is the class's.
    _warned_lock: ClassVar[threading.Lock] = threading.Lock()
    _warned: ClassVar[bool] = False

    @classmethod
    def forget_warning(cls) -> None:
        with cls._warned_lock:
            cls._warned = False

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        object_type = _searched_type(response)
        rows: List[MutableMapping[str, Any]] = []
        for record in _results(response):
            properties = record.get("properties") or {}
            merged_at: Dict[str, Optional[str]] = {}
            for item in str(properties.get("hs_calculated_merged_vids") or "").split(";"):
                vid, _, stamp = item.strip().partition(":")
                if vid:
                    merged_at[vid] = _epoch_text_to_iso(stamp.strip())
                    if merged_at[vid] is None and stamp.strip():
                        self._warn_unreadable(object_type, str(record.get("id")), stamp.strip())
            merged = [i.strip() for i in str(properties.get("hs_merged_object_ids") or "").split(";") if i.strip()]
            for merged_id in dict.fromkeys(merged + list(merged_at)):
                rows.append({
                    "objectType": object_type,
                    "mergedId": merged_id,
                    "survivingId": str(record.get("id")),
                    "mergedAt": merged_at.get(merged_id),
                    "updatedAt": record.get("updatedAt"),
                })
        return rows

    @classmethod
    def _warn_unreadable(cls, object_type: str, record_id: str, stamp: str) -> None:
        with cls._warned_lock:
            if cls._warned:
                return
            cls._warned = True
        shown = stamp if len(stamp) <= 40 else stamp[:37] + "..."
        logger.warning(
            f"merges: hs_calculated_merged_vids of {object_type} {record_id} has the merge time {shown!r}, which is "
            "not epoch milliseconds; such merges are emitted with mergedAt null (said once per sync, however many "
            "values). The value comes from HubSpot: no setting fixes it; the merged ids are complete."
        )
