"""Property history for any object type: which properties (the config's `property_history` list, the older
`{stream}_history_properties` lists, the registry's defaults), the streams the config adds for types without a
built-in history stream, and the rows."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple, Union

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.partition_routers.list_partition_router import ListPartitionRouter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.sources.types import Config, StreamSlice
from airbyte_cdk.utils import AirbyteTracedException

from source_hubspot import objects
from source_hubspot.batch import read_batch
from source_hubspot.components.analyst_tables import changed_ids
from source_hubspot.components.pages import Page, PageExtractor

# The config's list of {stream, properties}: the one shape for every object type (spec: property_history).
HISTORY_CONFIG = "property_history"
# Where the run's config holds the streams property_history adds (derived at the start of a run, never saved).
ADDED_HISTORY_KEY = "property_history_streams"


def listed_history(config: Mapping[str, Any]) -> Dict[str, List[str]]:
    """stream -> the properties the config's property_history lists for it (two entries for one stream add up).
    Entries of the wrong shape are left out here: the spec's validation names them."""
    listed: Dict[str, List[str]] = {}
    entries = config.get(HISTORY_CONFIG)
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("stream"), str) and entry["stream"].strip():
            names = entry.get("properties")
            listed.setdefault(entry["stream"].strip(), []).extend(names if isinstance(names, list) else [])
    return listed


def history_choice(config: Mapping[str, Any], object_type: str) -> Tuple[List[str], str]:
    """The properties whose history is read for `object_type`, and the config field they come from: its
    property_history entry, else the older `{stream}_history_properties` list, else the registry's defaults."""
    entry = objects.object_type(object_type)
    listed = listed_history(config)
    older_key = f"{entry.stream}_history_properties"
    if entry.stream in listed:
        names, source = listed[entry.stream], f"{HISTORY_CONFIG} entry {entry.stream}"
    elif isinstance(config.get(older_key), list):
        names, source = config[older_key], older_key
    else:
        names, source = list(entry.history_defaults), f"the defaults of {objects.history_stream(entry)}"
    return list(dict.fromkeys(str(name).strip() for name in names if str(name).strip())), source


def history_properties(config: Mapping[str, Any], object_type: str) -> List[str]:
    return history_choice(config, object_type)[0]


def history_object_type(stream: str) -> str:
    """The object type whose history the config asks for by its stream's name; a name that is no object stream is
    a config error that lists the names it could be."""
    entry = objects.by_stream(stream)
    if entry is not None:
        return entry.name
    streams = sorted(e.stream for e in objects.OBJECT_TYPES.values())
    named = objects.OBJECT_TYPES.get(stream)
    hint = f" ({stream!r} is the object type read by the stream {named.stream!r}: write that.)" if named else ""
    raise AirbyteTracedException(
        message=(
            f"{HISTORY_CONFIG} lists the stream {stream!r}, which is none of this connector's object streams.{hint} "
            f"Write the name of an object stream as discover shows it: {', '.join(streams)}."
        ),
        failure_type=FailureType.config_error,
    )


def unknown_history_stream(config: Mapping[str, Any]) -> Optional[str]:
    """The config error of the first stream property_history adds that names no object stream, or None (what
    `check` says: its check stream alone does not build the added streams)."""
    for entry in config.get(ADDED_HISTORY_KEY) or []:
        try:
            history_object_type(str(entry.get("stream")))
        except AirbyteTracedException as error:
            return error.message
    return None


@dataclass
class HistoryStreams(ConfigTransformation):
    """Puts the streams `property_history` adds into the run's config (under ADDED_HISTORY_KEY), where the
    manifest's dynamic history streams (a ConfigComponentsResolver) read them: one per listed stream, leaving out
    those whose type has a built-in history stream (the registry's types with history_defaults), which read the
    entry's properties themselves.

    CDK type that nearly fits: the ConfigComponentsResolver reading property_history itself, which would add a
    second stream of the same name for an entry of contacts, companies, deals or tickets. Derived, never saved.
    """

    config: Optional[Mapping[str, Any]] = None
    parameters: InitVar[Optional[Mapping[str, Any]]] = None

    def transform(self, config: MutableMapping[str, Any]) -> None:
        built_in = {objects.object_type(name).stream for name in objects.built_in_history_types()}
        config[ADDED_HISTORY_KEY] = [{"stream": stream} for stream in listed_history(config) if stream not in built_in]


@dataclass
class HistoryObjectType(ListPartitionRouter):
    """One partition: the object type of the stream named by the `history_of` parameter (a stream property_history
    added), so every path and search of the stream names that type through its slice. Raises the config error of
    `history_object_type` when no object stream has that name. CDK type that nearly fits: ListPartitionRouter (this
    is one), whose value the manifest's Jinja cannot look up in the registry."""

    values: Union[str, List[str]] = field(default_factory=list)
    cursor_field: Union[InterpolatedString, str] = "object_type"
    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.values = [history_object_type(str(parameters["history_of"]))]
        super().__post_init__(parameters)


def history_stream_type(parameters: Mapping[str, Any]) -> str:
    """The object type of a history stream: a built-in names it (`object_type`), an added one names its stream."""
    if parameters.get("object_type"):
        return str(parameters["object_type"])
    return history_object_type(str(parameters["history_of"]))


@dataclass
class PropertyHistoryExtractor(PageExtractor):
    """Turns a page of changed record ids into one row per version of each configured property.

    HubSpot returns history only from batch reads (or lists) with `propertiesWithHistory`, at most 50 records per
    call: the ids of a search page are read in batches of 50 and every version becomes a row. CDK type that nearly
    fits: DpathExtractor, which can only return what the searched page holds.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    batch_requester: HttpRequester

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.object_type = history_stream_type(parameters)
        self.batch_size = int(parameters["history_batch_size"])
        self.properties = history_properties(self.config, self.object_type)

    def page_records(self, page: Page) -> Iterable[MutableMapping[str, Any]]:
        changed = dict(changed_ids(page))
        if not changed or not self.properties:
            return []
        object_type = page.object_type
        on_type = StreamSlice(partition={"object_type": object_type}, cursor_slice={})
        ids = list(changed)
        rows: List[MutableMapping[str, Any]] = []
        for start in range(0, len(ids), self.batch_size):
            inputs = [{"id": object_id} for object_id in ids[start : start + self.batch_size]]
            body_json = {"inputs": inputs, "properties": ["hs_object_id"], "propertiesWithHistory": self.properties}
            answered = read_batch(
                lambda batch: self.batch_requester.send_request(
                    stream_slice=on_type, request_body_json={**body_json, "inputs": batch}, log_formatter=None
                ),
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
