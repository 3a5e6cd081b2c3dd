"""Bad config gets one config_error naming the field and the fix, through the real command-line entry point."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest

from source_hubspot import config_check, constants
from source_hubspot.config_check import config_problems
from source_hubspot.source import load_manifest
from testkit.connector import PRIVATE_TOKEN, private_app_config

PRIVATE = {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN}


@pytest.mark.parametrize(
    "config, field, fix",
    [
        ({"credentials": {"credentials_title": "API Key", "access_token": PRIVATE_TOKEN}}, "credentials.credentials_title", "Private App Credentials"),
        ({"credentials": {"credentials_title": "Private App Credentials", "access_token": " "}}, "credentials.access_token", "Service Key"),
        ({"credentials": {"credentials_title": "OAuth Credentials", "client_id": "id-1", "client_secret": "s-1"}}, "credentials.refresh_token", "OAuth flow"),
        ({"credentials": "token"}, "credentials", "credentials_title"),
        ({"credentials": PRIVATE, "start_date": "2024-13-01"}, "start_date", "YYYY-MM-DDTHH:MM:SSZ"),
        ({"credentials": PRIVATE, "start_date": "2024-02-30T00:00:00Z"}, "start_date", "valid"),
        ({"credentials": PRIVATE, "start_date": "2099-01-01T00:00:00Z"}, "start_date", "future"),
        ({"credentials": PRIVATE, "lookback_minutes": "ten"}, "lookback_minutes", "whole number"),
        ({"credentials": PRIVATE, "num_workers": 0}, "num_workers", "from 1 to 20"),
        ({"credentials": PRIVATE, "include_archived": "yes"}, "include_archived", "true or false"),
        ({"credentials": PRIVATE, "first_sync_list_reads": "no"}, "first_sync_list_reads", "true or false"),
        ({"credentials": PRIVATE, "calls_per_10_seconds": 1001}, "calls_per_10_seconds", "from 1 to 1000"),
        ({"credentials": PRIVATE, "retry_backoff_factor": -1}, "retry_backoff_factor", "number of seconds, 0 or more"),
        ({"credentials": PRIVATE, "api_base_url": "http://api.example.com"}, "api_base_url", "https://"),
        ({"credentials": PRIVATE, "oauth_token_url": "ftp://x"}, "oauth_token_url", "https://"),
        ({"credentials": PRIVATE, "property_history": {"tickets": ["subject"]}}, "property_history", "list of objects, each with stream and properties"),
        ({"credentials": PRIVATE, "property_history": ["tickets"]}, "property_history entry 1", "object with stream and properties"),
        ({"credentials": PRIVATE, "property_history": [{"stream": "tickets", "properties": ["a"]}, {"properties": ["a"]}]},
         "property_history entry 2 has no stream", "An object stream's name as discover shows it"),
        ({"credentials": PRIVATE, "property_history": [{"stream": "tickets", "properties": []}]},
         "property_history entry 1 has properties []", "at least 1 as text"),
        ({"credentials": PRIVATE, "property_history": [{"stream": " ", "properties": ["a"]}]}, "property_history entry 1 has stream ' '", "must be text"),
        ({"credentials": PRIVATE, "deals_history_properties": "amount"}, "deals_history_properties", "list of text"),
    ],
)
def test_given_a_config_mistake_when_checked_then_the_problem_names_field_and_fix(config, field, fix):
    problems = config_problems(config, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert len(problems) == 1, problems
    assert problems[0].startswith(field) and fix in problems[0]
    assert PRIVATE_TOKEN not in problems[0]


@pytest.mark.parametrize(
    "config",
    [
        private_app_config(),
        private_app_config(start_date="2024-01-01T00:00:00Z", lookback_minutes=0, include_archived=True,
                           api_base_url="http://127.0.0.1:8765", num_workers=8, retry_backoff_factor=0.5),
        private_app_config(property_history=[{"stream": "tickets", "properties": ["subject"]}],
                           contacts_history_properties=[]),
        {"credentials": {"credentials_title": "OAuth Credentials", "client_id": "i", "client_secret": "s", "refresh_token": "r"},
         "start_date": "", "oauth_token_url": "https://api.hubapi.com/oauth/2026-03/token"},
    ],
)
def test_given_a_valid_config_when_checked_then_no_problem(config):
    assert config_problems(config) == []


@pytest.fixture
def spec(monkeypatch):
    """The loaded connection specification, for a test to change: the checks read the changed one."""
    changed = copy.deepcopy(config_check.specification())
    monkeypatch.setattr(config_check, "specification", lambda: changed)
    return changed


def test_given_a_lower_maximum_in_the_spec_when_checked_then_the_check_and_its_message_follow_it(spec):
    config = private_app_config(num_workers=10)
    assert config_problems(config) == []

    spec["properties"]["num_workers"]["maximum"] = 8

    assert config_problems(config) == ["num_workers is 10: it must be from 1 to 8."]
    assert config_problems(private_app_config(num_workers="ten")) == ["num_workers is 'ten': it must be a whole number from 1 to 8."]


def test_given_a_stricter_pattern_in_the_spec_when_checked_then_a_value_it_refuses_is_named(spec):
    config = private_app_config(api_base_url="http://127.0.0.1:8765")
    assert config_problems(config) == []

    spec["properties"]["api_base_url"]["pattern"] = "^https://[^\\s]+$"

    [problem] = config_problems(config)
    assert problem.startswith("api_base_url 'http://127.0.0.1:8765' is not allowed: use an https:// URL")


def test_given_an_enum_and_a_required_field_in_the_spec_when_checked_then_each_is_named_with_its_fix(spec):
    spec["properties"]["region"] = {"type": "string", "title": "Region", "enum": ["eu1", "na1"], "order": 14}
    spec["required"] = [*spec["required"], "start_date"]

    assert config_problems(private_app_config(region="ap1")) == [
        "start_date is missing: set it (Start Date).",
        "region is 'ap1': it must be one of 'eu1', 'na1'.",
    ]


def test_given_a_credential_no_longer_required_by_the_spec_when_left_out_then_it_is_accepted_and_not_asked_for(spec):
    oauth = next(option for option in spec["properties"]["credentials"]["oneOf"]
                 if option["properties"]["credentials_title"]["const"] == constants.OAUTH_CREDENTIALS)
    config = {"credentials": {"credentials_title": "OAuth Credentials", "client_id": "i", "client_secret": "s"}}
    assert [p.split(":")[0] for p in config_problems(config)] == ["credentials.refresh_token is missing"]

    oauth["required"] = ["credentials_title", "client_id", "client_secret"]

    assert config_problems(config) == []
    [problem] = config_problems({"credentials": {"credentials_title": "API Key"}})
    assert "'OAuth Credentials' (with client_id, client_secret) or 'Private App Credentials' (with access_token)" in problem


def test_given_the_spec_then_its_credential_types_are_the_titles_the_components_use():
    options = config_check.specification()["properties"]["credentials"]["oneOf"]
    titles = {option["properties"]["credentials_title"]["const"] for option in options}
    assert titles == {constants.OAUTH_CREDENTIALS, constants.PRIVATE_APP_CREDENTIALS}


def _run(tmp_path, capsys, command, config):
    from source_hubspot.run import run

    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": []}))
    args = [command, "--config", str(config_path)] + (["--catalog", str(catalog_path)] if command == "read" else [])
    exit_code = 0
    try:
        run(args)
    except SystemExit as stop:
        exit_code = stop.code or 0
    except Exception:  # the CDK re-raises config errors of read/discover after printing their TRACE
        exit_code = 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return exit_code, lines


def test_given_bad_config_when_check_then_failed_status_names_every_problem(tmp_path, capsys):
    exit_code, lines = _run(tmp_path, capsys, "check", {"credentials": PRIVATE, "start_date": "2024-01-01", "window_days": 0})
    statuses = [m["connectionStatus"] for m in lines if m["type"] == "CONNECTION_STATUS"]
    assert exit_code == 0 and statuses and statuses[-1]["status"] == "FAILED"
    assert "start_date" in statuses[-1]["message"] and "window_days" in statuses[-1]["message"]
    assert "2 problems" in statuses[-1]["message"]


def test_given_a_changed_limit_in_the_manifest_when_check_runs_then_the_command_checks_the_new_limit(tmp_path, capsys, monkeypatch):
    import source_hubspot.source as source_module

    manifest = copy.deepcopy(dict(load_manifest()))
    manifest["spec"]["connection_specification"]["properties"]["window_days"]["maximum"] = 30
    monkeypatch.setattr(source_module, "load_manifest", lambda: copy.deepcopy(manifest))

    exit_code, lines = _run(tmp_path, capsys, "check", private_app_config(window_days=90))

    statuses = [m["connectionStatus"] for m in lines if m["type"] == "CONNECTION_STATUS"]
    assert exit_code == 0 and statuses[-1]["status"] == "FAILED"
    assert statuses[-1]["message"] == "The config has a problem: window_days is 90: it must be from 1 to 30."


def test_given_bad_config_when_read_then_one_config_error_and_nonzero_exit():
    from testkit.harness import configured_catalog, run_connector

    config = {"credentials": {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN},
              "start_date": "yesterday"}
    result = run_connector("read", config, configured_catalog(["contacts"]))
    assert result.returncode != 0
    assert [e["failure_type"] for e in result.errors] == ["config_error"]
    assert "start_date 'yesterday'" in result.errors[0]["message"]
    assert PRIVATE_TOKEN not in result.stdout + result.stderr
