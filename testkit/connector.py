"""The connector in-process, as the requests-mock tests run it: configs, catalogs, saved states, and `read`,
`check` and `discover` through the CDK's entrypoint wrapper."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping

from airbyte_cdk.models import (
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    StreamDescriptor,
    SyncMode,
)
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, discover, make_file, read

from source_hubspot.source import SourceHubspot
from testkit.harness import configured_catalog, stdout_messages

# The credentials of the test configs; the secret tests look for each of them in everything the connector prints.
PRIVATE_TOKEN = "pat-na1-0000-secret-token"
CLIENT_SECRET = "client-secret-value-123"
REFRESH_TOKEN = "refresh-token-value-456"
ACCESS_TOKEN = "oauth-access-token-789"

# Most tests mock search pages only; first syncs read by list and search at once are tested in test_first_sync.py.
SEARCH_ONLY = {"first_sync_list_reads": False}
# The requests-mock tests' URLs are HubSpot's numbered paths (/crm/v3/..., /crm/v4/associations, /oauth/v1/token):
# their configs say so. Tests of the date-versioned paths (the default) set api_version themselves.
NUMBERED_PATHS = {"api_version": "v3"}
# One search window from 2024 to now: a read makes one search per page (the default start date makes ~20 windows).
ONE_WINDOW = {"start_date": "2024-01-01T00:00:00Z", "window_days": 3650}


def private_app_config(**extra: Any) -> Dict[str, Any]:
    config = {"credentials": {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN},
              **SEARCH_ONLY, **NUMBERED_PATHS}
    config.update(extra)
    return config


def oauth_config(**extra: Any) -> Dict[str, Any]:
    config = {
        "credentials": {
            "credentials_title": "OAuth Credentials",
            "client_id": "client-id-1",
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        },
        **SEARCH_ONLY,
        **NUMBERED_PATHS,
    }
    config.update(extra)
    return config


def catalog(*streams: str, sync_mode: SyncMode = SyncMode.full_refresh) -> ConfiguredAirbyteCatalog:
    """The configured catalog the sandbox harness writes, as the CDK's model."""
    return ConfiguredAirbyteCatalogSerializer.load(configured_catalog(streams, incremental=sync_mode == SyncMode.incremental))


def stream_state(stream: str, value: Mapping[str, Any]) -> List[AirbyteStateMessage]:
    return [
        AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name=stream), stream_state=AirbyteStateBlob(**value)),
        )
    ]


def run_read(config, configured_catalog, state=None, expecting_exception: bool = False) -> EntrypointOutput:
    source = SourceHubspot(catalog=configured_catalog, config=config, state=state)
    return read(source, config, configured_catalog, state, expecting_exception=expecting_exception)


def run_discover(config, expecting_exception: bool = False) -> EntrypointOutput:
    return discover(SourceHubspot(config=config), config, expecting_exception=expecting_exception)


def run_check(config) -> EntrypointOutput:
    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp) / "config.json", config)
        return _run_command(SourceHubspot(config=config), ["check", "--config", path], expecting_exception=True)


def check_status(output: EntrypointOutput):
    statuses = output.connection_status_messages
    return statuses[-1].connectionStatus if statuses else None


def control_messages(text: str) -> List[Dict[str, Any]]:
    return [m for m in stdout_messages(text) if m.get("type") == "CONTROL"]
