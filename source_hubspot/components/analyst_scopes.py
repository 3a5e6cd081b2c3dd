"""The analyst tables' scope checks: discover leaves out a table the token cannot read; a read over several objects
skips the parts HubSpot refuses (Unreadable) instead of failing with them."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import InitVar, dataclass
from typing import Any, ClassVar, Dict, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.components.analyst_history import history_choice, history_stream_type
from source_hubspot.components.errors import is_missing_scope
from source_hubspot.components.memos import PropertyDefinitions
from source_hubspot.run_state import RunRegistry, SelectedStreams

logger = logging.getLogger("airbyte")


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

    CDK type that nearly fits: InlineSchemaLoader (which gives the columns, next to this one). The analyst tables
    have fixed schemas, so nothing in discover would otherwise call HubSpot for them.
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
        self.stream = str(parameters["name"])
        single = [parameters["object_type"]] if parameters.get("object_type") else []
        self.object_types: List[str] = list(parameters.get("object_types") or single)
        self.link_targets: Dict[str, List[str]] = (
            objects.link_targets(SelectedStreams.names()) if parameters.get("reads_links") else {}
        )
        self.reads_history = bool(parameters.get("reads_history"))
        if self.reads_history and not self.object_types:
            # A history stream property_history added names its object stream (an unknown name fails here).
            self.object_types = [history_stream_type(parameters)]
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
        if not self.reads_history or len(self.object_types) != 1:
            return
        wanted, source = history_choice(self.config, self.object_types[0])
        known = {prop["name"] for prop in PropertyDefinitions.get(self.properties_requester, self.object_types[0])}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            logger.warning(
                f"{self.stream}: HubSpot has no {self.object_types[0]} propert{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)} ({source}); no history is read for "
                f"{'it' if len(unknown) == 1 else 'them'}. Check the internal names in HubSpot's property settings."
            )


class Unreadable(RunRegistry):
    """Object types and link pairs the token turned out not to be allowed to read during this run.

    A stream read over several objects skips those parts after HubSpot's first 403 (and says so once) instead of
    failing every other part of the stream with it.
    """

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
