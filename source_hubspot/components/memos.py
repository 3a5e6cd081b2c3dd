"""What one connector run reads once and every partition's components share (ProcessMemo and its kinds).

The CDK builds fresh components for every partition, so a per-component cache would read the same data once per
window; one run of the connector is one process, so the memo lives for the process.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ClassVar, Dict, List, Mapping, Optional, Tuple

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.api import CursorTrail, millis_of, next_after, parse_body, results_of
from source_hubspot.batch import BodyList
from source_hubspot.run_state import RunRegistry
from source_hubspot.search import DAY_MS, EARLIEST_PROBE, EARLIEST_PROBE_BEFORE, EMPTY_WINDOW_AGE_MS

logger = logging.getLogger("airbyte")


def object_slice(object_type: str, **more: Any) -> StreamSlice:
    """A slice naming the object type, for requesters whose path is `.../{object type}`."""
    return StreamSlice(partition={"object_type": object_type, **more}, cursor_slice={})


class ProcessMemo(RunRegistry):
    """Data read once per (API root, object type) per connector process, shared by every partition's components.

    The CDK builds fresh components for every partition, so a per-component cache would read the same data once
    per window; one run of the connector is one process, so the memo lives for the process.
    """

    _by_key: Dict[Tuple[str, str], List[Mapping[str, Any]]]
    _fetching: Dict[Tuple[str, str], threading.Lock]  # one lock per key: different object types are read at once

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_key = {}
        cls._fetching = {}

    @classmethod
    def get(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        key = (requester.get_url_base(), object_type)
        with cls._lock:
            if key in cls._by_key:
                return cls._by_key[key]
            fetching = cls._fetching.setdefault(key, threading.Lock())
        with fetching:  # a second caller of the same key waits for the first one's read
            with cls._lock:
                if key in cls._by_key:
                    return cls._by_key[key]
            value = cls._fetch(requester, object_type)
            with cls._lock:
                cls._by_key[key] = value
            return value

    # What a kind reads for one object type (a classmethod of each kind): `_fetch(requester, object_type)`.
    _fetch: ClassVar[Callable[[HttpRequester, str], Any]]


class ArchivedRecords(ProcessMemo):
    """Archived records of an object type (search never returns them), listed once per run."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        records: List[Mapping[str, Any]] = []
        after: Optional[str] = None
        trail = CursorTrail(f"the archived {object_type} listing")
        # The listing asks for the modification property (the manifest's request parameters read it from the slice).
        listing = object_slice(object_type, modified_property=objects.object_type(object_type).modified_property)
        while True:
            token = {"next_page_token": after} if after else None
            response = requester.send_request(
                stream_slice=listing,
                next_page_token=token,
                log_formatter=None,
            )
            if response is None:
                break
            records.extend(results_of(response))  # a page without a `results` list fails loudly (api.results_of)
            after = next_after(parse_body(response))
            if after is None:
                break
            trail.follow(after)
        logger.info(f"Listed {len(records)} archived {object_type} records.")
        return records


class PropertyDefinitions(ProcessMemo):
    """HubSpot's property definitions of an object type, read once per run for the schema and the search bodies."""

    @classmethod
    def _fetch(cls, requester: HttpRequester, object_type: str) -> List[Mapping[str, Any]]:
        response = requester.send_request(stream_slice=object_slice(object_type), log_formatter=None)
        if response is None:
            raise AirbyteTracedException(
                message=f"HubSpot's properties API for {object_type} gave no answer; retry the sync.",
                failure_type=FailureType.transient_error,
            )
        return [prop for prop in results_of(response) if isinstance(prop, Mapping) and prop.get("name")]

    @classmethod
    def get_each(cls, requester: HttpRequester, object_types: List[str]) -> List[List[Mapping[str, Any]]]:
        """The definitions of several object types (the engagements stream's five), asked for at once: one after
        another they held the read's start for five round trips (1.2 s at 200-400 ms). The first type's error, in
        the given order, is raised as one after another would raise it."""
        if len(object_types) < 2:
            return [cls.get(requester, object_type) for object_type in object_types]
        with ThreadPoolExecutor(max_workers=len(object_types), thread_name_prefix="properties") as pool:
            return list(pool.map(lambda object_type: cls.get(requester, object_type), object_types))

    @classmethod
    def known(cls, url_base: str, object_type: str, properties: List[Mapping[str, Any]]) -> None:
        """Definitions HubSpot gave in another answer of this run (a custom object's schema holds its properties,
        custom_objects.py): the properties API is not asked for them."""
        with cls._lock:
            cls._by_key[(url_base, object_type)] = [prop for prop in properties if prop.get("name")]

    _names: ClassVar[Dict[Tuple[str, str], BodyList]] = {}

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
        modified = (record.get("properties") or {}).get(objects.object_type(object_type).modified_property) or record.get("updatedAt")
        earliest = millis_of(modified)
        if earliest is None:
            return 0
        if not cls._none_before(requester, object_type, earliest - DAY_MS):
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
