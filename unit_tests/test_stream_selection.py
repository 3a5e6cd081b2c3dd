"""A read builds only the streams its catalog names (plus contacts, the check stream); discover and check build all."""

from __future__ import annotations

from source_hubspot.source import SourceHubspot, load_manifest, only_streams
from unit_tests.conftest import catalog, private_app_config


def _built(source: SourceHubspot) -> list:
    return sorted(stream.name for stream in source.streams(config=private_app_config()))


def test_given_a_catalog_then_only_its_streams_and_contacts_are_built():
    source = SourceHubspot(catalog=catalog("companies", "owners"), config=private_app_config(), state=None)
    assert _built(source) == ["companies", "contacts", "owners"]


def test_given_no_catalog_then_every_stream_is_built():
    every = [entry for entry in load_manifest()["streams"]]
    assert len(_built(SourceHubspot(config=private_app_config()))) == len(every) == 18


def test_only_streams_keeps_the_named_definitions():
    manifest = load_manifest()
    kept = only_streams(manifest, {"deals", "merges"})
    assert [entry["$ref"] for entry in kept] == ["#/definitions/deals_stream", "#/definitions/merges_stream"]


def test_first_syncs_are_the_streams_without_saved_state_or_in_full_refresh():
    from airbyte_cdk.models import SyncMode

    from source_hubspot.source import first_syncs
    from unit_tests.conftest import stream_state

    incremental = catalog("contacts", "companies", sync_mode=SyncMode.incremental)
    saved = stream_state("contacts", {"updatedAt": "2024-01-01T00:00:00.000000Z"})
    assert first_syncs(incremental, saved) == ["companies"]
    assert first_syncs(incremental, stream_state("contacts", {})) == ["contacts", "companies"]
    assert first_syncs(catalog("contacts"), saved) == ["contacts"]  # a full refresh reads everything anyway
