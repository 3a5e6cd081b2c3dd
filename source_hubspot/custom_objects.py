"""The portal's custom objects: one stream each, found in HubSpot's schemas API at discover and again at read.

`GET {schemas}` (scope crm.schemas.custom.read) answers every custom object's schema in one page: its object type
id (`2-12345`), its `name` (fixed when the object is created), its fully qualified name (`p<portal>_<name>`, the
name HubSpot accepts in paths since it stopped accepting bare names in 2025), its labels (renamable), its
properties and its association definitions. From each schema this module builds

- a registry entry (objects.ObjectType): named by the fully qualified name, so every path the connector builds
  (objects, search, properties, v4 associations) names the type as HubSpot wants it; associated with every core or
  custom type its association definitions name; scope crm.objects.custom.read;
- a stream entry, the same three lines the manifest writes for a built-in type (`object_stream` + name +
  object_type), which the CDK resolves and builds like the manifest's own (`SourceHubspot.dynamic_streams`);
- the type's property definitions, from the schema itself when they are complete (they hold hs_object_id and the
  modification property), so discover costs one call for every custom object together; otherwise the properties
  API is read for that type, as for a built-in one.

Stream names (`stream_names`): `custom_` + the object's `name`, lower-cased, every run of characters other than
a-z and 0-9 turned into one `_`. No built-in stream starts with `custom_` (a unit test keeps it so), so a custom
object called `owners` is `custom_owners` beside the built-in `owners`. The name never follows the labels, so
relabelling an object renames nothing. When two objects sanitise to one name, the one with the lowest type id keeps
it and each other gets `_` + its type id's digits (`custom_cars_2_1002`): HubSpot numbers type ids upward, so an
object created later never renames an earlier one's stream.

Without the scope (HubSpot's MISSING_SCOPES answer) or without custom objects there are no custom streams, with a
warning naming the scope in the first case; every other error fails the run, as any other call's would.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.api import next_after, parse_body, results_of
from source_hubspot.components.errors import is_missing_scope
from source_hubspot.run_state import RunRegistry

logger = logging.getLogger("airbyte")

SCHEMAS_SCOPE = "crm.schemas.custom.read"  # GET {schemas} (HubSpot's schemas API reference)
CUSTOM_OBJECTS_SCOPE = "crm.objects.custom.read"  # reading custom object records, their properties and associations
STREAM_PREFIX = "custom_"
CREATED_PROPERTY = "hs_createdate"  # the modification property and merge properties are every type's (objects.py)

_NOT_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class CustomObject:
    """One custom object as its schema describes it, and the stream that reads it."""

    entry: objects.ObjectType
    stream: str
    label: str
    properties: Tuple[Mapping[str, Any], ...] = field(default=(), compare=False)

    @property
    def properties_complete(self) -> bool:
        """Whether the schema's own property list can stand for the properties API's answer."""
        names = {prop.get("name") for prop in self.properties}
        return "hs_object_id" in names and self.entry.modified_property in names


def _type_number(type_id: str) -> Tuple[int, str]:
    """Sort key of an object type id `2-12345` (its number, then the text for anything unexpected)."""
    digits = type_id.rsplit("-", 1)[-1]
    return (int(digits) if digits.isdigit() else 1 << 62, type_id)


def _id_order(type_id: str) -> Tuple[int, int, str]:
    """Sort key of any object type id `0-1`, `2-12345`: its meta type, then its number."""
    meta, _, number = type_id.partition("-")
    return (int(meta) if meta.isdigit() else 1 << 62, int(number) if number.isdigit() else 1 << 62, type_id)


def sanitised(name: str) -> str:
    """The object's `name` as a stream-name stem: lower-case, runs of other characters than a-z, 0-9 as one `_`."""
    return _NOT_NAME.sub("_", name.lower()).strip("_") or "object"


def stream_names(schemas: Iterable[Mapping[str, Any]]) -> Dict[str, str]:
    """object type id -> stream name, by the rule in this module's docstring."""
    ordered = sorted(schemas, key=lambda schema: _type_number(_type_id(schema)))
    names: Dict[str, str] = {}
    taken: Dict[str, str] = {}
    for schema in ordered:
        type_id = _type_id(schema)
        stem = STREAM_PREFIX + sanitised(str(schema.get("name") or type_id))
        if stem in taken:
            stem = f"{stem}_{sanitised(type_id)}"
        taken[stem] = type_id
        names[type_id] = stem
    return names


def _type_id(schema: Mapping[str, Any]) -> str:
    # HubSpot's answers carry objectTypeId; older answers only `id` (the number) with metaType PORTAL_SPECIFIC (2-).
    type_id = schema.get("objectTypeId")
    if type_id:
        return str(type_id)
    return f"2-{schema.get('id')}"


