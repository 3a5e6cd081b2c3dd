"""RECORD lines are written by a shortcut around the CDK's serializer; they must be the very same lines."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, AirbyteStateMessage, Type

import io
import sys

from airbyte_cdk.logger import PRINT_BUFFER

import source_hubspot.run as run_module
from source_hubspot import speedups
from source_hubspot.run import RecordLine, _cdk_message_to_string, _message_to_output, _message_to_string, _RecordBytes, _StdoutBytes


@pytest.mark.parametrize("namespace", [None, "hubspot"])
@pytest.mark.parametrize(
    "data",
    [
        {"id": "1", "properties": {"city": None, "amount": 12.5}, "properties_amount": 12.5, "archivedAt": None},
        {"id": "2", "companies": ["7", "8"], "nested": {"deep": [None, {"x": None}]}},
        {"id": "3", "properties": {"city": "Zürich", "note": "data 😀 東京", "quote": 'say "hi"\n'}},
        {},
    ],
)
def test_given_a_record_when_serialized_then_the_line_equals_the_cdks(data, namespace, monkeypatch):
    message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="contacts", data=data, emitted_at=1700000000000, namespace=namespace))
    assert _message_to_string(message) == _cdk_message_to_string(message)
    # The read loop of run.py takes the same line as UTF-8 bytes.
    _RecordBytes.enabled = True
    try:
        assert _message_to_output(message) == _cdk_message_to_string(message).encode()
    finally:
        _RecordBytes.enabled = False
    assert _message_to_output(message) == _cdk_message_to_string(message)


def test_given_byte_lines_and_a_log_line_pending_when_flushed_then_the_log_line_comes_first(monkeypatch):
    # A log line another thread printed before a block of records reaches stdout before that block.
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "__stdout__", stdout)
    monkeypatch.setattr(PRINT_BUFFER, "flush_interval", 3600)  # the log line stays in the CDK's print buffer
    out = _StdoutBytes(stdout.buffer, flush_bytes=1 << 30, flush_seconds=3600)
    out.write_line(b'{"type":"RECORD","record":{"stream":"contacts","data":{"city":"Z\xc3\xbcrich"}}}')
    PRINT_BUFFER.write('{"type":"LOG","log":{"level":"INFO","message":"before the block"}}\n')
    out.write_line(b'{"type":"STATE"}')
    assert stdout.buffer.getvalue() == b"", "nothing is written before the block is flushed"
    out.flush()
    assert stdout.buffer.getvalue().decode().splitlines() == [
        '{"type":"LOG","log":{"level":"INFO","message":"before the block"}}',
        '{"type":"RECORD","record":{"stream":"contacts","data":{"city":"Zürich"}}}',
        '{"type":"STATE"}',
    ]


def test_given_other_messages_when_serialized_then_the_cdk_writes_them():
    message = AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(data={"contacts": {"updatedAt": "2024-01-01"}}))
    assert _message_to_string(message) == _cdk_message_to_string(message)


@pytest.mark.parametrize(
    "data, archived",
    [
        ({"id": "1", "archived": True}, True),
        ({"id": "2", "archived": False, "properties": {"nested": {"archived": True}}}, False),
        ({"id": "3", "properties": {"notes": 'said "archived":true in text'}}, False),
        ({"id": "4", "archived": True, "properties": {"huge": 2**70}}, True),  # written with its exact digits
    ],
)
def test_given_a_record_when_serialized_then_its_line_says_its_stream_and_whether_it_is_archived(data, archived):
    # The progress report counts records by what the line says of itself (SyncProgress.observe_record).
    message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="contacts", data=data, emitted_at=1))
    _RecordBytes.enabled = True
    try:
        line = _message_to_output(message)
    finally:
        _RecordBytes.enabled = False
    assert isinstance(line, RecordLine) and (line.stream, line.archived) == ("contacts", archived)


def test_given_a_record_when_the_concurrent_read_makes_its_message_then_the_record_is_not_copied():
    from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
    from airbyte_cdk.sources.utils.record_helper import stream_data_to_airbyte_message

    data = {"id": "1", "properties": {"amount": 3}, "properties_amount": 3}
    ours = concurrent_read_processor.stream_data_to_airbyte_message(stream_name="deals", data_or_message=data, file_reference=None)
    cdks = stream_data_to_airbyte_message(stream_name="deals", data_or_message=data, file_reference=None)
    assert (ours.record.data is data) is speedups.enabled()  # without the speed-ups, the CDK's own function copies it
    ours.record.emitted_at = cdks.record.emitted_at
    assert ours == cdks
    # With a transformer, or for a log message, the CDK's own function answers.
    from airbyte_cdk.models import AirbyteLogMessage, Level

    log = AirbyteLogMessage(level=Level.INFO, message="hello")
    assert concurrent_read_processor.stream_data_to_airbyte_message("deals", log) == stream_data_to_airbyte_message("deals", log)


def test_given_a_run_when_the_collector_is_tuned_then_start_up_objects_are_frozen_and_young_ones_collected_less_often():
    import gc

    before = gc.get_threshold()
    try:
        run_module._tune_garbage_collector()
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == (run_module.GC_YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
