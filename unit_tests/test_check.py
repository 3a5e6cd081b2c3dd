"""`check`: one cheap read of contacts, and a FAILED status that names HubSpot's cause and the user's fix."""

from __future__ import annotations

import pytest
import requests
from airbyte_cdk.models import Status

from testkit.connector import check_status, oauth_config, private_app_config, run_check
from testkit.mock_server import (
    API,
    BAD_CLIENT_ID,
    BAD_CLIENT_SECRET,
    BAD_REFRESH_TOKEN,
    CONTACT_PROPERTIES,
    DAILY_LIMIT,
    EXPIRED_AUTHENTICATION,
    INVALID_AUTHENTICATION,
    NO_API_ACCESS,
    TOKEN_URL,
    api_requests,
    contact,
    empty_search_page,
    is_count,
    mock_contacts,
    missing_scopes,
    mock_missing_scope,
    search_page,
    search_requests,
    token_requests,
    token_response,
)

PROPERTIES_URL = f"{API}/crm/v3/properties/contacts"


def run_check_private():
    return run_check(private_app_config())


def _failed_message(output) -> str:
    status = check_status(output)
    assert status is not None, "check emitted no CONNECTION_STATUS"
    assert status.status == Status.FAILED, status
    assert status.message
    return status.message


def _assert_plain_message(message: str) -> None:
    """What the user reads is a sentence, not a Python traceback or an exception repr."""
    assert "Traceback" not in message
    assert 'File "' not in message
    assert "AirbyteTracedException" not in message


# --------------------------------------------------------------------------------------------------------------
# Success
# --------------------------------------------------------------------------------------------------------------


def test_given_private_app_when_check_then_succeeds_reading_the_first_window(requests_mock):
    # The mock answers every search with one contact, whatever its filters: the probe's "nothing before" check is
    # not confirmed, so no window is skipped and check reads the first one (2006) for real.
    mock_contacts(requests_mock)

    output = run_check_private()

    assert check_status(output).status == Status.SUCCEEDED
    paths = [(r.method, r.path) for r in api_requests(requests_mock) if not is_count(r)]
    assert paths[:2] == [("GET", "/crm/v3/properties/contacts"), ("POST", "/crm/v3/objects/contacts/search")]
    probe, confirm, page = (r.json() for r in search_requests(requests_mock))
    assert probe["limit"] == 1 and probe["sorts"][0]["propertyName"] == "lastmodifieddate" and probe["filterGroups"] == []
    assert confirm["limit"] == 1 and confirm["filterGroups"][0]["filters"][0]["operator"] == "LT"
    assert page["limit"] == 200 and len(page["properties"]) == len(CONTACT_PROPERTIES)
    assert sorted(p for _, p in paths[4:]) == [
        "/crm/v4/associations/contacts/companies/batch/read",
        "/crm/v4/associations/contacts/deals/batch/read",
        "/crm/v4/associations/contacts/tickets/batch/read",
    ]
    assert token_requests(requests_mock) == []


def test_given_no_contact_before_the_earliest_when_check_then_the_empty_2006_window_is_not_searched(requests_mock):
    # The probe finds the earliest contact (2024); the filtered search confirms nothing is older; the first window
    # (2006-2007) is answered as empty without a call.
    mock_contacts(requests_mock, search=[{"json": search_page([contact(1)])}, {"json": empty_search_page()}])

    output = run_check_private()

    assert check_status(output).status == Status.SUCCEEDED
    assert [r.json()["limit"] for r in search_requests(requests_mock)] == [1, 1]


def test_given_account_without_contacts_when_check_then_succeeds_after_two_one_record_searches(requests_mock):
    mock_contacts(requests_mock, search=[{"json": empty_search_page()}])

    output = run_check_private()

    assert check_status(output).status == Status.SUCCEEDED
    assert [r.json()["limit"] for r in search_requests(requests_mock)] == [1, 1]


def test_given_oauth_when_check_then_succeeds(requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    mock_contacts(requests_mock)

    output = run_check(oauth_config())

    assert check_status(output).status == Status.SUCCEEDED
    assert len(search_requests(requests_mock)) == 3
    assert token_requests(requests_mock), "OAuth check never asked for an access token"


# --------------------------------------------------------------------------------------------------------------
# API failures
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failing, legacy", [("properties", False), ("search", True)], ids=["properties-requiredGranularScopes", "search-requiredScopes"]
)
def test_given_missing_scopes_when_check_then_fails_naming_scope_and_private_apps(requests_mock, legacy, failing):
    mock_missing_scope(requests_mock, failing, legacy)

    message = _failed_message(run_check_private())

    assert "crm.objects.contacts.read" in message
    assert "Private Apps" in message
    _assert_plain_message(message)
    # A missing scope does not heal by retrying.
    assert len([r for r in api_requests(requests_mock) if r.method == ("GET" if failing == "properties" else "POST")]) == 1