def custom_objects(schemas: Sequence[Mapping[str, Any]]) -> List[CustomObject]:
    """The custom objects of a schemas answer (archived schemas left out), in type id order, each with its registry
    entry; an association is kept when the other type is a built-in type or another of these."""
    live = [schema for schema in schemas if isinstance(schema, Mapping) and not schema.get("archived")]
    streams = stream_names(live)
    fqn_of: Dict[str, str] = {}
    for schema in live:
        type_id = _type_id(schema)
        fqn_of[type_id] = str(schema.get("fullyQualifiedName") or type_id)
    known = {entry.type_id: entry.name for entry in objects.OBJECT_TYPES.values() if not entry.type_id.startswith("2-")}
    known.update(fqn_of)
    # A definition links its two types whichever schema lists it (HubSpot lists a pair on one side or on both).
    linked: Dict[str, List[str]] = {}
    for schema in live:
        for definition in schema.get("associations") or ():
            ends = str(definition.get("fromObjectTypeId")), str(definition.get("toObjectTypeId"))
            for one, other in (ends, ends[::-1]):
                if one != other and other not in linked.setdefault(one, []):
                    linked[one].append(other)
    found = []
    for schema in sorted(live, key=lambda s: _type_number(_type_id(s))):
        type_id = _type_id(schema)
        # In type id order (core types first), so the columns' order does not follow the answer's.
        associated = [known[other] for other in sorted(linked.get(type_id, []), key=_id_order) if other in known]
        labels = schema.get("labels") or {}
        stem = sanitised(str(schema.get("name") or type_id))
        entry = objects.ObjectType(
            name=fqn_of[type_id],
            type_id=type_id,
            singular=stem,
            stream=streams[type_id],
            scope=CUSTOM_OBJECTS_SCOPE,
            associations=tuple(associated),
            created_property=CREATED_PROPERTY,
        )
        properties = tuple(p for p in schema.get("properties") or () if isinstance(p, Mapping) and p.get("name"))
        found.append(CustomObject(entry=entry, stream=streams[type_id], label=str(labels.get("plural") or stem),
                                  properties=properties))
    return found


def stream_entry(stream: str, object_type: str) -> Dict[str, Any]:
    """The manifest entry of a custom object's stream: what the manifest writes for a built-in type."""
    return {"$ref": "#/definitions/object_stream", "name": stream, "$parameters": {"name": stream, "object_type": object_type}}


def stream_configs(resolve: Callable[[Dict[str, Any]], Dict[str, Any]], found: Sequence[CustomObject]) -> List[Dict[str, Any]]:
    """The resolved stream config of each custom object: `resolve` turns a manifest entry into what the CDK builds a
    stream from (3 ms of CPU an entry; 16 ms with SOURCE_HUBSPOT_SPEEDUPS=0). unit_tests/test_custom_objects.py
    checks the result equals the CDK resolving the same entries in the manifest."""
    return [resolve(stream_entry(item.stream, item.entry.name)) for item in found]


class CustomObjectTypes(RunRegistry):
    """The custom object types this run registered (objects.register), unregistered when a run begins, so a second
    run in one process reads the portal's schemas afresh."""

    _registered: ClassVar[Dict[str, CustomObject]] = {}

    @classmethod
    def register(cls, found: Iterable[CustomObject]) -> None:
        with cls._lock:
            for item in found:
                objects.register(item.entry)
                cls._registered[item.entry.name] = item

    @classmethod
    def registered(cls) -> List[CustomObject]:
        with cls._lock:
            return list(cls._registered.values())

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            for name in list(cls._registered):
                objects.unregister(name)
        super().clear()


def read_schemas(requester: Any) -> Optional[List[Mapping[str, Any]]]:
    """The schemas answer's `results`, or None when the token lacks the scope (a warning names it). The answer has
    no paging: HubSpot's schemas API answers every schema at once."""
    try:
        response = requester.send_request(log_formatter=None)
    except AirbyteTracedException as error:
        if not is_missing_scope(error):
            raise
        logger.warning(
            f"The token cannot read the portal's custom object schemas (scope {SCHEMAS_SCOPE}), so no custom object "
            f"streams are discovered or read; every other stream is. To read custom objects, add {SCHEMAS_SCOPE} and "
            f"{CUSTOM_OBJECTS_SCOPE} to the private app or Service Key (or the OAuth app) and discover again. "
            f"HubSpot said: {error.message}"
        )
        return None
    if response is None:
        raise AirbyteTracedException(message="HubSpot's schemas API gave no answer; run the sync again.")
    if next_after(parse_body(response)) is not None:
        # HubSpot's contract has no paging here (CollectionResponseObjectSchemaNoPaging): an answer that points to
        # a next page would otherwise hide every custom object past the first page.
        raise AirbyteTracedException(
            message=(
                "HubSpot's schemas API answered one page of custom object schemas and pointed to another, which its "
                "API reference says it never does; the custom objects past this page would be missing, so the run "
                "stops. Run it again; if it repeats, report it with this message."
            ),
            failure_type=FailureType.system_error,
        )
    return results_of(response)


def describe(found: Sequence[CustomObject]) -> str:
    if not found:
        return "The portal has no custom objects: no custom object streams."
    listed = ", ".join(f"{item.stream} ({item.label}, {item.entry.type_id})" for item in found)
    return f"Custom objects: {len(found)} stream(s): {listed}."
