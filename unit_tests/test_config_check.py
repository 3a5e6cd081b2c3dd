"""Bad config gets one config_error naming the field and the fix, through the real command-line entry point."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from source_hubspot.config_check import config_problems
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
        ({"credentials": PRIVATE, "api_base_url": "http://api.example.com"}, "api_base_url", "https://"),
        ({"credentials": PRIVATE, "oauth_token_url": "ftp://x"}, "oauth_token_url", "https://"),
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
        {"credentials": {"credentials_title": "OAuth Credentials", "client_id": "i", "client_secret": "s", "refresh_token": "r"},
         "start_date": "", "oauth_token_url": "https://api.hubapi.com/oauth/2026-03/token"},
    ],
)
def test_given_a_valid_config_when_checked_then_no_problem(config):
    assert config_problems(config) == []


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


def test_given_bad_config_when_read_then_one_config_error_and_nonzero_exit():
    from testkit.harness import configured_catalog, run_connector

    config = {"credentials": {"credentials_title": "Private App Credentials", "access_token": PRIVATE_TOKEN},
              "start_date": "yesterday"}
    result = run_connector("read", config, configured_catalog(["contacts"]))
    assert result.returncode != 0
    assert [e["failure_type"] for e in result.errors] == ["config_error"]
    assert "start_date 'yesterday'" in result.errors[0]["message"]
    assert PRIVATE_TOKEN not in result.stdout + result.stderr
