"""Odd inputs end in a clear message or a clean run, never a half-printed secret or "Something went wrong":
a secret cut by the sync report, null credentials, a read-only migrated config, unreadable or future saved states,
and garbage merge timestamps."""

from __future__ import annotations

import builtins
import errno
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

from source_hubspot.config_check import config_problems
from source_hubspot.progress import SyncProgress
from testkit import reset_run_state
from testkit.connector import (
    CLIENT_SECRET,
    ONE_WINDOW,
    PRIVATE_TOKEN,
    REFRESH_TOKEN,
    NUMBERED_PATHS,
    SEARCH_ONLY,
    catalog,
    private_app_config,
    run_read,
    stream_state,
)
from testkit.mock_server import API, associations_batch, mock_contacts, properties_body, record, search_page

# --------------------------------------------------------------------------------------------------------------
# 1. Secrets in the sync report, and null credentials
# --------------------------------------------------------------------------------------------------------------

STRADDLING_SECRET = "straddle-secret-0123456789abcdefghij"


@pytest.mark.parametrize("started", [False, True], ids=["total-line", "stream-line"])
def test_given_an_error_whose_secret_straddles_the_cut_when_reported_then_no_part_of_the_secret_is_printed(started):
    add_to_secrets(STRADDLING_SECRET)
    # Every offset from well before to past the ~160-character cut: at some of them the cut falls inside the secret.
    for pad in range(100, 180, 3):
        message = "Config validation error: " + "x" * pad + f" {STRADDLING_SECRET} is not valid under any schema."

        lines = _report_of_a_failed_sync(message, started)

        printed = " ".join(json.loads(line)["log"]["message"] for line in lines)
        assert "sync report total: failed" in printed
        assert STRADDLING_SECRET[:6] not in printed, (pad, printed)


def _report_of_a_failed_sync(message: str, started: bool):
    """The report lines of a sync of `contacts` stopped by an error saying `message`."""
    written = []
    progress = SyncProgress(written.extend, streams=["contacts"], interval=0)
    with pytest.raises(RuntimeError):
        with progress:
            if started:
                status = {"stream_descriptor": {"name": "contacts"}, "status": "STARTED"}
                trace = {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": status}
                progress.observe(json.dumps({"type": "TRACE", "trace": trace}))
            raise RuntimeError(message)
    return written


NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
OAUTH = {"credentials_title": "OAuth Credentials", "client_id": "id-1", "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}


@pytest.mark.parametrize(
    "credentials, field, words, fix",
    [
        ({**OAUTH, "access_token": None}, "credentials.access_token", "is null", "remove it"),
        ({**OAUTH, "access_token": 12345}, "credentials.access_token", "is a number, not text", "remove it"),
        ({**OAUTH, "client_secret": None}, "credentials.client_secret", "is null", "Auth tab"),
        ({**OAUTH, "refresh_token": ["r"]}, "credentials.refresh_token", "is a list or object, not text", "OAuth flow"),
        ({"credentials_title": "Private App Credentials", "access_token": None}, "credentials.access_token", "is null", "Service Key"),
        ({"credentials_title": "Private App Credentials"}, "credentials.access_token", "is missing", "Service Key"),
        ({"credentials_title": "Private App Credentials", "access_token": ""}, "credentials.access_token", "is empty", "Service Key"),
    ],
)
def test_given_a_null_or_non_text_credential_when_checked_then_the_problem_names_field_and_fix(credentials, field, words, fix):
    problems = config_problems({"credentials": credentials}, now=NOW)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{field} {words}:") and fix in problems[0]
    assert CLIENT_SECRET not in problems[0] and REFRESH_TOKEN not in problems[0]


def test_given_oauth_config_with_empty_optional_access_token_when_checked_then_it_is_accepted():
    assert config_problems({"credentials": {**OAUTH, "access_token": ""}}, now=NOW) == []


def _run_cli(tmp_path, capsys, command, config, read_only=False):
    from source_hubspot.run import run

    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    if read_only:
        config_path.chmod(0o444)
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": [{
        "stream": {"name": "contacts", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}))
    args = [command, "--config", str(config_path)] + (["--catalog", str(catalog_path)] if command == "read" else [])
    failure = None
    try:
        run(args)
    except (Exception, SystemExit) as error:  # in process, read's config errors are raised (TRACE printed at exit)
        failure = error
    out = capsys.readouterr().out
    return failure, out, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_given_oauth_config_with_null_access_token_when_read_then_one_config_error_names_the_field_and_no_secret_leaks(
    tmp_path, capsys
):
    secret, refresh = "qzx-client-secret-" + "s" * 40, "qzy-refresh-" + "r" * 40
    credentials = {**OAUTH, "client_secret": secret, "refresh_token": refresh, "access_token": None}
    config = {"credentials": credentials, **ONE_WINDOW}

    failure, out, _ = _run_cli(tmp_path, capsys, "read", config)

    assert isinstance(failure, AirbyteTracedException) and failure.failure_type == FailureType.config_error
    assert "credentials.access_token is null: remove it" in failure.message
    assert "credentials.access_token is null" in out  # the sync report says why
    assert secret[:6] not in out and refresh[:6] not in out


