"""No credential reaches the output: every line of spec, check, discover and read (debug logs included) is scanned
for the client secret, the refresh tokens and the access tokens.

CONTROL messages are left out of the scan on purpose: a CONNECTOR_CONFIG control message carries the whole config,
rotated refresh token included, to the platform, which stores it as the new config. Everything else (records, state,
logs, traces, connection status, catalog, spec) is scanned.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Iterable, List

import pytest
from airbyte_cdk.logger import AirbyteLogFormatter
from airbyte_cdk.models import (
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalogSerializer,
    Status,
)
from airbyte_cdk.test.entrypoint_wrapper import (
    EntrypointOutput,
    _run_command,
    make_file,
    read,
)
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets

from source_hubspot.source import SourceHubspot
from testkit.connector import (
    ACCESS_TOKEN,
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
)
from testkit.mock_server import (
    API,
    BAD_CLIENT_SECRET,
    CONTACT_PROPERTIES,
    INVALID_AUTHENTICATION,
    TOKEN_URL,
    mock_contacts,
    properties_body,
    schema,
    schemas_body,
    token_response,
    validation_error,
)

ROTATED_REFRESH_TOKEN = "rotated-refresh-token-secret-31337"


@pytest.fixture(autouse=True)
def _no_secrets_registered_before_the_run():
    """The CDK's secret list is process-wide: a secret registered by an earlier test must not mask a leak here."""
    update_secrets([])
    yield
    update_secrets([])


@pytest.fixture(autouse=True)
def connector_log():
    """Every log line at DEBUG and up, formatted as the connector prints it (AirbyteLogFormatter filters secrets).

    The CDK's own stdout handler was bound before capsys replaced stdout, and EntrypointOutput keeps INFO and up only.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(AirbyteLogFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield buffer
    root.removeHandler(handler)


def _lines(outputs: Iterable[EntrypointOutput], captured, connector_log: io.StringIO) -> List[str]:
    """Every message the runs yielded, everything printed to stdout/stderr, and every log line; CONTROL left out."""
    printed = captured.out + captured.err + connector_log.getvalue()
    lines = []
    for output in outputs:
        for message in output._messages or []:
            if message.type.value != "CONTROL":
                lines.append(json.dumps(AirbyteMessageSerializer.dump(message)))
    for line in printed.splitlines():
        if '"type":"CONTROL"' not in line.replace(" ", ""):
            lines.append(line)
    return lines


def _assert_no_secret(lines: List[str], secrets: Iterable[str]) -> None:
    leaks = [(secret, line[:400]) for line in lines for secret in secrets if secret and secret in line]
    assert not leaks, leaks


def _command(source, args, config, catalog_=None) -> EntrypointOutput:
    with tempfile.TemporaryDirectory() as tmp:
        full = list(args)
        if config is not None:
            full += ["--config", make_file(Path(tmp) / "config.json", config)]
        if catalog_ is not None:
            full += [
                "--catalog",
                make_file(Path(tmp) / "catalog.json", json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog_))),
            ]
        return _run_command(source, full + ["--debug"], expecting_exception=True)


def _mock_all_properties(requests_mock) -> None:
    """Discover reads every stream's property definitions (registered first so specific mocks still win), and the
    portal's custom objects (one here, typed from its schema)."""
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"), json=properties_body(CONTACT_PROPERTIES))
    requests_mock.get(f"{API}/crm/v3/schemas", json=schemas_body(schema("2-4587120", "machines", associated=["0-2"])))


class RotatingTokenEndpoint:
    """A distinct access token per refresh, and a rotated refresh token."""

    def __init__(self) -> None:
        self.issued: List[str] = []
        self._counter = itertools.count(1)

    def __call__(self, request, context):
        token = f"{ACCESS_TOKEN}-issued-{next(self._counter)}"
        self.issued.append(token)
        return token_response(access_token=token, refresh_token=ROTATED_REFRESH_TOKEN)


def _run(command: str, config) -> EntrypointOutput:
    """One connector command in debug mode; each test runs one, as the platform runs one command per process."""
    if command == "spec":
        return _command(SourceHubspot(), ["spec"], None)
    if command == "read":
        return _command(SourceHubspot(catalog=catalog("contacts"), config=config), ["read"], config, catalog("contacts"))
    return _command(SourceHubspot(config=config), [command], config)


def _assert_command_worked(command: str, output: EntrypointOutput) -> None:
    if command == "spec":
        assert output.spec_messages
    elif command == "check":
        assert check_status(output).status == Status.SUCCEEDED
    elif command == "discover":
        assert output.catalog.catalog.streams
    else:
        assert len(output.records) == 1


