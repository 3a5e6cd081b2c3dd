"""Every patch of another library lives in source_hubspot/speedups.py, is in place by default, can be switched off,
and fails loudly when the library no longer has what it replaces."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import types

import pytest
import requests
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.sources.concurrent_source import concurrent_read_processor
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer

from source_hubspot import speedups


@pytest.mark.skipif(not speedups.enabled(), reason="SOURCE_HUBSPOT_SPEEDUPS=0: no patch is in place (the next test checks that)")
def test_given_the_package_imported_then_every_speedup_is_in_place():
    assert requests.models.CONTENT_CHUNK_SIZE is None
    assert DatetimeParser.parse is speedups._parse_cursor_datetime
    assert ManifestComponentTransformer.propagate_types_and_parameters is speedups._propagate_types_and_parameters
    assert requests.Session.merge_environment_settings is speedups._merge_environment_once
    assert concurrent_read_processor.stream_data_to_airbyte_message is speedups._record_to_message
    assert AirbyteEntrypoint.airbyte_message_to_string is not speedups.original(AirbyteEntrypoint, "airbyte_message_to_string")
    assert ConcurrentDeclarativeSource._validate_source is speedups._validate_source
    assert len(speedups.applied()) >= 8


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


def _transformer_both_ways(component, parameters=None, use_parent_parameters=None):
    from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer

    cdk = speedups.original(ManifestComponentTransformer, "propagate_types_and_parameters")

    class CdkTransformer(ManifestComponentTransformer):
        propagate_types_and_parameters = cdk  # the CDK's own method, all the way down

    given = copy.deepcopy(component)
    theirs = CdkTransformer().propagate_types_and_parameters("", component, parameters or {}, use_parent_parameters)
    ours = speedups._propagate_types_and_parameters(ManifestComponentTransformer(), "", component, parameters or {},
                                                    use_parent_parameters)
    assert component == given  # neither changes what it is given
    return theirs, ours


def test_given_the_whole_manifest_then_the_fast_transformer_equals_the_cdks():
    from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

    from source_hubspot.source import load_manifest

    manifest = ManifestReferenceResolver().preprocess_manifest({**copy.deepcopy(dict(load_manifest())), "type": "DeclarativeSource"})
    theirs, ours = _transformer_both_ways(manifest)
    assert ours == theirs
    assert len(theirs["streams"]) > 40


def test_given_shared_subtrees_and_list_parameters_then_the_fast_transformer_equals_the_cdks_and_shares_nothing():
    shared_schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    shared_paginator = {"type": "DefaultPaginator", "page_size_option": {"inject_into": "request_parameter", "field_name": "limit"},
                        "pagination_strategy": {"type": "CursorPagination", "cursor_value": "{{ response.next }}"}}
    stream = {
        "type": "DeclarativeStream",
        "$parameters": {"name": "s", "transformations": [{"type": "AddFields", "fields": []}], "tags": ["a", ["b"]]},
        "retriever": {"type": "SimpleRetriever", "paginator": shared_paginator,
                      "requester": {"type": "HttpRequester", "url_base": "http://x", "path": "/p",
                                    "request_parameters": {"q": {"type": "QueryProperties", "property_list": ["a"]},
                                                           "static": {"k": ["v"]}}},
                      "record_selector": {"type": "RecordSelector", "extractor": {"type": "DpathExtractor", "field_path": []}}},
        "schema_loader": {"type": "InlineSchemaLoader", "schema": shared_schema},
        "notes": {"plain": [1, {"x": shared_schema}]},
    }
    manifest = {"type": "DeclarativeSource", "streams": [stream, {**stream, "$parameters": {"name": "t"}}],
                "definitions": {"p": shared_paginator}}
    for use_parent in (None, True):
        theirs, ours = _transformer_both_ways(manifest, {"outer": {"k": 1}}, use_parent)
        assert ours == theirs
    given = {id(node) for node in _containers(manifest)}
    assert not [node for node in _containers(ours) if id(node) in given]  # the answer shares no dict or list with the input
    first, second = ours["streams"]
    first["retriever"]["paginator"]["page_size_option"]["field_name"] = "changed"
    first["schema_loader"]["schema"]["properties"]["id"]["type"] = "changed"
    first["$parameters"]["transformations"][0]["fields"].append("changed")
    assert second["retriever"]["paginator"]["page_size_option"]["field_name"] == "limit"
    assert second["schema_loader"]["schema"]["properties"]["id"]["type"] == "string"
    assert shared_schema["properties"]["id"]["type"] == "string" and ours["definitions"]["p"]["page_size_option"]["field_name"] == "limit"


def _containers(node):
    if isinstance(node, (dict, list)):
        yield node
        for child in node.values() if isinstance(node, dict) else node:
            yield from _containers(child)


def test_given_the_packaged_manifest_then_it_is_valid_against_the_cdks_component_schema():
    # Sources built from it skip this check at start-up (speedups._validate_source); this test stands in for it.
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import get_declarative_component_schema, validate_manifest
    from jsonschema.exceptions import ValidationError

    from source_hubspot.source import SourceHubspot, load_manifest

    from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

    def prepared():  # as the source holds it when the CDK validates it: references resolved, types propagated
        resolved = ManifestReferenceResolver().preprocess_manifest({"type": "DeclarativeSource", **copy.deepcopy(dict(load_manifest()))})
        return ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})

    assert SourceHubspot.PACKAGED_MANIFEST
    schema = get_declarative_component_schema()
    validate_manifest(prepared(), schema)
    broken = prepared()
    broken["streams"][0]["type"] = "NoSuchStream"
    with pytest.raises(ValidationError):  # the check can fail
        validate_manifest(broken, schema)


def test_given_a_custom_component_class_then_its_type_hints_are_read_once_and_handed_out_as_copies():
    class Component:
        size: int
        name: str

    first = speedups._type_hints(Component)
    first["size"] = "changed"
    assert speedups._type_hints(Component) == {"size": int, "name": str}
    assert Component in speedups._TYPE_HINTS