# --------------------------------------------------------------------------------------------------------------
# 2a. A camelCase config in a read-only file
# --------------------------------------------------------------------------------------------------------------


def _open_honouring_read_only(path, mode="r", *args, **kwargs):
    """`open` as a non-root user sees it: writing a file without write bits fails. Tests run as root, where chmod
    stops nothing; this stands in for the CDK module's `open` only, at the very line that writes --config."""
    if any(flag in mode for flag in "wax+") and os.path.exists(path) and not os.stat(path).st_mode & 0o222:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    return builtins.open(path, mode, *args, **kwargs)


def test_given_camel_case_config_in_a_read_only_file_when_read_then_it_runs_migrated_in_memory_with_a_warning(
    tmp_path, capsys, caplog, requests_mock, monkeypatch
):
    monkeypatch.setattr(concurrent_declarative_source, "open", _open_honouring_read_only, raising=False)
    mock_contacts(requests_mock)
    config = {"accessToken": PRIVATE_TOKEN, **ONE_WINDOW, **SEARCH_ONLY, **NUMBERED_PATHS}

    failure, out, lines = _run_cli(tmp_path, capsys, "read", config, read_only=True)

    assert failure is None, out[-2000:]
    assert [m["record"]["data"]["id"] for m in lines if m["type"] == "RECORD"] == ["1"]
    assert "could not start" not in out and "valid JSON" not in out
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]  # logged before run() prints
    assert any("Could not update the config file" in w and "Permission denied" in w and "in memory" in w for w in warnings)
    assert json.loads((tmp_path / "config.json").read_text()) == config  # the file is left as it was
    assert {r.headers["Authorization"] for r in requests_mock.request_history} == {f"Bearer {PRIVATE_TOKEN}"}


# --------------------------------------------------------------------------------------------------------------
# 2b. Saved states that cannot be read, or lie in the future
# --------------------------------------------------------------------------------------------------------------

FUTURE = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
GOOD = "2024-06-01T10:00:00.000000Z"


def _engagements_state(calls_cursor, overall=None):
    return {
        "use_global_cursor": False,
        "states": [
            {"partition": {"object_type": "calls"}, "cursor": calls_cursor},
            {"partition": {"object_type": "emails"}, "cursor": {"updatedAt": GOOD}},
        ],
        "state": overall or {"updatedAt": GOOD},
        "lookback_window": 0,
    }


def _mock_engagements(requests_mock):
    requests_mock.get(re.compile(rf"{re.escape(API)}/crm/v3/properties/\w+$"),
                      json=properties_body([("hs_lastmodifieddate", "datetime"), ("hs_object_id", "number")]))
    requests_mock.post(re.compile(rf"{re.escape(API)}/crm/v3/objects/\w+/search$"), json=search_page([]))
    requests_mock.post(re.compile(rf"{re.escape(API)}/crm/v4/associations/.*"), json=associations_batch([]))


def _refused(output, stream):
    assert not output.records
    assert len(output.errors) >= 1
    error = output.errors[0].trace.error
    assert error.failure_type.value == "config_error"
    assert f"The saved state of stream {stream}" in error.message and "Reset the stream" in error.message
    assert "Something went wrong" not in error.message
    return error.message


