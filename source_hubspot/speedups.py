"""Every replacement of another library's function or setting this connector makes, in one place, each with what it
saves (measured on wide contact pages, docs/performance.md).

`SOURCE_HUBSPOT_SPEEDUPS=0` leaves every library as it is: the connector reads the same records, more slowly (for a
comparison, or to rule them out). Each patch first checks that what it replaces exists: a library upgrade that
removed or renamed it stops the connector at start-up naming the symbol, rather than leaving a patch that silently
does nothing. `original(owner, name)` gives the library's own object to the code that calls through to it.
"""

from __future__ import annotations

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

    _replace(DatetimeParser, "parse", _parse_cursor_datetime)
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
