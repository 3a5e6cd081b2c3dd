"""A read builds only the streams its catalog names (plus contacts, the check stream); discover and check build all."""

from __future__ import annotations

from source_hubspot.source import SourceHubspot, load_manifest, only_streams
from testkit.connector import catalog, private_app_config


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
    from testkit.connector import stream_state

    incremental = catalog("contacts", "companies", sync_mode=SyncMode.incremental)
    saved = stream_state("contacts", {"updatedAt": "2024-01-01T00:00:00.000000Z"})
    assert first_syncs(incremental, saved) == ["companies"]
    assert first_syncs(incremental, stream_state("contacts", {})) == ["contacts", "companies"]
    assert first_syncs(catalog("contacts"), saved) == ["contacts"]  # a full refresh reads everything anyway


def test_given_an_incremental_read_by_search_windows_then_each_windows_slice_is_hashed_once_not_per_record(requests_mock, monkeypatch):
    # The CDK's cursor looks every record's slice up in a dict; SliceHashedOnce keeps that to one hash per window
    # for every object stream, not only first syncs read by list and search.
    from airbyte_cdk.utils.slice_hasher import SliceHasher

    from testkit.connector import ONE_WINDOW, SEARCH_ONLY, catalog, private_app_config, run_read
    from testkit.mock_server import contact, mock_contacts, search_page

    records = [contact(i) for i in range(1, 301)]
    mock_contacts(requests_mock, search=[{"json": search_page(records)}])
    hashed = []
    original = SliceHasher.hash.__func__
    monkeypatch.setattr(SliceHasher, "hash", classmethod(lambda cls, *a, **k: hashed.append(1) or original(cls, *a, **k)))
    output = run_read(private_app_config(**ONE_WINDOW, **SEARCH_ONLY), catalog("contacts"))
    assert len(output.records) == 300
    assert len(hashed) < 50, f"{len(hashed)} slice hashes for 300 records"
