"""Every patch of another library lives in source_hubspot/speedups.py, is in place by default, can be switched off,
and fails loudly when the library no longer has what it replaces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest
import requests
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser

from source_hubspot import speedups


@pytest.mark.skipif(not speedups.enabled(), reason="SOURCE_HUBSPOT_SPEEDUPS=0: no patch is in place (the next test checks that)")
def test_given_the_package_imported_then_every_speedup_is_in_place():
    assert requests.models.CONTENT_CHUNK_SIZE is None
    assert DatetimeParser.parse is speedups._parse_cursor_datetime
    assert requests.Session.merge_environment_settings is speedups._merge_environment_once
    assert concurrent_read_processor.stream_data_to_airbyte_message is speedups._record_to_message
    assert AirbyteEntrypoint.airbyte_message_to_string is not speedups.original(AirbyteEntrypoint, "airbyte_message_to_string")
    assert len(speedups.applied()) >= 5


def test_given_the_switch_off_when_the_package_loads_then_no_library_is_changed():
    probe = (
        "import json, requests\n"
        "from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser\n"
        "import source_hubspot\n"
        "from source_hubspot import speedups\n"
        "print(json.dumps([speedups.applied(), requests.models.CONTENT_CHUNK_SIZE, DatetimeParser.parse.__module__]))\n"
    )
    env = dict(os.environ, SOURCE_HUBSPOT_SPEEDUPS="0")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    applied, chunk_size, parser_module = json.loads(out.strip().splitlines()[-1])
    assert applied == [] and chunk_size == 10 * 1024 and "airbyte_cdk" in parser_module


def test_given_a_library_without_the_symbol_when_patched_then_start_up_fails_naming_it():
    library = types.ModuleType("some_library")
    with pytest.raises(RuntimeError, match=r"some_library\.gone.*SOURCE_HUBSPOT_SPEEDUPS=0"):
        speedups._replace(library, "gone", None)


def test_given_the_cursor_format_then_the_fast_parse_equals_the_cdks():
    parser = DatetimeParser()
    cdk = speedups.original(DatetimeParser, "parse")
    for text in ("2024-05-01T10:00:00.123000Z", "2024-05-01T10:00:00.1Z", "1999-12-31T23:59:59.999999Z"):
        assert parser.parse(text, "%Y-%m-%dT%H:%M:%S.%fZ") == cdk(parser, text, "%Y-%m-%dT%H:%M:%S.%fZ")
