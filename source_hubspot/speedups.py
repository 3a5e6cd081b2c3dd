"""Every replacement of another library's function or setting this connector makes, in one place, each with what it
saves (measured on wide contact pages, docs/performance.md).

`SOURCE_HUBSPOT_SPEEDUPS=0` leaves every library as it is: the connector reads the same records, more slowly (for a
comparison, or to rule them out). Each patch first checks that what it replaces exists: a library upgrade that
removed or renamed it stops the connector at start-up naming the symbol, rather than leaving a patch that silently
does nothing. `original(owner, name)` gives the library's own object to the code that calls through to it.
"""

from __future__ import annotations

import copy
import os
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

SWITCH = "SOURCE_HUBSPOT_SPEEDUPS"
_ORIGINALS: Dict[Tuple[int, str], Any] = {}
_APPLIED: List[str] = []


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip() != "0"


def original(owner: Any, name: str) -> Any:
    """The library's own `owner.name`, whether or not it was replaced."""
    return _ORIGINALS.get((id(owner), name), getattr(owner, name))


def applied() -> List[str]:
    """The patches in place, as `owner.name`."""
    return list(_APPLIED)


def _replace(owner: Any, name: str, value: Any) -> None:
    label = f"{getattr(owner, '__name__', owner)}.{name}"
    if not hasattr(owner, name):
        raise RuntimeError(
            f"source-hubspot replaces {label}, which the installed library no longer has: install the airbyte-cdk and "
            f"requests versions setup.py names, or set {SWITCH}=0 to run without the speed-ups."
        )
    key = (id(owner), name)
    if key in _ORIGINALS:
        return  # applied already
    _ORIGINALS[key] = getattr(owner, name)
    setattr(owner, name, value)
    _APPLIED.append(label)


# --------------------------------------------------------------------------------------------------------------
# Before the CDK loads
# --------------------------------------------------------------------------------------------------------------


def apply_before_cdk() -> None:
    """The CDK's message serializers (serpyco_rs) read every protocol dataclass's source with `inspect.getsource` +
    `ast.parse` only to put attribute docstrings into JSON-schema descriptions nobody reads here: 0.4-0.9 s of CPU
    per process (py-spy). Answering "no docs" before the CDK loads skips it."""
    if not enabled():
        return
    try:
        import attributes_doc
    except ImportError:  # pragma: no cover - a CDK without serpyco_rs
        return
    _replace(attributes_doc, "get_attributes_doc", lambda *args, **kwargs: {})


# --------------------------------------------------------------------------------------------------------------
# The cursor's date parsing
# --------------------------------------------------------------------------------------------------------------

_CURSOR_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _parse_cursor_datetime(self: Any, date: Union[str, int], format: str) -> datetime:
    """The CDK's cursor parses every record's `updatedAt` with `datetime.strptime` (~8 % of a wide read's CPU). For the
    one format the manifest uses, `datetime.fromisoformat` gives the same aware UTC datetime ~20x faster; any other
    format, or text it cannot read, goes to the CDK's own parser."""
    if format == _CURSOR_FORMAT and type(date) is str and date[-1:] == "Z" and len(date) > 20 and date[19] == ".":
        try:
            return datetime.fromisoformat(date)
        except ValueError:
            pass
    from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
    from airbyte_cdk.sources.declarative.parsers import model_to_component_factory

    return original(DatetimeParser, "parse")(self, date, format)


# --------------------------------------------------------------------------------------------------------------
# requests, per request
# --------------------------------------------------------------------------------------------------------------

_ENVIRONMENT_ANSWERS: Dict[Tuple[Any, ...], Mapping[str, Any]] = {}


