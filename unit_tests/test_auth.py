"""Authentication as HubSpot sees it: the token requests, the Authorization headers, refreshes and rotated tokens."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any, Dict, List
from urllib.parse import parse_qs

import pytest
from airbyte_cdk.utils.datetime_helpers import ab_datetime_now

from testkit.connector import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    ONE_WINDOW,
    PRIVATE_TOKEN,
    REFRESH_TOKEN,
    catalog,
    control_messages,
    oauth_config,
    private_app_config,
    run_read,
)
from testkit.mock_server import (
    API,
    EXPIRED_AUTHENTICATION,
    TOKEN_URL,
    api_requests,
    contact,
    mock_contacts,
    search_page,
    search_requests,
    token_requests,
    token_response,
)

ROTATED_REFRESH_TOKEN = "rotated-refresh-token-000"


def _form(request) -> Dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.body or "").items()}


def _bearer(request) -> str:
    return request.headers.get("Authorization", "")


def _read_contacts(config):
    return run_read(config, catalog("contacts"))


# --------------------------------------------------------------------------------------------------------------
# A token endpoint that issues a new access token each time, and a clock the tests move
# --------------------------------------------------------------------------------------------------------------


class FakeClock:
    """Replaces the clock the OAuth authenticator reads (the CDK's `ab_datetime_now`, imported per module)."""

    def __init__(self) -> None:
        self.now = ab_datetime_now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    for module in (
        "source_hubspot.components.auth",
        "airbyte_cdk.sources.streams.http.requests_native_auth.abstract_oauth",
        "airbyte_cdk.sources.declarative.auth.oauth",
    ):
        monkeypatch.setattr(f"{module}.ab_datetime_now", fake)
    return fake


class TokenEndpoint:
    """Issues access-1, access-2, ... each valid `expires_in` seconds of the fake clock, as HubSpot does."""

    def __init__(self, clock: FakeClock, expires_in: int, refresh_token: str = REFRESH_TOKEN) -> None:
        self.clock = clock
        self.expires_in = expires_in
        self.refresh_token = refresh_token
        self.issued: Dict[str, Any] = {}
        self.events: List[tuple] = []
        self._counter = itertools.count(1)

    def __call__(self, request, context):
        token = f"access-{next(self._counter)}"
        self.events.append(("token", token))
        self.issued[token] = self.clock.now + timedelta(seconds=self.expires_in)
        return token_response(access_token=token, refresh_token=self.refresh_token, expires_in=self.expires_in)

    def expired(self, request) -> bool:
        token = _bearer(request).removeprefix("Bearer ")
        return token not in self.issued or self.clock.now >= self.issued[token]


# --------------------------------------------------------------------------------------------------------------
# (a) OAuth: token request, then Bearer access token
# --------------------------------------------------------------------------------------------------------------


def test_given_oauth_when_read_then_one_refresh_token_grant_precedes_the_first_api_call_and_bearer_is_sent(
    requests_mock,
):
    requests_mock.post(TOKEN_URL, json=token_response())
    mock_contacts(requests_mock)

    output = _read_contacts(oauth_config(**ONE_WINDOW))

    assert len(output.records) == 1
    history = requests_mock.request_history
    first_api_call = next(i for i, r in enumerate(history) if "/oauth/" not in r.path)
    assert first_api_call == 1, [r.url for r in history[: first_api_call + 1]]
    token_call = history[0]
    assert (token_call.method, token_call.url) == ("POST", TOKEN_URL)
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token_call.headers
    form = _form(token_call)
    assert form["grant_type"] == "refresh_token"
    assert form["client_id"] == "client-id-1"
    assert form["client_secret"] == CLIENT_SECRET
    assert "refresh_token" in form
    calls = api_requests(requests_mock)
    assert len(calls) == 6  # properties, search, three association reads, the completeness count
    assert {_bearer(r) for r in calls} == {f"Bearer {ACCESS_TOKEN}"}


def test_given_oauth_when_read_then_token_request_sends_the_configured_refresh_token(requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    mock_contacts(requests_mock)

    _read_contacts(oauth_config(**ONE_WINDOW))

    assert [_form(r)["refresh_token"] for r in token_requests(requests_mock)] == [REFRESH_TOKEN] * len(
        token_requests(requests_mock)
    )


def test_given_oauth_when_one_stream_is_read_then_a_valid_access_token_is_fetched_once(requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response(expires_in=1800))
    mock_contacts(requests_mock)

    _read_contacts(oauth_config(**ONE_WINDOW))

    assert len(token_requests(requests_mock)) == 1


# --------------------------------------------------------------------------------------------------------------
# (b) Refresh before HubSpot says the token expired
# --------------------------------------------------------------------------------------------------------------


def _two_page_search(requests_mock, endpoint: TokenEndpoint, advance_after_first_page: float) -> List[int]:
    """Search answering 401 EXPIRED_AUTHENTICATION to an expired token, and moving the clock after page 1."""
    served: List[int] = []
    pages = iter([search_page([contact(1)], more=True), search_page([contact(2)])])

    def search(request, context):
        if endpoint.expired(request):
            served.append(401)
            context.status_code = 401
            return EXPIRED_AUTHENTICATION
        served.append(200)
        body = next(pages)
        if body.get("paging"):
            endpoint.clock.advance(advance_after_first_page)
        return body

    requests_mock.post(TOKEN_URL, json=endpoint)
    mock_contacts(requests_mock, search=[{"json": search}])
    return served


def test_given_token_lifetime_passed_between_pages_when_read_then_token_is_refreshed_before_hubspot_rejects_it(
    requests_mock, clock
):
    endpoint = TokenEndpoint(clock, expires_in=3)
    served = _two_page_search(requests_mock, endpoint, advance_after_first_page=10)

    output = _read_contacts(oauth_config(**ONE_WINDOW))

    assert sorted(m.record.data["id"] for m in output.records) == ["1", "2"]
    assert served == [200, 200], "the connector sent an expired token and waited for HubSpot's 401"
    page_1, page_2 = search_requests(requests_mock)
    assert _bearer(page_1) != _bearer(page_2)
    history = requests_mock.request_history
    between = history[history.index(page_1) + 1 : history.index(page_2)]
    assert any("/oauth/" in r.path for r in between), "no token request between the two pages"


def test_given_token_near_its_end_when_read_then_it_is_refreshed_early(requests_mock, clock):
    # HubSpot's 1,800 s token, 1,700 s later: still valid at HubSpot, but within the connector's safety margin.
    endpoint = TokenEndpoint(clock, expires_in=1800)
    served = _two_page_search(requests_mock, endpoint, advance_after_first_page=1700)

    output = _read_contacts(oauth_config(**ONE_WINDOW))

    assert len(output.records) == 2
    assert served == [200, 200]
    page_1, page_2 = search_requests(requests_mock)
    assert _bearer(page_1) != _bearer(page_2)


def test_given_token_well_within_its_lifetime_when_next_page_is_read_then_it_is_reused(requests_mock, clock):
    endpoint = TokenEndpoint(clock, expires_in=1800)
    _two_page_search(requests_mock, endpoint, advance_after_first_page=60)

    _read_contacts(oauth_config(**ONE_WINDOW))

    page_1, page_2 = search_requests(requests_mock)
    assert _bearer(page_1) == _bearer(page_2)


# --------------------------------------------------------------------------------------------------------------
# (c) HubSpot says EXPIRED_AUTHENTICATION: refresh once and retry
# --------------------------------------------------------------------------------------------------------------


def test_given_search_answers_expired_authentication_when_read_then_token_is_refreshed_once_and_request_retried(
    requests_mock, clock
):
    endpoint = TokenEndpoint(clock, expires_in=1800)
    requests_mock.post(TOKEN_URL, json=endpoint)
    answers = iter([(401, EXPIRED_AUTHENTICATION), (200, search_page([contact(7)]))])

    def search(request, context):
        # The CDK re-sends the same PreparedRequest, so the header is read here, at send time.
        context.status_code, body = next(answers)
        endpoint.events.append(("search", _bearer(request), context.status_code))
        return body

    mock_contacts(requests_mock, search=[{"json": search}])

    output = _read_contacts(oauth_config(**ONE_WINDOW))

    assert [m.record.data["id"] for m in output.records] == ["7"]
    assert output.errors == []
    searches = [i for i, event in enumerate(endpoint.events) if event[0] == "search"]
    assert len(searches) == 2
    rejected, retried = (endpoint.events[i] for i in searches)
    assert rejected[2] == 401 and retried[2] == 200
    assert retried[1] != rejected[1], "the retry reused the token HubSpot had just rejected"
    refreshes_between = [e for e in endpoint.events[searches[0] + 1 : searches[1]] if e[0] == "token"]
    assert len(refreshes_between) == 1
    assert retried[1] == f"Bearer {refreshes_between[0][1]}"


def test_given_refreshed_token_is_rejected_again_when_read_then_sync_fails_as_config_error_without_looping(
    requests_mock, clock
):
    endpoint = TokenEndpoint(clock, expires_in=1800)
    requests_mock.post(TOKEN_URL, json=endpoint)
    mock_contacts(requests_mock, search=[{"status_code": 401, "json": EXPIRED_AUTHENTICATION}])

    output = run_read(oauth_config(**ONE_WINDOW), catalog("contacts"), expecting_exception=True)

    assert output.records == []
    assert output.errors
    error = output.errors[0].trace.error
    assert error.failure_type.value == "config_error"
    assert "private-app" not in error.message.lower(), "an OAuth user is told about private-app tokens"
    assert len(search_requests(requests_mock)) == 2
    assert len(endpoint.events) >= 2, "no refresh was attempted before failing"


# --------------------------------------------------------------------------------------------------------------
# (d) Rotated refresh tokens reach the platform once, through a CONTROL message
# --------------------------------------------------------------------------------------------------------------


def test_given_hubspot_returns_a_new_refresh_token_when_read_then_one_control_message_carries_it(requests_mock, capsys):
    requests_mock.post(TOKEN_URL, json=token_response(refresh_token=ROTATED_REFRESH_TOKEN))
    mock_contacts(requests_mock)

    history = [{"stream": "engagements_notes", "properties": ["hs_note_body"]}]
    output = _read_contacts(oauth_config(property_history=history, **ONE_WINDOW))

    assert len(output.records) == 1
    controls = control_messages(capsys.readouterr().out)
    assert len(controls) == 1, controls
    control = controls[0]["control"]
    assert control["type"] == "CONNECTOR_CONFIG"
    credentials = control["connectorConfig"]["config"]["credentials"]
    assert credentials["refresh_token"] == ROTATED_REFRESH_TOKEN
    assert credentials["client_id"] == "client-id-1"
    assert credentials["client_secret"] == CLIENT_SECRET
    assert credentials["credentials_title"] == "OAuth Credentials"
    assert control["connectorConfig"]["config"]["start_date"] == ONE_WINDOW["start_date"]
    # The config as written: what the run derives from it (the paths, the added history streams) is not saved.
    assert control["connectorConfig"]["config"]["property_history"] == history
    assert {"api_paths", "property_history_streams"}.isdisjoint(control["connectorConfig"]["config"])


def test_given_hubspot_returns_the_same_refresh_token_when_read_then_no_control_message(requests_mock, capsys):
    requests_mock.post(TOKEN_URL, json=token_response(refresh_token=REFRESH_TOKEN))
    mock_contacts(requests_mock)

    output = _read_contacts(oauth_config(**ONE_WINDOW))

    assert len(output.records) == 1
    assert control_messages(capsys.readouterr().out) == []


def test_given_hubspot_returns_no_refresh_token_when_read_then_no_control_message(requests_mock, capsys):
    requests_mock.post(TOKEN_URL, json=token_response(refresh_token=None))
    mock_contacts(requests_mock)

    output = _read_contacts(oauth_config(**ONE_WINDOW))

    assert len(output.records) == 1
    assert control_messages(capsys.readouterr().out) == []


def test_given_refresh_token_rotated_when_token_is_refreshed_again_then_the_rotated_token_is_sent(requests_mock, clock):
    endpoint = TokenEndpoint(clock, expires_in=1800, refresh_token=ROTATED_REFRESH_TOKEN)
    requests_mock.post(TOKEN_URL, json=endpoint)
    mock_contacts(
        requests_mock,
        search=[{"status_code": 401, "json": EXPIRED_AUTHENTICATION}, {"json": search_page([contact(7)])}],
    )

    _read_contacts(oauth_config(**ONE_WINDOW))

    sent = [_form(r)["refresh_token"] for r in token_requests(requests_mock)]
    assert len(sent) >= 2
    assert sent[0] == REFRESH_TOKEN
    assert set(sent[1:]) == {ROTATED_REFRESH_TOKEN}


# --------------------------------------------------------------------------------------------------------------
# (e) Private app / Service Key
# --------------------------------------------------------------------------------------------------------------


def test_given_private_app_when_read_then_every_call_carries_the_token_and_no_token_endpoint_is_called(requests_mock):
    requests_mock.post(TOKEN_URL, json=token_response())
    mock_contacts(requests_mock)

    output = _read_contacts(private_app_config(**ONE_WINDOW))

    assert len(output.records) == 1
    assert token_requests(requests_mock) == []
    calls = api_requests(requests_mock)
    assert len(calls) == 6  # properties, search, three association reads, the completeness count
    assert {_bearer(r) for r in calls} == {f"Bearer {PRIVATE_TOKEN}"}


def test_given_private_app_token_when_hubspot_answers_expired_then_no_refresh_is_attempted(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 401, "json": EXPIRED_AUTHENTICATION}])

    output = run_read(private_app_config(**ONE_WINDOW), catalog("contacts"), expecting_exception=True)

    assert token_requests(requests_mock) == []
    assert len(search_requests(requests_mock)) == 1
    error = output.errors[0].trace.error
    assert error.failure_type.value == "config_error"
    assert "credentials.access_token" in error.message


