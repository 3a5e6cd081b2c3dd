"""Builders shared by the unit tests: configs, catalogs, HubSpot response bodies, and a read helper."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional

import pytest
from airbyte_cdk.models import (
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    ConfiguredAirbyteCatalogSerializer,
    StreamDescriptor,
    SyncMode,
)
import tempfile
from pathlib import Path

from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, discover, make_file, read

from source_hubspot.source import SourceHubspot

API = "https://api.hubapi.com"
TOKEN_URL = f"{API}/oauth/v1/token"
PRIVATE_TOKEN = "pat-na1-0000-secret-token"
CLIENT_SECRET = "client-secret-value-123"
REFRESH_TOKEN = "refresh-token-value-456"
ACCESS_TOKEN = "oauth-access-token-789"


def private_app_config(**extra: Any) -> Dict[str, Any]:
    config = {"credentials": {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN}}
    config.update(extra)
    return config


def oauth_config(**extra: Any) -> Dict[str, Any]:
    config = {
        "credentials": {
            "credentials_title": "OAuth Credentials",
            "client_id": "client-id-1",
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
    }
    config.update(extra)
    return config


def catalog(*streams: str, sync_mode: SyncMode = SyncMode.full_refresh):
    return ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {
                        "name": name,
                        "json_schema": {},
                        "supported_sync_modes": ["full_refresh", "incremental"],
                        "source_defined_cursor": True,
                        "default_cursor_field": ["updatedAt"],
                        "source_defined_primary_key": [["id"]],
                    },
                    "sync_mode": sync_mode.value,
                    "destination_sync_mode": "append" if sync_mode == SyncMode.incremental else "overwrite",
                    "cursor_field": ["updatedAt"],
                    "primary_key": [["id"]],
                }
                for name in streams
            ]
        }
    )


def stream_state(stream: str, value: Mapping[str, Any]) -> List[AirbyteStateMessage]:
    return [
        AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=stream), stream_state=AirbyteStateBlob(**value)
            ),
        )
    ]


def properties_body(names_and_types: Iterable[tuple]) -> Dict[str, Any]:
    return {
        "results": [
            {"name": name, "label": name, "type": kind, "fieldType": "text", "groupName": "info"}
            for name, kind in names_and_types
        ]
    }


CONTACT_PROPERTIES = [
    ("email", "string"),
    ("num_notes", "number"),
    ("hs_email_optout", "bool"),
    ("date_of_birth", "date"),
    ("lastmodifieddate", "datetime"),
    ("createdate", "datetime"),
    ("hs_object_id", "number"),
    ("location", "object_coordinates"),
]


def contact(record_id: int, updated: str = "2024-05-01T10:00:00.123Z", **props: Any) -> Dict[str, Any]:
    properties = {
        "email": f"c{record_id}@example.com",
        "num_notes": "3",
        "hs_email_optout": "false",
        "date_of_birth": "1990-02-03",
        "lastmodifieddate": updated,
        "createdate": "2023-01-01T00:00:00Z",
        "hs_object_id": str(record_id),
        "location": None,
    }
    properties.update(props)
    return {
        "id": str(record_id),
        "properties": properties,
        "createdAt": "2023-01-01T00:00:00Z",
        "updatedAt": updated,
        "archived": False,
    }


def search_page(records: List[Dict[str, Any]], more: bool = False, total: Optional[int] = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {"total": total if total is not None else len(records), "results": records}
    if more:
        body["paging"] = {"next": {"after": str(len(records))}}
    return body


def no_associations(requests_mock, from_type: str, to_types: Iterable[str]) -> None:
    for to_type in to_types:
        requests_mock.post(
            f"{API}/crm/v4/associations/{from_type}/{to_type}/batch/read",
            json={"status": "COMPLETE", "results": []},
        )


def run_read(config, configured_catalog, state=None, expecting_exception: bool = False) -> EntrypointOutput:
    source = SourceHubspot(catalog=configured_catalog, config=config, state=state)
    return read(source, config, configured_catalog, state, expecting_exception=expecting_exception)


def run_discover(config, expecting_exception: bool = False) -> EntrypointOutput:
    source = SourceHubspot(config=config)
    return discover(source, config, expecting_exception=expecting_exception)


def request_bodies(requests_mock, path_suffix: str) -> List[Dict[str, Any]]:
    return [json.loads(r.body) for r in requests_mock.request_history if r.path.endswith(path_suffix) and r.body]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    """No real sleeping in unit tests: retries back off for 0 s."""
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: None)


def run_check(config) -> EntrypointOutput:
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp) / "config.json", config)
        return _run_command(SourceHubspot(config=config), ["check", "--config", path], expecting_exception=True)


def check_status(output: EntrypointOutput):
    statuses = output.connection_status_messages
    return statuses[-1].connectionStatus if statuses else None


@pytest.fixture(autouse=True)
def _fresh_property_definitions():
    """Property definitions are memoised per process; each test is its own connector run."""
    from source_hubspot.components import ArchivedRecords, PropertyDefinitions

    PropertyDefinitions.clear()
    ArchivedRecords.clear()
    yield
    PropertyDefinitions.clear()
    ArchivedRecords.clear()
