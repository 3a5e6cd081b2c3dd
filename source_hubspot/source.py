"""Loads the packaged manifest, shapes what discover and check say and skips the streams a read may not read;
everything else is declared there."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, Dict, Iterator, List, Mapping, Optional

import yaml
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    ConcurrentDeclarativeSource,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import HttpRequester as HttpRequesterModel
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message

from source_hubspot import objects
from source_hubspot.budget import budget_for
from source_hubspot.components.analyst_history import unknown_history_stream
from source_hubspot.components.analyst_scopes import ScopeProbes
from source_hubspot.components.errors import is_missing_scope
from source_hubspot.components.memos import PropertyDefinitions
from source_hubspot.custom_objects import (
    SCHEMAS_SCOPE,
    STREAM_PREFIX,
    CustomObjectTypes,
    custom_objects,
    describe as describe_custom_objects,
    read_schemas,
    stream_configs,
)
from source_hubspot.factory import HubspotComponentFactory
from source_hubspot.paths import describe
from source_hubspot.progress import ApiCalls, SkippedStreams
from source_hubspot.run_state import SelectedStreams, begin_run


def without_full_refresh_state(
    catalog: ConfiguredAirbyteCatalog, state: Optional[List[AirbyteStateMessage]]
) -> List[AirbyteStateMessage]:
    """The saved state less that of the streams configured for full refresh: a full refresh reads everything, so
    such a stream reads as a first sync (the CDK's StateDelegatingStream picks its first-sync stream when it has no
    state)."""
    full_refresh = {c.stream.name for c in catalog.streams if c.sync_mode == SyncMode.full_refresh}
    kept = []
    for message in state or []:
        descriptor = getattr(getattr(message, "stream", None), "stream_descriptor", None)
        if descriptor is None or descriptor.name not in full_refresh:
            kept.append(message)
    return kept


def only_streams(manifest: Mapping[str, Any], names: set) -> List[Any]:
    """The manifest's stream entries whose definitions are named in `names`."""
    definitions = manifest.get("definitions") or {}
    kept = []
    for entry in manifest.get("streams") or []:
        ref = entry.get("$ref", "") if isinstance(entry, dict) else ""
        definition = definitions.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/definitions/") else entry
        if not isinstance(definition, dict) or definition.get("name") in names:
            kept.append(entry)
    return kept


def _referenced(node: Any, found: set) -> set:
    """The top-level definition names `node` refers to (`#/definitions/<name>[/...]`)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/definitions/"):
                found.add(value[len("#/definitions/"):].split("/", 1)[0])
            else:
                _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)
    return found


def without_unread_definitions(manifest: Mapping[str, Any], kept: List[Any]) -> Dict[str, Any]:
    """The manifest's definitions less the stream entries of the streams a read does not build, unless a kept part
    of the manifest refers to one. The CDK resolves every definition when the source is built, read or not: about
    20 ms of CPU per stream entry, half a second at start-up for the standard objects' 21 one-line entries."""
    definitions = dict(manifest.get("definitions") or {})
    every = {ref.split("/", 1)[0] for ref in (_referenced(entry, set()) for entry in manifest.get("streams") or [])
             for ref in ref}
    unread = every - _referenced(kept, set())
    dropped = {name: definitions.pop(name) for name in unread if name in definitions}
    while True:
        rest = {key: value for key, value in manifest.items() if key not in ("definitions", "streams")}
        needed = (_referenced(definitions, set()) | _referenced(kept, set()) | _referenced(rest, set())) & set(dropped)
        if not needed:
            return definitions
        for name in needed:
            definitions[name] = dropped.pop(name)