# --------------------------------------------------------------------------------------------------------------
# (f) Token endpoint location
# --------------------------------------------------------------------------------------------------------------


def test_given_custom_oauth_token_url_when_read_then_token_is_requested_there(requests_mock):
    custom = "https://api.hubapi.com/oauth/2026-03/token"
    requests_mock.post(custom, json=token_response())
    requests_mock.post(TOKEN_URL, status_code=500, json={})
    mock_contacts(requests_mock)

    output = _read_contacts(oauth_config(oauth_token_url=custom, **ONE_WINDOW))

    assert len(output.records) == 1
    assert token_requests(requests_mock)
    assert {r.url for r in token_requests(requests_mock)} == {custom}


def test_given_custom_api_base_url_when_read_then_token_and_api_calls_go_there(requests_mock):
    base = "http://localhost:8080"
    requests_mock.post(f"{base}/oauth/v1/token", json=token_response())
    mock_contacts(requests_mock, api=base)

    output = _read_contacts(oauth_config(api_base_url=base + "/", **ONE_WINDOW))

    assert len(output.records) == 1
    assert {r.url for r in token_requests(requests_mock)} == {f"{base}/oauth/v1/token"}
    assert all(r.url.startswith(base + "/crm/") for r in api_requests(requests_mock))
    assert not any(API in r.url for r in requests_mock.request_history)


def test_given_private_app_token_expired_when_read_then_fails_at_once(requests_mock):
    mock_contacts(requests_mock, search=[{"status_code": 401, "json": EXPIRED_AUTHENTICATION}])

    output = run_read(private_app_config(**ONE_WINDOW), catalog("contacts"), expecting_exception=True)

    error = output.errors[0].trace.error
    assert error.failure_type.value == "config_error"
    assert "credentials.access_token" in error.message
    assert len(search_requests(requests_mock)) == 1
