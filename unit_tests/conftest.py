"""Builders shared by the unit tests: configs, catalogs, HubSpot response bodies, and a read helper."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
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
from airbyte_cdk.test.entrypoint_wrapper import (
    EntrypointOutput,
    _run_command,
    discover,
    make_file,
    read,
)

from integration_tests.harness import configured_catalog
from source_hubspot.source import SourceHubspot

API = "https://api.hubapi.com"
TOKEN_URL = f"{API}/oauth/v1/token"
PRIVATE_TOKEN = "pat-na1-0000-secret-token"
CLIENT_SECRET = "client-secret-value-123"
REFRESH_TOKEN = "refresh-token-value-456"
ACCESS_TOKEN = "oauth-access-token-789"


# These tests mock search pages only; first syncs read by list and search at once are tested in test_first_sync.py.
SEARCH_ONLY = {"first_sync_list_reads": False}


def private_app_config(**extra: Any) -> Dict[str, Any]:
    config = {"credentials": {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN}, **SEARCH_ONLY}
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
    }
    config.update(extra)
    return config


def catalog(*streams: str, sync_mode: SyncMode = SyncMode.full_refresh):
    """The configured catalog the integration harness writes, as the CDK's model."""
    return ConfiguredAirbyteCatalogSerializer.load(
        configured_catalog(streams, incremental=sync_mode == SyncMode.incremental)
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
    from source_hubspot.budget import forget_budgets
    from source_hubspot.components.associations import DeniedAssociations
    from source_hubspot.components.auth import DailyLimit, HubspotOAuthAuthenticator
    from source_hubspot.components.memos import ArchivedRecords, EarliestModification, PropertyDefinitions

    def forget() -> None:
        for memo in (PropertyDefinitions, ArchivedRecords, EarliestModification):
            memo.clear()
        HubspotOAuthAuthenticator.forget_tokens()
        DailyLimit.reset()
        DeniedAssociations.clear()
        forget_budgets()

    forget()
    yield
    forget()


# ----------------------------------------------------------------------------------------------------------------
# HubSpot's real error bodies and small helpers for the auth, check, error and secret tests
# ----------------------------------------------------------------------------------------------------------------

# One search window from 2024 to now: a read makes one search per page (the default start date makes ~20 windows).
ONE_WINDOW = {"start_date": "2024-01-01T00:00:00Z", "window_days": 3650}

INVALID_AUTHENTICATION = {
    "status": "error",
    "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    "correlationId": "c1",
    "category": "INVALID_AUTHENTICATION",
}
EXPIRED_AUTHENTICATION = {
    "status": "error",
    "message": "The OAuth token used to make this call expired 5 second(s) ago.",
    "correlationId": "c2",
    "category": "EXPIRED_AUTHENTICATION",
    "context": {},
}


def missing_scopes(scope: str = "crm.objects.contacts.read", legacy: bool = False) -> Dict[str, Any]:
    """403 MISSING_SCOPES; `legacy` is the older form with context.requiredScopes."""
    context_key = "requiredScopes" if legacy else "requiredGranularScopes"
    return {
        "status": "error",
        "message": "This app hasn't been granted all required scopes to make this call. Read more about required "
        "scopes here: https://developers.hubspot.com/scopes.",
        "correlationId": "c3",
        "errors": [{"message": "One or more of the following scopes are required.", "context": {context_key: [scope]}}],
        "links": {"scopes": "https://developers.hubspot.com/scopes"},
        "category": "MISSING_SCOPES",
    }


NO_API_ACCESS = {
    "status": "error",
    "message": "This portal does not have access to this API.",
    "correlationId": "c4",
    "category": "FORBIDDEN",
}
DAILY_LIMIT = {
    "status": "error",
    "message": "You have reached your daily limit.",
    "errorType": "RATE_LIMIT",
    "correlationId": "c6",
    "policyName": "DAILY",
}
TEN_SECONDLY_LIMIT = {
    "status": "error",
    "message": "You have reached your ten_secondly_rolling limit.",
    "errorType": "RATE_LIMIT",
    "correlationId": "c7",
    "policyName": "TEN_SECONDLY_ROLLING",
}
BAD_REFRESH_TOKEN = {"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token", "correlationId": "c5"}
BAD_CLIENT_ID = {"status": "BAD_CLIENT_ID", "message": "missing or unknown client id", "correlationId": "c8"}
BAD_CLIENT_SECRET = {"status": "BAD_CLIENT_SECRET", "message": "missing or invalid client secret", "correlationId": "c9"}


def token_response(access_token: str = ACCESS_TOKEN, refresh_token: str = REFRESH_TOKEN, expires_in: int = 1800) -> Dict[str, Any]:
    return {"token_type": "bearer", "refresh_token": refresh_token, "access_token": access_token, "expires_in": expires_in}


def mock_contacts(requests_mock, search: Any = None, api: str = API, count: int = 0) -> None:
    """Properties, search (one contact unless `search` is a requests-mock response list), the completeness check's
    count (`count`) and empty associations."""
    requests_mock.get(f"{api}/crm/v3/properties/contacts", json=properties_body(CONTACT_PROPERTIES))
    mock_search(requests_mock, "contacts", search or [{"json": search_page([contact(1)])}], count, api)
    for to_type in ("companies", "deals", "tickets"):
        requests_mock.post(
            f"{api}/crm/v4/associations/contacts/{to_type}/batch/read", json={"status": "COMPLETE", "results": []}
        )


def api_requests(requests_mock) -> List[Any]:
    """Every request that reached HubSpot's API, token requests left out."""
    return [r for r in requests_mock.request_history if "/oauth/" not in r.path]


def token_requests(requests_mock) -> List[Any]:
    return [r for r in requests_mock.request_history if "/oauth/" in r.path]


def mock_search(requests_mock, object_type: str, pages: Any, count: int = 0, api: str = API) -> None:
    """Search pages (a requests-mock response list) and, apart from them, the completeness check's count."""
    url = f"{api}/crm/v3/objects/{object_type}/search"
    requests_mock.post(url, pages, additional_matcher=lambda request: not is_count(request))
    requests_mock.post(url, json={"total": count, "results": []}, additional_matcher=is_count)


def is_count(request: Any) -> bool:
    """A completeness check's search (source_hubspot/completeness.py): limit 1, no sort."""
    body = json.loads(request.body) if request.body else {}
    return body.get("limit") == 1 and "sorts" not in body


def search_requests(requests_mock) -> List[Any]:
    """The search pages read (completeness counts left out: count_requests)."""
    return [r for r in requests_mock.request_history if r.path.endswith("/search") and not is_count(r)]


def count_requests(requests_mock) -> List[Any]:
    return [r for r in requests_mock.request_history if r.path.endswith("/search") and is_count(r)]


def stdout_messages(text: str) -> List[Dict[str, Any]]:
    """The Airbyte messages a run printed straight to stdout (CONTROL messages are printed, not yielded)."""
    messages = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                messages.append(json.loads(line))
            except ValueError:
                continue
    return messages


def control_messages(text: str) -> List[Dict[str, Any]]:
    return [m for m in stdout_messages(text) if m.get("type") == "CONTROL"]


def mock_missing_scope(requests_mock, failing: str, legacy: bool, scope: str = "crm.objects.contacts.read") -> None:
    """Contacts mocks where the properties GET or the search POST answers 403 MISSING_SCOPES."""
    mock_contacts(requests_mock)
    body = missing_scopes(scope, legacy=legacy)
    if failing == "properties":
        requests_mock.get(f"{API}/crm/v3/properties/contacts", status_code=403, json=body)
    else:
        requests_mock.post(f"{API}/crm/v3/objects/contacts/search", status_code=403, json=body)
