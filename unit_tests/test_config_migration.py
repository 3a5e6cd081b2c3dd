"""Configs written with HubSpot's camelCase integration parameters become the spec's `credentials` object: once,
announced to the platform with one CONTROL message, and saved to the config file."""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qs

import pytest
from airbyte_cdk.models import Status

from source_hubspot.source import SourceHubspot
from testkit.connector import (
    CLIENT_SECRET,
    ONE_WINDOW,
    PRIVATE_TOKEN,
    REFRESH_TOKEN,
    NUMBERED_PATHS,
    SEARCH_ONLY,
    catalog,
    check_status,
    control_messages,
    oauth_config,
    private_app_config,
    run_check,
    run_read,
)
from testkit.mock_server import TOKEN_URL, api_requests, mock_contacts, token_requests, token_response

CAMEL_OAUTH = {"clientId": "camel-client-id", "clientSecret": CLIENT_SECRET, "refreshToken": REFRESH_TOKEN}
MIGRATED_OAUTH = {
    "credentials_title": "OAuth Credentials",
    "client_id": "camel-client-id",
    "client_secret": CLIENT_SECRET,
    "refresh_token": REFRESH_TOKEN,
}
MIGRATED_PRIVATE_APP = {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN}

CASES = {
    "flat": ({**CAMEL_OAUTH, "start_date": "2024-01-01T00:00:00Z"}, MIGRATED_OAUTH, {"start_date": "2024-01-01T00:00:00Z"}),
    "under_credentials": ({"credentials": dict(CAMEL_OAUTH)}, MIGRATED_OAUTH, {}),
    "experience_platform_auth_params": (
        {"auth": {"specName": "OAuth2 Refresh Code", "params": dict(CAMEL_OAUTH)}, "window_days": 30},
        MIGRATED_OAUTH,
        {"window_days": 30},
    ),
    "access_token_alone": ({"accessToken": PRIVATE_TOKEN}, MIGRATED_PRIVATE_APP, {}),
    "access_token_under_auth_params": (
        {"auth": {"specName": "Private App", "params": {"accessToken": PRIVATE_TOKEN}}},
        MIGRATED_PRIVATE_APP,
        {},
    ),
}


def _construct(config, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    capsys.readouterr()
    SourceHubspot(config=copy.deepcopy(config), config_path=str(path))
    return path, control_messages(capsys.readouterr().out)


@pytest.mark.parametrize("case", list(CASES))
def test_given_camel_case_config_when_source_starts_then_one_control_message_and_the_file_carry_the_spec_shape(
    case, tmp_path, capsys
):
    config, expected_credentials, kept = CASES[case]

    path, controls = _construct(config, tmp_path, capsys)

    assert json.loads(path.read_text()) == {"credentials": expected_credentials, **kept}

    assert len(controls) == 1, controls
    control = controls[0]["control"]
    assert control["type"] == "CONNECTOR_CONFIG"
    migrated = control["connectorConfig"]["config"]
    assert migrated["credentials"] == expected_credentials
    assert {k: v for k, v in migrated.items() if k != "credentials"} == kept
    for camel in ("clientId", "clientSecret", "refreshToken", "accessToken", "auth"):
        assert camel not in migrated


@pytest.mark.parametrize("config", [oauth_config(), private_app_config(start_date="2024-01-01T00:00:00Z")])
def test_given_spec_shaped_config_when_source_starts_then_no_control_message_and_file_untouched(config, tmp_path, capsys):
    path, controls = _construct(config, tmp_path, capsys)

    assert controls == []
    assert json.loads(path.read_text()) == config


def test_given_migrated_config_when_source_starts_again_then_nothing_more_is_emitted(tmp_path, capsys):
    config, _, _ = CASES["experience_platform_auth_params"]
    path, first = _construct(config, tmp_path, capsys)
    rewritten = json.loads(path.read_text())

    _, second = _construct(rewritten, tmp_path, capsys)

    assert len(first) == 1
    assert second == []


def test_given_camel_case_config_when_migrated_then_it_validates_against_the_spec(tmp_path, capsys):
    import logging

    import jsonschema

    config, _, _ = CASES["flat"]
    path, _ = _construct(config, tmp_path, capsys)

    spec = SourceHubspot().spec(logging.getLogger("airbyte")).connectionSpecification
    jsonschema.validate(json.loads(path.read_text()), spec)


def test_given_experience_platform_config_when_read_then_token_request_uses_the_migrated_client_credentials(
    requests_mock, capsys
):
    requests_mock.post(TOKEN_URL, json=token_response())
    mock_contacts(requests_mock)
    config = {"auth": {"specName": "OAuth2 Refresh Code", "params": dict(CAMEL_OAUTH)}, **ONE_WINDOW, **SEARCH_ONLY, **NUMBERED_PATHS}

    output = run_read(config, catalog("contacts"))

    assert len(output.records) == 1
    form = {k: v[0] for k, v in parse_qs(token_requests(requests_mock)[0].body).items()}
    assert form["client_id"] == "camel-client-id"
    assert form["client_secret"] == CLIENT_SECRET
    assert form["grant_type"] == "refresh_token"


def test_given_access_token_alone_when_check_then_private_app_bearer_is_used(requests_mock, capsys):
    mock_contacts(requests_mock)

    output = run_check({"accessToken": PRIVATE_TOKEN, **NUMBERED_PATHS})

    assert check_status(output).status == Status.SUCCEEDED
    assert token_requests(requests_mock) == []
    assert {r.headers["Authorization"] for r in api_requests(requests_mock)} == {f"Bearer {PRIVATE_TOKEN}"}
