"""Command-line entry point: `source-hubspot spec|check|discover|read ...`."""

from __future__ import annotations

import gc
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable, List, Optional, Union

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

from source_hubspot import speedups
from source_hubspot.components.values import exact_big_ints
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
        problems = config_problems(config, spec=source_spec.connectionSpecification)
        if problems:
            raise AirbyteTracedException(
                message="The config has " + ("a problem: " if len(problems) == 1 else f"{len(problems)} problems: ") + " ".join(problems),
                internal_message="config rejected before the JSON-schema validation",
                failure_type=FailureType.config_error,
            )
        AirbyteEntrypoint.validate_connection(source_spec, config)


_cdk_message_to_string = speedups.original(AirbyteEntrypoint, "airbyte_message_to_string")


class RecordLine(bytes):
    """A RECORD line of a read's output, with its record's stream and whether the record is archived: the progress
    report counts records by these (SyncProgress.observe_record), not by reading the line back."""

    stream = ""
    archived = False


def _record_line(message: AirbyteMessage) -> Optional[RecordLine]:
    """A RECORD message straight to JSON bytes; the CDK's serializer walks each record's data first (~2 % of a wide
    read's CPU). The output is the same: the serializer leaves out the fields that are None. None for any other
    message; the CDK's serializer writes a record orjson cannot write."""
    record = message.record
    if message.type != Type.RECORD or record is None:
        return None
    line = _orjson_line(record)
    if line is None:
        line = RecordLine(_cdk_message_to_string(message).encode())
    line.stream, line.archived = record.stream, record.data.get("archived") is True
    return line


def _orjson_line(record: Any) -> Optional[RecordLine]:
    if record.meta is None and record.file_reference is None:
        data = record.data
        # As the CDK's serializer does, top-level nulls are left out (~7 us for a record of 600 columns; the record
        # caster has left out its streams' nulls already, so this copies nothing for them).
        for value in data.values():
            if value is None:
                data = {key: value for key, value in data.items() if value is not None}
                break
        payload: dict = {"stream": record.stream, "data": data, "emitted_at": record.emitted_at}
        if record.namespace is not None:
            payload["namespace"] = record.namespace
        # orjson refuses integers past 64 bits, which the caster keeps exact (HubSpot numbers of 20+ digits): then
        # they are written as their digits. (The CDK's fallback, json.dumps, would write another layout, log a
        # warning, and fail past 4,300 digits.)
        for exact_digits in (False, True):
            if exact_digits:
                payload["data"] = exact_big_ints(data)
            try:
                return RecordLine(orjson.dumps({"type": "RECORD", "record": payload}))
            except TypeError:
                continue
    return None


def _message_to_string(message: AirbyteMessage) -> str:
    line = _record_line(message)
    return line.decode() if line is not None else _cdk_message_to_string(message)


class _RecordBytes:
    """While set, read's RECORD lines reach `_print_messages` as `RecordLine`s (UTF-8 bytes): a wide record (20+ KB)
    is not decoded to a str and encoded back by stdout (with non-ASCII text, ~30 us a record). Only
    `_print_messages` sets it; any other caller of the CDK's entrypoint (its test helpers) gets strings."""

    enabled = False


def _message_to_output(message: AirbyteMessage) -> Union[str, bytes]:
    line = _record_line(message)
    if line is None:
        return _cdk_message_to_string(message)
    return line if _RecordBytes.enabled else line.decode()


class _StdoutBytes:
    """The read loop's lines, as bytes, to stdout's binary buffer in blocks (at most `flush_bytes` or
    `flush_seconds` old). The CDK's print buffer still takes the log lines of other threads: it is flushed first,
    under its lock, so a line printed before a block is written before it."""

    def __init__(self, stream: Any, flush_bytes: int = 1 << 20, flush_seconds: float = 0.1) -> None:
        self._stream = stream
        self._chunks: List[bytes] = []
        self._size = 0
        self._flush_bytes = flush_bytes
        self._flush_seconds = flush_seconds
        self._flushed_at = time.monotonic()

    def write_line(self, line: bytes) -> None:
        self._chunks.append(line)
        self._chunks.append(b"\n")
        self._size += len(line) + 1
        if self._size >= self._flush_bytes or time.monotonic() - self._flushed_at >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        with PRINT_BUFFER.lock:
            try:
                PRINT_BUFFER.flush()
                self._stream.write(b"".join(self._chunks))
                self._stream.flush()
            except OSError as error:  # a full disk, a closed pipe: run() says so and exits 1
                OUTPUT_FAILED.append(error)
                raise
        self._chunks, self._size, self._flushed_at = [], 0, time.monotonic()


# The error that stopped the read's output, if one did.
OUTPUT_FAILED: List[OSError] = []


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
        progress = SyncProgress(_write_lines, streams=_configured_streams(source, parsed.catalog))
        # Under pytest the print buffer leaves stdout alone (capture); lines are then printed as text.
        binary = getattr(sys.__stdout__, "buffer", None) if sys.stdout is PRINT_BUFFER else None
        out = _StdoutBytes(binary) if binary is not None else None
        with progress:
            _RecordBytes.enabled = True
            try:
                for message in entrypoint.run(parsed):
                    if type(message) is RecordLine:
                        progress.observe_record(message.stream, message.archived)
                    else:
                        if not message.startswith(_VERBATIM):
                            message = filter_secrets(message)
                        progress.observe(message)
                        message = message.encode()
                    if out is not None:
                        out.write_line(message)
                    else:
                        print(f"{message.decode()}\n", end="")
            finally:
                _RecordBytes.enabled = False
                if out is not None and not OUTPUT_FAILED:
                    out.flush()


def _write_lines(lines: List[str]) -> None:
    with PRINT_BUFFER.lock:
        try:
            for line in lines:
                sys.stdout.write(f"{filter_secrets(line)}\n")
            sys.stdout.flush()
        except OSError as error:
            OUTPUT_FAILED.append(error)
            raise


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
    _tune_garbage_collector()
    try:
        _print_messages(source, args)
    except OSError:
        if not OUTPUT_FAILED:
            raise
        _exit_on_output_failure(OUTPUT_FAILED[0])


def _exit_on_output_failure(error: OSError) -> None:
    """Output that could not be written is lost: stdout cannot carry the error, so stderr does, and the process
    exits 1 at once (a normal exit would try stdout again, and end with Python's bare 120). The CDK's print buffer
    stands in for sys.stderr, so this writes to the process's own stderr."""
    stderr = sys.__stderr__ or sys.stderr
    stderr.write(
        f"source-hubspot: writing the read's output to stdout failed ({error.strerror or error}); the read stopped "
        "and its output is incomplete. Free space where the output goes, or keep the reading end of the pipe open, "
        "and run the sync again.\n"
    )
    stderr.flush()
    os._exit(1)


# A read allocates ~20 containers per record (dicts of parsed JSON, the CDK's record and message objects), nearly
# all freed by reference counting. With the default threshold (700) the collector ran every ~35 records and walked
# the pages waiting in queues each time: ~20 us per wide record, 6 % of a read's CPU.
GC_YOUNG_THRESHOLD = 10_000


def _tune_garbage_collector() -> None:
    """The source, manifest and modules built so far live as long as the process: frozen, no collection walks them
    again. Young objects are collected every GC_YOUNG_THRESHOLD net allocations; older generations as by default."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


if __name__ == "__main__":
    run()
