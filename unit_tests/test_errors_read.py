"""HubSpot errors during `read`: which ones fail the sync (and how the user is told), which ones are waited out."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from testkit.connector import ONE_WINDOW, catalog, private_app_config, run_read
from testkit.mock_server import (
    API,
    DAILY_LIMIT,
    INTERNAL_ERROR,
    INVALID_AUTHENTICATION,
    TEN_SECONDLY_LIMIT,
    api_requests,
    contact,
    mock_contacts,
    mock_missing_scope,
    properties_body,
    search_page,
    search_requests,
)

SEARCH_URL = f"{API}/crm/v3/objects/contacts/search"
PROPERTIES_URL = f"{API}/crm/v3/properties/contacts"


def _read(config=None, expecting_exception=True):
    return run_read(config or private_app_config(**ONE_WINDOW), catalog("contacts"), expecting_exception=expecting_exception)


def _first_error(output):
    """The first TRACE error is the actionable one; the CDK ends a failed read with a generic summary error."""
    assert output.errors, "the read failed without a TRACE error"
    return output.errors[0].trace.error


@pytest.fixture
def sleeps(monkeypatch):
    """Records the waits between retries instead of sleeping."""
    waited = []
    monkeypatch.setattr(time, "sleep", lambda seconds: waited.append(seconds))
    return waited


# --------------------------------------------------------------------------------------------------------------
# Failures the user must fix
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failing, legacy", [("search", False), ("properties", True)], ids=["search-requiredGranularScopes", "properties-requiredScopes"]
)
def test_given_missing_scopes_when_read_then_config_error_names_the_scope(requests_mock, failing, legacy):
    mock_missing_scope(requests_mock, failing, legacy)

    output = _read()

    assert output.records == []
    error = _first_error(output)
    assert error.failure_type.value == "config_error"
    assert "crm.objects.contacts.read" in error.message
    assert "Traceback" not in error.message
    failing_calls = [r for r in api_requests(requests_mock) if r.method == ("GET" if failing == "properties" else "POST")]
    assert len(failing_calls) == 1, "a missing scope was retried"


def test_given_invalid_token_when_read_then_config_error_names_access_token_without_retrying(requests_mock):
    mock_contacts(requests_mock)
    requests_mock.post(SEARCH_URL, status_code=401, json=INVALID_AUTHENTICATION)

    output = _read()

    error = _first_error(output)
    assert error.failure_type.value == "config_error"
    assert "credentials.access_token" in error.message
    assert "expired" not in error.message.lower()
    assert len(search_requests(requests_mock)) == 1


def test_given_wrong_api_base_url_when_read_then_404_is_a_config_error_naming_api_base_url(requests_mock):
    base = "https://proxy.example.com/hubspot"
    requests_mock.get(f"{base}/crm/v3/properties/contacts", status_code=404, json={"message": "Not Found"})

    output = _read(private_app_config(api_base_url=base, **ONE_WINDOW))

    error = _first_error(output)
    assert error.failure_type.value == "config_error"
    assert "api_base_url" in error.message
    assert len(requests_mock.request_history) == 1


# --------------------------------------------------------------------------------------------------------------
# Rate limits
# --------------------------------------------------------------------------------------------------------------


def test_given_daily_limit_spent_when_read_then_fails_at_once_naming_the_daily_limit(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 429, "json": DAILY_LIMIT}])

    output = _read()

    assert output.records == []
    error = _first_error(output)
    assert error.failure_type.value == "transient_error"
    assert "daily" in error.message.lower()
    assert "midnight" in error.message.lower()
    assert len(search_requests(requests_mock)) <= 2, "a spent daily limit was retried"


def test_given_daily_limit_spent_when_read_spans_several_windows_then_hubspot_is_not_asked_again(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 429, "json": DAILY_LIMIT}])

    # Two windows, read one at a time: the second search is one HubSpot would refuse for the same reason.
    start = (datetime.now(timezone.utc) - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")

    output = _read(private_app_config(start_date=start, window_days=365, num_workers=1))

    assert "daily" in _first_error(output).message.lower()
    assert len(search_requests(requests_mock)) == 1


def test_given_ten_secondly_limit_then_success_when_read_then_waits_and_emits_records(requests_mock, sleeps):
    mock_contacts(
        requests_mock,
        search=[
            {"status_code": 429, "json": TEN_SECONDLY_LIMIT, "headers": {"Retry-After": "7"}},
            {"json": search_page([contact(1), contact(2)])},
        ],
    )

    output = _read(expecting_exception=False)

    assert sorted(m.record.data["id"] for m in output.records) == ["1", "2"]
    assert output.errors == []
    assert len(search_requests(requests_mock)) == 2
    assert any(seconds >= 7 for seconds in sleeps), f"Retry-After was not honoured: {sleeps[:10]}"


# --------------------------------------------------------------------------------------------------------------
# Temporary server errors
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status_code", [500, 503])
def test_given_server_error_then_success_when_read_then_retries_and_emits_records(requests_mock, status_code):
    mock_contacts(
        requests_mock,
        search=[{"status_code": status_code, "json": INTERNAL_ERROR}, {"json": search_page([contact(5)])}],
    )

    output = _read(expecting_exception=False)

    assert [m.record.data["id"] for m in output.records] == ["5"]
    assert output.errors == []
    first, retried = search_requests(requests_mock)
    assert first.body == retried.body


def test_given_server_error_on_properties_then_success_when_read_then_retries_and_emits_records(requests_mock):
    mock_contacts(requests_mock)
    requests_mock.get(
        PROPERTIES_URL,
        [{"status_code": 503, "json": INTERNAL_ERROR}, {"json": properties_body([("email", "string")])}],
    )

    output = _read(expecting_exception=False)

    assert len(output.records) == 1
    assert output.errors == []


def test_given_server_error_persists_when_read_then_gives_up_after_bounded_retries_as_transient(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 500, "json": INTERNAL_ERROR}])

    output = _read()

    error = _first_error(output)
    assert error.failure_type.value == "transient_error"
    assert 2 <= len(search_requests(requests_mock)) <= 10


def test_given_server_error_persists_when_read_then_message_says_the_sync_gave_up(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 500, "json": INTERNAL_ERROR}])

    output = _read()

    message = _first_error(output).message
    assert not message.rstrip(".").endswith("retrying"), message
    assert "later" in message.lower(), "the message does not tell the user what to do"


@pytest.mark.parametrize(
    "broken",
    [{"text": '{"total": 1, "results": [{"id": "1", "prop'}, {"text": ""}, {"json": {"total": 1}},
     {"text": "<html><body>gateway</body></html>"}],
    ids=["truncated-json", "empty-body", "no-results-list", "html"],
)
def test_given_a_broken_200_page_when_read_then_it_is_retried_and_the_records_arrive(requests_mock, broken):
    mock_contacts(requests_mock, search=[{"status_code": 200, **broken}, {"json": search_page([contact(1), contact(2)])}])

    output = _read(expecting_exception=False)

    assert not output.errors
    assert sorted(r.record.data["id"] for r in output.records) == ["1", "2"]
    assert len(search_requests(requests_mock)) == 2


def test_given_search_keeps_answering_a_broken_200_when_read_then_it_fails_naming_the_endpoint(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 200, "text": '{"results": [{"id"'}])

    output = _read()

    error = _first_error(output)
    assert error.failure_type.value == "transient_error"
    assert "/crm/v3/objects/contacts/search" in error.message
    assert "results" in error.message
    assert output.records == []


@pytest.mark.parametrize(
    "fault",
    [requests.exceptions.ReadTimeout("read timed out"), requests.exceptions.ConnectionError("connection reset by peer")],
    ids=["read-timeout", "connection-reset"],
)
def test_given_a_timeout_or_reset_when_read_then_it_is_retried_and_the_records_arrive(requests_mock, fault):
    mock_contacts(requests_mock, search=[{"exc": fault}, {"json": search_page([contact(1), contact(2)])}])

    output = _read(expecting_exception=False)

    assert not output.errors
    assert sorted(r.record.data["id"] for r in output.records) == ["1", "2"]
    assert len(search_requests(requests_mock)) == 2


def test_given_a_record_without_id_when_read_then_the_error_names_stream_endpoint_and_cause(requests_mock):
    broken = contact(1)
    del broken["id"]
    mock_contacts(requests_mock, search=[{"json": search_page([broken])}])

    output = _read()

    error = _first_error(output)
    assert "contacts" in error.message and "/crm/v3/objects/contacts/search" in error.message
    assert "without an 'id'" in error.message
