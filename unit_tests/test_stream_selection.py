"""A read builds only the streams its catalog names (plus contacts, the check stream); discover and check build all."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import SyncMode

from source_hubspot.source import SourceHubspot, load_manifest, only_streams
from testkit.connector import catalog, private_app_config
from testkit.mock_server import mock_no_custom_objects


def _built(source: SourceHubspot) -> list:
    return sorted(stream.name for stream in source.streams(config=private_app_config()))


def test_given_a_catalog_then_only_its_streams_and_contacts_are_built():
    source = SourceHubspot(catalog=catalog("companies", "owners"), config=private_app_config(), state=None)
    assert _built(source) == ["companies", "contacts", "owners"]


def test_given_no_catalog_then_every_stream_is_built(requests_mock):
    mock_no_custom_objects(requests_mock)  # discover also asks for the portal's custom objects: here none
    every = [entry for entry in load_manifest()["streams"]]
    assert len(_built(SourceHubspot(config=private_app_config()))) == len(every) == 41


def test_given_property_history_of_other_streams_then_one_history_stream_each_is_built_besides_the_manifests(requests_mock):
    mock_no_custom_objects(requests_mock)
    config = private_app_config(property_history=[{"stream": "engagements_tasks", "properties": ["hs_task_status"]},
                                                  {"stream": "deals", "properties": ["amount"]}])
    built = sorted(stream.name for stream in SourceHubspot(config=config).streams(config=config))
    assert len(built) == len(load_manifest()["streams"]) + 1
    assert "engagements_tasks_property_history" in built and built.count("deals_property_history") == 1


def test_given_a_catalog_of_built_in_streams_then_custom_objects_are_not_asked_for(requests_mock):
    built = _built(SourceHubspot(catalog=catalog("companies"), config=private_app_config(), state=None))

    assert built == ["companies", "contacts"] and requests_mock.request_history == []


def test_only_streams_keeps_the_named_definitions():
    manifest = load_manifest()
    kept = only_streams(manifest, {"deals", "merges"})
    assert [entry["$ref"] for entry in kept] == ["#/definitions/deals_stream", "#/definitions/merges_stream"]


@pytest.mark.parametrize(
    "sync_mode, saved, list_reads",
    [
        (SyncMode.incremental, None, True),  # no saved state: a first sync, by list and search at once
        (SyncMode.incremental, {}, True),  # an empty saved state is none
        (SyncMode.incremental, {"updatedAt": "2024-01-01T00:00:00.000000Z"}, False),  # windows from the state, by search
        (SyncMode.full_refresh, {"updatedAt": "2024-01-01T00:00:00.000000Z"}, True),  # a full refresh reads everything
    ],
    ids=["no-state", "empty-state", "saved-state", "full-refresh-with-state"],
)
def test_the_first_sync_path_is_the_cdks_choice_by_saved_state(requests_mock, sync_mode, saved, list_reads):
    from testkit.connector import run_read, stream_state
    from testkit.mock_server import contact, mock_contacts, search_page

    mock_contacts(requests_mock, search=[{"json": search_page([contact(1)])}])
    state = None if saved is None else stream_state("contacts", saved)
    output = run_read(private_app_config(first_sync_list_reads=True), catalog("contacts", sync_mode=sync_mode), state)

    assert {r.record.data["id"] for r in output.records} == {"1"}
    listed = [r for r in requests_mock.request_history if r.method == "GET" and r.path == "/crm/v3/objects/contacts"]
    assert bool(listed) == list_reads


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


def test_given_a_catalog_then_the_unread_stream_entries_are_left_out_of_the_definitions_and_the_rest_kept():
    from source_hubspot.source import without_unread_definitions

    manifest = load_manifest()
    kept = only_streams(manifest, {"contacts", "engagements", "goals", "contacts_property_history"})

    definitions = without_unread_definitions(manifest, kept)

    assert {"contacts_stream", "engagements_stream", "goals_stream", "contacts_property_history_stream"} <= set(definitions)
    # what the kept entries refer to stays: their bases, the windows of engagements, the history table's base
    assert {"object_stream", "crm_object_stream", "engagements_windows", "property_history_stream"} <= set(definitions)
    assert not {"deals_stream", "products_stream", "users_stream", "merges_stream"} & set(definitions)
    assert set(manifest["definitions"]) - set(definitions) <= {entry["$ref"].rsplit("/", 1)[-1] for entry in manifest["streams"]}