def load_manifest() -> Mapping[str, Any]:
    text = resources.files("source_hubspot").joinpath("manifest.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class SourceHubspot(ConcurrentDeclarativeSource):
    PACKAGED_MANIFEST = True  # built from manifest.yaml alone: validated by a unit test, not at each start (speedups.py)

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        begin_run()  # a new run: nothing learnt by an earlier one in this process is kept (run_state.py)
        manifest = dict(load_manifest())
        # The streams a read is configured with (None: discover, check, spec), and the custom object streams once
        # the schemas API was read (dynamic_streams).
        self._configured: Optional[set] = {c.stream.name for c in catalog.streams} if catalog is not None else None
        SelectedStreams.choose(self._configured or ())
        self._custom_streams: Optional[List[Dict[str, Any]]] = None
        if catalog is not None:
            # A read builds only the streams it reads (and contacts, the check stream): building all of them is
            # about a second of CPU at start-up.
            kept = only_streams(manifest, {c.stream.name for c in catalog.streams} | {"contacts"})
            manifest["definitions"] = without_unread_definitions(manifest, kept)
            manifest["streams"] = kept
            state = without_full_refresh_state(catalog, state)
        super().__init__(
            catalog=catalog,
            config=config,
            state=state,
            source_config=manifest,
            config_path=config_path,
        )

    def _migrate_and_transform_config(self, config_path: Optional[str], config: Optional[Mapping[str, Any]]) -> Any:
        """The CDK's config migration, which also writes a migrated (camelCase) config back to --config; when that
        file cannot be written (read-only mount, no permission) the run goes on with the migrated config in memory.

        Without this, the CDK's OSError surfaced as "could not start ... point to valid JSON files", blaming a config
        that is valid. Migrating again without a path is safe: the migration works on a copy of `config`."""
        try:
            return super()._migrate_and_transform_config(config_path, config)
        except OSError as error:
            if not config_path:
                raise
            _logger.warning(
                f"Could not update the config file {config_path} with the migrated config "
                f"({error.strerror or error}); this run uses the migrated config in memory, and the next run migrates "
                "it again. To stop this warning, make the file writable, or write the config in the spec's shape "
                "(a credentials object with credentials_title)."
            )
            return super()._migrate_and_transform_config(None, config)

    def _prepare_for_stream_build(self) -> None:
        # The CDK's factory with the connector's additions (factory.py) and HubSpot's two buckets, corrected from its
        # headers (budget.py), shared by every stream.
        super()._prepare_for_stream_build()
        self._constructor = HubspotComponentFactory.taking_over(self._constructor, budget_for(self._config or {}))

    @property
    def dynamic_streams(self) -> List[Dict[str, Any]]:
        """One object stream per custom object of the portal (custom_objects.py), in the CDK's hook for streams
        found at run time: read at discover and by a read that names a custom stream, once per run; check, and a
        read of built-in streams alone, never ask for them. Beside them, the manifest's own dynamic streams (the
        property history streams the config lists), resolved after the custom objects are registered, as they may
        name one."""
        if self._custom_streams is None:
            self._custom_streams = self._find_custom_streams()
        return [*super().dynamic_streams, *self._custom_streams]

    def _find_custom_streams(self) -> List[Dict[str, Any]]:
        configured = self._configured
        wanted = None if configured is None else {name for name in configured if name.startswith(STREAM_PREFIX)}
        if wanted is not None and not wanted:
            return []
        definition = self._source_config["definitions"]["schemas_requester"]
        requester = self._constructor.create_component(
            HttpRequesterModel, definition, self._config, name="custom_object_schemas"
        )
        schemas = read_schemas(requester)
        found = custom_objects(schemas) if schemas is not None else []
        CustomObjectTypes.register(found)
        for item in found:
            if item.properties_complete:  # else the schema loader asks the properties API, as for a built-in type
                PropertyDefinitions.known(requester.get_url_base(), item.entry.name, list(item.properties))
        if schemas is not None:
            _logger.info(describe_custom_objects(found))
        if wanted is not None:
            reason = (f"the token lacks the scope(s) {SCHEMAS_SCOPE}" if schemas is None
                      else "the portal's schemas API no longer lists this custom object (it was deleted)")
            # A custom object's property history stream needs its type registered (above), not a stream of its own.
            read = {item.stream for item in found} | {objects.history_stream(item.entry) for item in found}
            for name in sorted(wanted - read):
                SkippedStreams.skip(name, reason)
                _logger.warning(f"Skipping stream {name} in this sync: {reason}.")
            found = [item for item in found if item.stream in wanted]
        return stream_configs(self._resolve_stream_entry, found)

    def _resolve_stream_entry(self, entry: Dict[str, Any]) -> Dict[str, Any]:
        """A stream entry of the manifest's shape (`$ref` to a definition, name, $parameters) as the CDK resolves the
        manifest's own: the definition (resolved with the manifest) under the entry's fields, types and parameters
        propagated."""
        definition = self._source_config["definitions"][entry["$ref"].rsplit("/", 1)[-1]]
        fields = {key: value for key, value in entry.items() if key != "$ref"}
        return ManifestComponentTransformer().propagate_types_and_parameters("", {**definition, **fields}, {})

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        """Every stream the token may read; a stream whose scope is missing is left out with a warning naming it, and
        so is an optional object's stream (objects.py) that HubSpot refuses otherwise: the portal does not serve it."""
        streams, skipped, unserved = [], [], []
        optional = set(objects.optional_streams())

        def described(stream: Any) -> Any:
            try:
                return stream.as_airbyte_stream()
            except AirbyteTracedException as error:
                return error

        with ScopeProbes.during_discover():  # the analyst tables' fixed schemas check their scopes only here
            built = list(self.streams(config=self._config))
            # Each object type's properties call (its schema) is a round trip: they go out at once, not one after
            # another (one call per type, memoised: components/memos.py).
            with ThreadPoolExecutor(max_workers=8, thread_name_prefix="discover") as pool:
                answers = list(pool.map(described, built))
        for stream, answer in zip(built, answers):
            if not isinstance(answer, AirbyteTracedException):
                streams.append(answer)
            elif is_missing_scope(answer):
                skipped.append(f"{stream.name}: {answer.message}")
            elif stream.name in optional and answer.failure_type != FailureType.transient_error:
                unserved.append(f"{stream.name}: {answer.message}")
            else:
                raise answer
        for reason in skipped:
            logger.warning(f"Left out of the catalog because the token cannot read it. {reason}")
        for reason in unserved:
            logger.warning(
                "Left out of the catalog because HubSpot does not serve this object to the account (its plan may not "
                "include it, or the object is not activated in Settings > Data Management > Data Model). "
                f"{reason}"
            )
        if skipped and not streams:
            raise AirbyteTracedException(
                message="The token can read none of the streams. " + " ".join(skipped),
                failure_type=FailureType.config_error,
            )
        if skipped or unserved:
            left_out = skipped + unserved
            logger.warning(f"Discovered {len(streams)} streams; left out {len(left_out)}: {', '.join(r.split(':')[0] for r in left_out)}.")
        return AirbyteCatalog(streams=streams)

    def _select_streams(self, streams: List[Any], configured_catalog: ConfiguredAirbyteCatalog) -> List[Any]:
        """The CDK's choice of streams to read, less those the token cannot read, as discover leaves them out.

        A configured stream whose scope was removed after discover would stop the whole sync when the CDK reads its
        schema; it is skipped instead, with a warning naming the scope, an INCOMPLETE status and a line in the sync
        report. Reading each schema here is the properties call the read makes first anyway (memoised per run).
        """
        selected = super()._select_streams(streams=streams, configured_catalog=configured_catalog)
        configured = {c.stream.name: c.stream for c in configured_catalog.streams}

        def schema_error(stream: Any) -> Optional[AirbyteTracedException]:
            ApiCalls.belong_to(stream.name)
            try:
                stream.get_json_schema()
            except AirbyteTracedException as error:
                if not is_missing_scope(error):
                    raise
                return error
            return None

        # The schemas' property calls go out at once: each is a round trip the sync would otherwise wait for in turn.
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="schemas") as pool:
            errors = list(pool.map(schema_error, selected))
        readable, denied = [], []
        for stream, error in zip(selected, errors):
            if error is not None:
                denied.append((stream.name, error.message or ""))
            else:
                readable.append(stream)
        if denied and not readable:
            raise AirbyteTracedException(
                message="The token can read none of the configured streams. " + " ".join(f"{n}: {m}" for n, m in denied),
                failure_type=FailureType.config_error,
            )
        for name, message in denied:
            scopes = _LACKED_SCOPES.search(message)
            SkippedStreams.skip(name, f"the token lacks the scope(s) {scopes.group(1)}" if scopes else message)
            _logger.warning(f"Skipping stream {name} in this sync because the token cannot read it. {message}")
            self._message_repository.emit_message(as_airbyte_message(configured[name], AirbyteStreamStatus.INCOMPLETE))
        return readable

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[Any]:
        """The CDK's read; then, if configured streams were skipped for a missing scope, the sync ends failed.

        The readable streams are read and their state saved first, so nothing is lost; but a connection that asked
        for a stream and did not get it must not look like a success."""
        yield from super().read(logger, config, catalog, state)
        skipped = SkippedStreams.reasons()
        if skipped:
            raise AirbyteTracedException(
                message=(
                    "Read every stream the token can read, but skipped "
                    + "; ".join(f"{name} ({reason})" for name, reason in sorted(skipped.items()))
                    + ". Add the scope(s) to the private app or Service Key (Settings > Integrations > Private Apps >"
                    " Scopes), or reinstall the OAuth app with them, or remove the stream(s) from the connection."
                ),
                failure_type=FailureType.config_error,
            )

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """The declarative check, with its message reduced to HubSpot's cause and the fix; a property_history entry
        that names no object stream fails it with that entry's config error (discover and read would fail with it)."""
        logger.info(describe(self._config or config))
        unknown = unknown_history_stream(self._config or config)
        if unknown:
            return AirbyteConnectionStatus(status=Status.FAILED, message=unknown)
        status = super().check(logger, config)
        if status.status == Status.FAILED and status.message:
            status.message = explain_check_failure(status.message, config)
        return status


_LACKED_SCOPES = re.compile(r"lacks the scope\(s\) (.+?)\. Add them")
_logger = logging.getLogger("airbyte")

_UNREACHABLE = re.compile(r"ConnectionError|ConnectTimeout|Max retries exceeded|Name or service not known|Connection refused")


def explain_check_failure(message: str, config: Mapping[str, Any]) -> str:
    text = message.strip().strip("'\"")
    if _UNREACHABLE.search(text):
        url = config.get("api_base_url") or "https://api.hubapi.com"
        return (
            f"Could not reach HubSpot at {url}: the connection failed after several retries. Check the network "
            "connection, any proxy or firewall between this machine and HubSpot, and api_base_url."
        )
    return text.replace("Stream contacts is not available: ", "")