def test_given_missing_scopes_in_the_shape_of_hubspots_reference_when_check_then_the_message_names_the_scope(requests_mock):
    # HubSpot's reference examples put the scopes in a top-level context.missingScopes; its answers have been seen
    # with errors[0].context.requiredGranularScopes (the test above). Either names the scope.
    mock_contacts(requests_mock)
    requests_mock.get(PROPERTIES_URL, status_code=403, json=missing_scopes("crm.objects.contacts.read", documented=True))

    message = _failed_message(run_check_private())

    assert "lacks the scope(s) crm.objects.contacts.read." in message
    _assert_plain_message(message)


def test_given_invalid_private_app_token_when_check_then_fails_naming_access_token_without_retrying(requests_mock):
    mock_contacts(requests_mock)
    requests_mock.get(PROPERTIES_URL, status_code=401, json=INVALID_AUTHENTICATION)

    message = _failed_message(run_check_private())

    assert "credentials.access_token" in message
    assert "expired" not in message.lower(), "an unknown token is not an expired one"
    _assert_plain_message(message)
    assert len(api_requests(requests_mock)) == 1


def test_given_expired_private_app_token_when_check_then_fails_saying_to_create_a_new_token(requests_mock):
    mock_contacts(requests_mock)
    requests_mock.get(PROPERTIES_URL, status_code=401, json=EXPIRED_AUTHENTICATION)

    message = _failed_message(run_check_private())

    assert "credentials.access_token" in message
    assert "expired" in message.lower()
    assert len(api_requests(requests_mock)) == 1


@pytest.mark.parametrize("status_code", [402, 403])
def test_given_plan_without_api_access_when_check_then_fails_mentioning_plan_and_subscription(requests_mock, status_code):
    mock_contacts(requests_mock)
    requests_mock.get(PROPERTIES_URL, status_code=status_code, json=NO_API_ACCESS)

    message = _failed_message(run_check_private())

    assert "plan" in message.lower()
    assert "subscription" in message.lower()
    assert "scope" not in message.lower(), "a plan problem is not a missing scope"
    assert "This portal does not have access to this API." in message
    _assert_plain_message(message)


def test_given_daily_limit_spent_when_check_then_fails_at_once_naming_the_daily_limit(requests_mock):
    mock_contacts(requests_mock)
    requests_mock.get(PROPERTIES_URL, status_code=429, json=DAILY_LIMIT)

    message = _failed_message(run_check_private())

    assert "daily" in message.lower()
    assert "midnight" in message.lower()
    assert len(api_requests(requests_mock)) == 1


def test_given_hubspot_unreachable_when_check_then_fails_naming_the_connection_and_api_base_url(requests_mock):
    requests_mock.get(
        PROPERTIES_URL,
        exc=requests.exceptions.ConnectionError(
            "HTTPSConnectionPool(host='api.hubapi.com', port=443): Max retries exceeded with url: /crm/v3/properties/contacts "
            "(Caused by NameResolutionError(\"Failed to resolve 'api.hubapi.com'\"))"
        ),
    )

    message = _failed_message(run_check_private())

    assert "connect" in message.lower() or "reach" in message.lower()
    assert "https://api.hubapi.com" in message
    assert "api_base_url" in message
    _assert_plain_message(message)
    # Network failures are retried before giving up, but not forever.
    assert 1 < len(requests_mock.request_history) <= 10


def test_given_custom_api_base_url_unreachable_when_check_then_message_names_that_url(requests_mock):
    base = "http://localhost:8080"
    requests_mock.get(f"{base}/crm/v3/properties/contacts", exc=requests.exceptions.ConnectTimeout("timed out"))

    message = _failed_message(run_check(private_app_config(api_base_url=base)))

    assert base in message
    _assert_plain_message(message)


# --------------------------------------------------------------------------------------------------------------
# OAuth token endpoint failures
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        (BAD_REFRESH_TOKEN, "credentials.refresh_token"),
        (BAD_CLIENT_ID, "credentials.client_id"),
        (BAD_CLIENT_SECRET, "credentials.client_secret"),
    ],
    ids=["BAD_REFRESH_TOKEN", "BAD_CLIENT_ID", "BAD_CLIENT_SECRET"],
)
def test_given_token_endpoint_rejects_credential_when_check_then_fails_naming_that_field(requests_mock, body, field):
    requests_mock.post(TOKEN_URL, status_code=400, json=body)
    mock_contacts(requests_mock)

    message = _failed_message(run_check(oauth_config()))

    assert field in message
    assert body["status"] in message
    other_fields = {"credentials.refresh_token", "credentials.client_id", "credentials.client_secret"} - {field}
    assert not [other for other in other_fields if other in message], "the message blames another field too"
    _assert_plain_message(message)
    assert api_requests(requests_mock) == [], "no API call is made without an access token"


def test_given_token_endpoint_answers_unknown_400_when_check_then_fails_naming_all_oauth_fields(requests_mock):
    requests_mock.post(TOKEN_URL, status_code=400, json={"status": "SOMETHING_NEW", "message": "nope", "correlationId": "c"})
    mock_contacts(requests_mock)

    message = _failed_message(run_check(oauth_config()))

    assert "SOMETHING_NEW" in message
    for field in ("credentials.client_id", "credentials.client_secret", "credentials.refresh_token"):
        assert field in message