def _merge_environment_once(session: Any, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Dict[str, Any]:
    """requests reads the proxy and CA-bundle environment variables for every request (`merge_environment_settings`
    walks os.environ twice, ~0.15 ms). They do not change while a sync runs, so the answer is kept per scheme and
    host (proxies and no_proxy are chosen by them) and the session's and request's settings; a request that passes
    its own proxies is answered afresh."""
    import requests

    merge = original(requests.Session, "merge_environment_settings")
    if proxies or not isinstance(url, str) or not session.trust_env:
        return merge(session, url, proxies, stream, verify, cert)
    try:
        key = (*url.split("/", 3)[:3], stream, verify, cert, session.stream, session.verify, session.cert,
               tuple(session.proxies.items()))
        answer = _ENVIRONMENT_ANSWERS.get(key)
    except TypeError:  # settings that cannot be a key
        return merge(session, url, proxies, stream, verify, cert)
    if answer is None:
        answer = _ENVIRONMENT_ANSWERS[key] = merge(session, url, proxies, stream, verify, cert)
    return {**answer, "proxies": answer["proxies"].copy()}


# --------------------------------------------------------------------------------------------------------------
# The CDK's record-to-message step
# --------------------------------------------------------------------------------------------------------------


def _record_to_message(
    stream_name: str, data_or_message: Any, transformer: Any = None, schema: Any = None, file_reference: Any = None
) -> Any:
    """The CDK's record-to-message step, without its copy of the record: for a wide record, a second dict of ~600
    keys made and freed per record on the main thread. The concurrent read passes no transformer, so the copy
    protects nothing; a call with one, or with a message rather than a dict, goes to the CDK's function."""
    import time

    from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type
    from airbyte_cdk.sources.concurrent_source import concurrent_read_processor

    if transformer is None and schema is None and type(data_or_message) is dict:
        record = AirbyteRecordMessage(
            stream=stream_name, data=data_or_message, emitted_at=time.time_ns() // 1_000_000, file_reference=file_reference
        )
        return AirbyteMessage(type=Type.RECORD, record=record)
    given = {"transformer": transformer, "schema": schema}
    cdk = original(concurrent_read_processor, "stream_data_to_airbyte_message")
    return cdk(stream_name, data_or_message, file_reference=file_reference, **{k: v for k, v in given.items() if v is not None})


# --------------------------------------------------------------------------------------------------------------
# The CDK's source start-up: the manifest's transformer and validation, custom components' type hints
# --------------------------------------------------------------------------------------------------------------

_IMMUTABLE = (str, int, float, bool, type(None))


def _propagate_types_and_parameters(
    self: Any,
    parent_field_identifier: str,
    declarative_component: Mapping[str, Any],
    parent_parameters: Mapping[str, Any],
    use_parent_parameters: Optional[bool] = None,
) -> Dict[str, Any]:
    """The CDK's ManifestComponentTransformer deep-copies a component's whole subtree at every level on the way down,
    so each leaf is copied once per ancestor: 1.2 s of CPU when a discover's source is built (61 streams), 0.6 s with
    this version. It gives the same result (unit test: equal output for the whole manifest and for shared
    subtrees and list-valued parameters) building each level's containers once: new dicts and lists on the way down,
    one deep copy per leaf (a JSON schema, a mapping holding no component, a non-dict list item). Parameters are
    copied per level as the CDK does, so no two components share a mutable value."""
    component = dict(declarative_component)
    if "type" not in component:
        if "class_name" in component:
            found_type = _transformer_module().CUSTOM_COMPONENTS_MAPPING.get(parent_field_identifier)
        else:
            found_type = _transformer_module().DEFAULT_MODEL_TYPES.get(parent_field_identifier)
        if found_type:
            component["type"] = found_type

    parameters_key = _transformer_module().PARAMETERS_STR
    current_parameters = dict(copy.deepcopy(parent_parameters))
    component_parameters = component.pop(parameters_key, {})
    if use_parent_parameters:
        current_parameters = {**copy.deepcopy(component_parameters), **current_parameters}
    else:
        current_parameters = {**current_parameters, **copy.deepcopy(component_parameters)}

    if self._is_json_schema_object(component):
        return copy.deepcopy(component)
    if "type" not in component:
        if not self._has_nested_components(component):
            return copy.deepcopy(component)
        memo: Dict[int, Any] = {}  # the CDK copied the level at once: values shared among siblings stay shared
        for field_name, field_value in component.items():
            if isinstance(field_value, dict) and field_value.get("type"):
                component[field_name] = self.propagate_types_and_parameters(
                    parent_field_identifier, field_value, current_parameters, use_parent_parameters=use_parent_parameters
                )
            else:
                component[field_name] = copy.deepcopy(field_value, memo)
        return component

    for parameter_key, parameter_value in current_parameters.items():
        component[parameter_key] = component.get(parameter_key) or parameter_value

    for field_name, field_value in component.items():
        if isinstance(field_value, dict):
            excluded_parameter = current_parameters.pop(field_name, None)
            component[field_name] = self.propagate_types_and_parameters(
                f"{component.get('type')}.{field_name}", field_value, current_parameters,
                use_parent_parameters=use_parent_parameters,
            )
            if excluded_parameter:
                current_parameters[field_name] = excluded_parameter
        elif isinstance(field_value, list):
            excluded_parameter = current_parameters.pop(field_name, None)
            items = [
                self.propagate_types_and_parameters(
                    f"{component.get('type')}.{field_name}", item, current_parameters,
                    use_parent_parameters=use_parent_parameters,
                )
                if isinstance(item, dict)
                else copy.deepcopy(item)
                for item in field_value
            ]
            component[field_name] = items
            if excluded_parameter:
                # The CDK edits the list in place; when the field came from a parameter, the parameter is that list.
                current_parameters[field_name] = items if excluded_parameter is field_value else excluded_parameter
        elif not isinstance(field_value, _IMMUTABLE):
            component[field_name] = copy.deepcopy(field_value)

    if current_parameters:
        component[parameters_key] = current_parameters
    return component


def _transformer_module() -> Any:
    from airbyte_cdk.sources.declarative.parsers import manifest_component_transformer

    return manifest_component_transformer


def _validate_source(self: Any) -> None:
    """The CDK validates the manifest against its whole component schema each time a source is built: 0.8 s of CPU
    per start (check, discover and every read). The connector's manifest is the packaged file (or a part of it: a
    read drops the definitions of streams it does not build), validated by unit_tests/test_speedups.py with the
    CDK's own validator; a source built from any other manifest is validated as the CDK does."""
    if getattr(self, "PACKAGED_MANIFEST", False):
        return
    original(_declarative_source(), "_validate_source")(self)


_TYPE_HINTS: Dict[type, Dict[str, Any]] = {}


def _type_hints(obj: Any, *args: Any, **kwargs: Any) -> Dict[str, Any]:
    """The component factory asks `typing.get_type_hints` for a custom component's class each time it builds one
    (~1,600 times in a discover, 0.25 s of CPU): a class's hints do not change, so each class's are read once and handed out
    as a copy."""
    from airbyte_cdk.sources.declarative.parsers import model_to_component_factory

    cdk = original(model_to_component_factory, "get_type_hints")
    if args or kwargs or not isinstance(obj, type):
        return cdk(obj, *args, **kwargs)
    hints = _TYPE_HINTS.get(obj)
    if hints is None:
        hints = _TYPE_HINTS[obj] = cdk(obj)
    return dict(hints)


def _declarative_source() -> Any:
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    return ConcurrentDeclarativeSource


# --------------------------------------------------------------------------------------------------------------
# All of them
# --------------------------------------------------------------------------------------------------------------


def apply(message_to_output: Optional[Callable[[Any], Any]] = None) -> None:
    """Puts every speed-up in place (once); `message_to_output` is run.py's serializer of read's messages."""
    if not enabled():
        return
    import requests
    from airbyte_cdk.entrypoint import AirbyteEntrypoint
    from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
    from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
    from airbyte_cdk.sources.declarative.parsers import model_to_component_factory

    _replace(DatetimeParser, "parse", _parse_cursor_datetime)
    _replace(_transformer_module().ManifestComponentTransformer, "propagate_types_and_parameters",
             _propagate_types_and_parameters)
    _replace(_declarative_source(), "_validate_source", _validate_source)
    _replace(model_to_component_factory, "get_type_hints", _type_hints)
    # requests reads a body in 10 KB chunks, each through urllib3's and http.client's Python layers: a wide page
    # (1-2 MB) took ~200 reads, ~10 us of CPU per record. None has urllib3 read the whole body in one call (a chunked
    # body still arrives chunk by chunk), through the same requests code and its error mapping.
    _replace(requests.models, "CONTENT_CHUNK_SIZE", None)
    _replace(requests.Session, "merge_environment_settings", _merge_environment_once)
    _replace(concurrent_read_processor, "stream_data_to_airbyte_message", _record_to_message)
    if message_to_output is not None:
        # The CDK maps read's messages through AirbyteEntrypoint.airbyte_message_to_string by class name: RECORD
        # lines straight to JSON bytes (the CDK's serializer walks each record's data first, ~2 % of a wide read).
        _replace(AirbyteEntrypoint, "airbyte_message_to_string", staticmethod(message_to_output))
