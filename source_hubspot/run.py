"""Command-line entry point: `source-hubspot spec|check|discover|read ...`."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any, Callable, List, Optional

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_hubspot.config_check import config_problems
from source_hubspot.progress import SyncProgress
from source_hubspot.source import SourceHubspot


def _emit_error(message: str, internal: str, failure_type: FailureType) -> None:
    trace = AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
            error=AirbyteErrorTraceMessage(
                message=filter_secrets(message),
                internal_message=filter_secrets(internal),
                failure_type=failure_type,
            ),
        ),
    )
    print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode(), flush=True)


def _source(args: List[str]) -> Optional[SourceHubspot]:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    try:
        return SourceHubspot(
            catalog=SourceHubspot.read_catalog(catalog_path) if catalog_path else None,
            config=SourceHubspot.read_config(config_path) if config_path else None,
            state=SourceHubspot.read_state(state_path) if state_path else None,
            config_path=config_path,
        )
    except AirbyteTracedException as error:
        _emit_error(error.message or str(error), error.internal_message or repr(error), error.failure_type)
    except Exception as error:  # the manifest or an input file could not be loaded
        _emit_error(
            f"source-hubspot could not start: {error}. Check that --config, --catalog and --state point to valid "
            "JSON files.",
            repr(error),
            FailureType.config_error,
        )
    return None


# Records, state and config updates are printed as they are; every other line (logs, traces, connection status)
# may quote a HubSpot error body, and HubSpot can echo a token there, so those lines pass through filter_secrets.
_VERBATIM = ('{"type":"RECORD"', '{"type":"STATE"', '{"type":"CONTROL"', '{"type":"CATALOG"', '{"type":"SPEC"')


class HubspotEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint, with config mistakes explained field by field before the JSON-schema check."""

    @staticmethod
    def validate_connection(source_spec: Any, config: Any) -> None:
        problems = config_problems(config)
        if problems:
            raise AirbyteTracedException(
                message="The config has " + ("a problem: " if len(problems) == 1 else f"{len(problems)} problems: ") + " ".join(problems),
                internal_message="config rejected before the JSON-schema validation",
                failure_type=FailureType.config_error,
            )
        AirbyteEntrypoint.validate_connection(source_spec, config)


_cdk_message_to_string = AirbyteEntrypoint.airbyte_message_to_string


def _message_to_string(message: AirbyteMessage) -> str:
    """RECORD messages straight to JSON; the CDK's serializer walks each record's data first (~2 % of a wide read's
    CPU). The output is the same: the serializer leaves out the fields that are None."""
    record = message.record
    if message.type == Type.RECORD and record is not None and record.meta is None and record.file_reference is None:
        data = record.data
        if None in data.values():  # as the CDK's serializer does, top-level nulls are left out
            data = {key: value for key, value in data.items() if value is not None}
        payload: dict = {"stream": record.stream, "data": data, "emitted_at": record.emitted_at}
        if record.namespace is not None:
            payload["namespace"] = record.namespace
        try:
            return orjson.dumps({"type": "RECORD", "record": payload}).decode()
        except TypeError:
            pass
    return _cdk_message_to_string(message)


# The CDK maps read's messages through AirbyteEntrypoint.airbyte_message_to_string by class name.
AirbyteEntrypoint.airbyte_message_to_string = staticmethod(_message_to_string)  # type: ignore[method-assign]


def _print_messages(source: SourceHubspot, args: List[str]) -> None:
    entrypoint = HubspotEntrypoint(source)
    parsed = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        if parsed.command != "read":
            for message in entrypoint.run(parsed):
                if not message.startswith(_VERBATIM):
                    message = filter_secrets(message)
                print(f"{message}\n", end="")
            return
        # Progress lines come from a timer thread while this loop may be blocked on the CDK's queue; they are
        # written under the print buffer's lock, which every print of this loop and of the CDK's threads takes too.
        progress = SyncProgress(
            _write_lines,
            streams=_configured_streams(source, parsed.catalog),
            count_archived=bool(_read_or_empty(source.read_config, parsed.config).get("include_archived")),
        )
        with progress:
            for message in entrypoint.run(parsed):
                if not message.startswith(_VERBATIM):
                    message = filter_secrets(message)
                progress.observe(message)
                print(f"{message}\n", end="")


def _write_lines(lines: List[str]) -> None:
    with PRINT_BUFFER.lock:
        for line in lines:
            sys.stdout.write(f"{filter_secrets(line)}\n")
        sys.stdout.flush()


def _configured_streams(source: SourceHubspot, catalog_path: Optional[str]) -> List[str]:
    catalog = _read_or_empty(source.read_catalog, catalog_path)
    return [configured.stream.name for configured in catalog.streams] if catalog else []


def _read_or_empty(reader: Callable[[str], Any], path: Optional[str]) -> Any:
    try:
        return reader(path) if path else {}
    except Exception:  # the entrypoint reads the file too, and says what is wrong with it
        return {}


def run(args: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if args is None else args
    source = _source(args)
    if source is None:
        sys.exit(1)
    _print_messages(source, args)


if __name__ == "__main__":
    run()