@pytest.mark.parametrize(
    "calls_cursor, words",
    [
        ({"updatedAt": "99999999999999999999"}, "'99999999999999999999', which is not a date-time"),
        ({"updatedAt": 10**19}, "10000000000000000000, which is not a date-time"),
        ({"updatedAt": "garbage"}, "'garbage', which is not a date-time"),
        ({"lastUpdated": GOOD}, "a cursor without updatedAt (lastUpdated)"),
        ({}, "a cursor without updatedAt (empty)"),
        ({"updatedAt": FUTURE}, "which is in the future"),
    ],
    ids=["20-digit-text", "20-digit-number", "garbage", "no-updatedAt", "empty-cursor", "future"],
)
def test_given_an_unreadable_per_type_engagements_cursor_when_read_then_the_reset_message_names_the_partition(
    requests_mock, calls_cursor, words
):
    _mock_engagements(requests_mock)

    output = run_read(private_app_config(**ONE_WINDOW), catalog("engagements", sync_mode=SyncMode.incremental),
                      stream_state("engagements", _engagements_state(calls_cursor)), expecting_exception=True)

    message = _refused(output, "engagements")
    assert "partition object_type=calls" in message and words in message


def test_given_a_future_stream_wide_engagements_cursor_when_read_then_it_is_refused(requests_mock):
    _mock_engagements(requests_mock)
    state = _engagements_state({"updatedAt": GOOD}, overall={"updatedAt": FUTURE})

    output = run_read(private_app_config(**ONE_WINDOW), catalog("engagements", sync_mode=SyncMode.incremental),
                      stream_state("engagements", state), expecting_exception=True)

    assert "stream-wide cursor" in _refused(output, "engagements")


def test_given_a_good_per_type_engagements_state_when_read_then_it_resumes_from_it(requests_mock):
    _mock_engagements(requests_mock)

    output = run_read(private_app_config(**ONE_WINDOW), catalog("engagements", sync_mode=SyncMode.incremental),
                      stream_state("engagements", _engagements_state({"updatedAt": "2024-06-01T10:00:00Z"})))

    assert not output.errors
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert {s["partition"]["object_type"]: s["cursor"]["updatedAt"] for s in final["states"]}["calls"] == GOOD


@pytest.mark.parametrize(
    "saved, words",
    [
        ({"updatedAt": 10**19}, "which is not a date-time"),
        ({"updatedAt": "99999999999999999999"}, "which is not a date-time"),
        ({"lastUpdated": 1e300}, "which is not a date-time"),
        ({"updatedAt": FUTURE}, "which is in the future"),
        ({"updatedAt": int(datetime(2099, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)}, "which is in the future"),
    ],
    ids=["20-digit-number", "20-digit-text", "huge", "future-canonical", "future-epoch"],
)
def test_given_an_unreadable_or_future_contacts_state_when_read_then_the_reset_message(requests_mock, saved, words):
    mock_contacts(requests_mock)

    output = run_read(private_app_config(**ONE_WINDOW), catalog("contacts", sync_mode=SyncMode.incremental),
                      stream_state("contacts", saved), expecting_exception=True)

    assert words in _refused(output, "contacts")


def test_given_a_state_a_few_minutes_ahead_when_read_then_it_is_accepted(requests_mock):
    mock_contacts(requests_mock)
    soon = (datetime.now(timezone.utc) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    output = run_read(private_app_config(**ONE_WINDOW), catalog("contacts", sync_mode=SyncMode.incremental),
                      stream_state("contacts", {"updatedAt": soon}))

    assert not output.errors


# --------------------------------------------------------------------------------------------------------------
# 2c. Garbage merge timestamps
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def _merges_run(monkeypatch):
    import source_hubspot.budget as budget

    monkeypatch.setattr(budget, "SEARCH_CALLS_PER_SECOND", 1000)  # no pacing of the four searches in these tests
    reset_run_state()  # budgets built before the patch are forgotten


def test_given_garbage_merge_timestamps_when_merges_read_then_rows_have_no_time_and_one_warning_names_the_property(
    requests_mock, _merges_run
):
    requests_mock.post(re.compile(rf"{re.escape(API)}/crm/v3/objects/\w+/search$"), json=search_page([]))
    requests_mock.post(f"{API}/crm/v3/objects/contacts/search", json=search_page([
        record(10, hs_calculated_merged_vids="11:99999999999999999999;12:1704067200000"),
        record(20, hs_calculated_merged_vids="21:abc;22:-5"),
    ]))

    output = run_read(private_app_config(**ONE_WINDOW), catalog("merges", sync_mode=SyncMode.incremental))

    assert not output.errors
    rows = sorted((r.record.data["mergedId"], r.record.data.get("mergedAt")) for r in output.records)
    assert rows == [("11", None), ("12", "2024-01-01T00:00:00.000Z"), ("21", None), ("22", None)]
    warnings = [m.log.message for m in output.logs if "hs_calculated_merged_vids" in m.log.message]
    assert len(warnings) == 1, warnings
    assert "mergedAt null" in warnings[0]