@pytest.mark.parametrize("command", ["spec", "check", "discover", "read"])
def test_given_oauth_when_command_runs_in_debug_then_no_secret_is_printed(
    requests_mock, capsys, connector_log, command
):
    endpoint = RotatingTokenEndpoint()
    requests_mock.post(TOKEN_URL, json=endpoint)
    _mock_all_properties(requests_mock)
    mock_contacts(requests_mock)

    output = _run(command, oauth_config(**ONE_WINDOW))
    printed = capsys.readouterr()

    _assert_command_worked(command, output)
    lines = _lines([output], printed, connector_log)
    if command != "spec":
        assert endpoint.issued, "no access token was issued, so none could leak"
        assert any("api.hubapi.com/crm/" in line for line in lines), "the debug log of the API calls was not scanned"
        # The rotated refresh token reached the platform in the one place it must.
        assert [
            c["control"]["connectorConfig"]["config"]["credentials"]["refresh_token"]
            for c in control_messages(printed.out)
        ] == [ROTATED_REFRESH_TOKEN]
    _assert_no_secret(lines, [CLIENT_SECRET, REFRESH_TOKEN, ROTATED_REFRESH_TOKEN, *endpoint.issued])


@pytest.mark.parametrize("command", ["check", "discover", "read"])
def test_given_private_app_when_command_runs_in_debug_then_the_token_is_not_printed(
    requests_mock, capsys, connector_log, command
):
    _mock_all_properties(requests_mock)
    mock_contacts(requests_mock)

    output = _run(command, private_app_config(**ONE_WINDOW))
    printed = capsys.readouterr()

    _assert_command_worked(command, output)
    lines = _lines([output], printed, connector_log)
    assert any("api.hubapi.com/crm/" in line for line in lines), "the debug log of the API calls was not scanned"
    _assert_no_secret(lines, [PRIVATE_TOKEN])


def _reject_private_app_token(requests_mock):
    requests_mock.get(f"{API}/crm/v3/properties/contacts", status_code=401, json=INVALID_AUTHENTICATION)
    return private_app_config(**ONE_WINDOW), [PRIVATE_TOKEN]


def _reject_client_secret(requests_mock):
    requests_mock.post(TOKEN_URL, status_code=400, json=BAD_CLIENT_SECRET)
    return oauth_config(**ONE_WINDOW), [CLIENT_SECRET, REFRESH_TOKEN]


@pytest.mark.parametrize("reject", [_reject_private_app_token, _reject_client_secret], ids=["private-app", "oauth"])
def test_given_hubspot_rejects_the_credentials_when_check_and_read_then_no_secret_is_printed(
    requests_mock, capsys, connector_log, reject
):
    mock_contacts(requests_mock)
    config, secrets = reject(requests_mock)

    outputs = [
        _command(SourceHubspot(config=config), ["check"], config),
        _command(SourceHubspot(catalog=catalog("contacts"), config=config), ["read"], config, catalog("contacts")),
    ]
    printed = capsys.readouterr()

    assert check_status(outputs[0]).status == Status.FAILED
    assert outputs[1].errors
    _assert_no_secret(_lines(outputs, printed, connector_log), secrets)


def test_given_camel_case_config_when_read_then_no_secret_is_printed_outside_the_migration_control_message(
    requests_mock, capsys, connector_log
):
    requests_mock.post(TOKEN_URL, json=token_response())
    mock_contacts(requests_mock)
    config = {"clientId": "camel-id", "clientSecret": CLIENT_SECRET, "refreshToken": REFRESH_TOKEN, **ONE_WINDOW, **SEARCH_ONLY,
              **NUMBERED_PATHS}

    output = read(SourceHubspot(catalog=catalog("contacts"), config=config), config, catalog("contacts"), debug=True)
    printed = capsys.readouterr()

    assert len(output.records) == 1
    assert len(control_messages(printed.out)) == 1
    _assert_no_secret(_lines([output], printed, connector_log), [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN])


def test_given_hubspot_echoes_the_token_in_an_error_when_the_connector_runs_then_the_token_is_masked(
    requests_mock, capsys, connector_log, tmp_path
):
    from source_hubspot.run import run

    config_path = tmp_path / "config.json"
    catalog_path = tmp_path / "catalog.json"
    config_path.write_text(json.dumps(private_app_config(**ONE_WINDOW)))
    catalog_path.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog("contacts"))))
    mock_contacts(requests_mock)
    requests_mock.post(
        f"{API}/crm/v3/objects/contacts/search",
        status_code=400,
        json=validation_error(f"Invalid token {PRIVATE_TOKEN}"),
    )

    with pytest.raises(Exception):
        run(["read", "--config", str(config_path), "--catalog", str(catalog_path)])
    printed = capsys.readouterr()

    errors = [m for m in (json.loads(l) for l in printed.out.splitlines() if l.startswith("{")) if m.get("type") == "TRACE"]
    assert any(m["trace"].get("type") == "ERROR" for m in errors), "the 400 produced no TRACE error"
    _assert_no_secret(_lines([], printed, connector_log), [PRIVATE_TOKEN])
