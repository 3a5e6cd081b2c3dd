"""api_version: every call at the configured version's paths (source_hubspot/paths.py), a bad value named with its
fix, and HubSpot's token endpoint retried like every other call."""

from __future__ import annotations

import re
from typing import Dict, List

import pytest
import requests
from airbyte_cdk.models import FailureType, Status

from source_hubspot import paths
from source_hubspot.components import auth
from source_hubspot.config_check import config_problems, specification
from source_hubspot.progress import _is_page
from testkit.connector import (
    ONE_WINDOW,
    catalog,
    check_status,
    control_messages,
    oauth_config,
    private_app_config,
    run_check,
    run_read,
)
from testkit.mock_server import (
    API,
    CONTACT_PROPERTIES,
    associations_batch,
    contact,
    empty_search_page,
    is_count,
    properties_body,
    search_page,
    token_requests,
    token_response,
)

ROTATED_REFRESH_TOKEN = "rotated-refresh-token"


def _without_version(config: Dict) -> Dict:
    return {k: v for k, v in config.items() if k != "api_version"}


def _mock_contacts_at(requests_mock, version: str) -> Dict[str, str]:
    """One contact, its properties, the completeness count and empty associations, at `version`'s paths only."""
    api = paths.paths_for(version)
    requests_mock.get(f"{API}{api['properties']}/contacts", json=properties_body(CONTACT_PROPERTIES))
    search = f"{API}{api['objects']}/contacts/search"
    requests_mock.post(search, json=search_page([contact(1)]), additional_matcher=lambda r: not is_count(r))
    requests_mock.post(search, json=empty_search_page(total=1), additional_matcher=is_count)
    for to_type in ("companies", "deals", "tickets"):
        requests_mock.post(f"{API}{api['associations']}/contacts/{to_type}/batch/read", json=associations_batch([]))
    requests_mock.post(f"{API}{api['oauth_token']}", json=token_response())
    return api


def _paths_called(requests_mock) -> List[str]:
    return sorted({r.path for r in requests_mock.request_history})


# --------------------------------------------------------------------------------------------------------------
# The paths of each version
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2026-03", "2031-03"])  # 2026-09: the default, below
def test_given_a_date_version_when_read_then_every_call_and_the_token_go_to_its_paths(requests_mock, version):
    _mock_contacts_at(requests_mock, version)

    output = run_read(oauth_config(api_version=version, **ONE_WINDOW), catalog("contacts"))

    assert [r.record.data["id"] for r in output.records] == ["1"]
    assert _paths_called(requests_mock) == sorted([
        f"/oauth/{version}/token",
        f"/crm/properties/{version}/contacts",
        f"/crm/objects/{version}/contacts/search",
        *(f"/crm/associations/{version}/contacts/{to}/batch/read" for to in ("companies", "deals", "tickets")),
    ])


def test_given_no_api_version_when_read_then_the_default_date_version_is_used(requests_mock):
    _mock_contacts_at(requests_mock, paths.DEFAULT_VERSION)

    output = run_read(_without_version(oauth_config(**ONE_WINDOW)), catalog("contacts"))

    assert [r.record.data["id"] for r in output.records] == ["1"]
    called = _paths_called(requests_mock)
    assert f"/oauth/{paths.DEFAULT_VERSION}/token" in called
    assert all(f"/{paths.DEFAULT_VERSION}" in path for path in called), called
    assert not [path for path in called if re.search(r"/v[0-9]+/", path)]


def test_given_v3_when_read_then_the_numbered_paths_and_v1_token_endpoint_are_used(requests_mock):
    _mock_contacts_at(requests_mock, "v3")

    output = run_read(oauth_config(api_version="v3", **ONE_WINDOW), catalog("contacts"))

    assert len(output.records) == 1
    assert _paths_called(requests_mock) == sorted([
        "/oauth/v1/token", "/crm/v3/properties/contacts", "/crm/v3/objects/contacts/search",
        *(f"/crm/v4/associations/contacts/{to}/batch/read" for to in ("companies", "deals", "tickets")),
    ])


def test_given_oauth_token_url_when_date_version_then_the_token_is_requested_there(requests_mock):
    custom = "https://proxy.example.com/oauth/v1/token"  # not the version's: the setting wins
    requests_mock.post(custom, json=token_response())
    _mock_contacts_at(requests_mock, "2026-09")

    output = run_read(oauth_config(api_version="2026-09", oauth_token_url=custom, **ONE_WINDOW), catalog("contacts"))

    assert len(output.records) == 1
    assert {r.url for r in token_requests(requests_mock)} == {custom}


def test_given_every_concern_when_paths_for_a_version_then_numbered_for_v3_and_dated_otherwise():
    assert paths.paths_for("v3") == {
        "objects": "/crm/v3/objects", "properties": "/crm/v3/properties", "associations": "/crm/v4/associations",
        "owners": "/crm/v3/owners", "pipelines": "/crm/v3/pipelines", "oauth_token": "/oauth/v1/token",
        "deal_splits": "/crm/v3/objects/deals/splits",
        "schemas": "/crm/v3/schemas",
    }
    assert paths.paths_for("2026-09") == {
        "objects": "/crm/objects/2026-09", "properties": "/crm/properties/2026-09",
        "associations": "/crm/associations/2026-09", "owners": "/crm/owners/2026-09",
        "pipelines": "/crm/pipelines/2026-09", "oauth_token": "/oauth/2026-09/token",
        "deal_splits": "/deal-splits/2026-09",
        "schemas": "/crm-object-schemas/2026-09/schemas",
    }
    assert paths.api_version({}) == paths.api_version({"api_version": ""}) == paths.api_version({"api_version": None})
    assert paths.api_version({}) == "2026-09"


@pytest.mark.parametrize(
    "path, family",
    [
        ("/crm/objects/2026-09/contacts/search", ("objects", "2026-09", "contacts/search")),
        ("/crm/v3/objects/contacts", ("objects", "v3", "contacts")),
        ("/crm/v4/associations/contacts/deals/batch/read", ("associations", "v3", "contacts/deals/batch/read")),
        ("/oauth/2026-03/token", ("oauth_token", "2026-03", "")),
        ("/proxy/crm/owners/2026-09", ("owners", "2026-09", "")),
        ("/crm-object-schemas/2026-09/schemas", ("schemas", "2026-09", "")),
        ("/crm/v4/objects/contacts/1/associations/deals", None),
        ("/crm/v3/objects/deals/splits/batch/read", ("deal_splits", "v3", "batch/read")),
        ("/deal-splits/2026-09/batch/read", ("deal_splits", "2026-09", "batch/read")),
    ],
)
def test_given_a_request_path_when_its_family_is_read_then_both_forms_are_known(path, family):
    assert paths.family_of(path) == family


@pytest.mark.parametrize("version", ["v3", "2026-09"])
@pytest.mark.parametrize(
    "method, concern, tail, is_page",
    [("POST", "objects", "contacts/search", True), ("GET", "objects", "contacts", True),
     ("POST", "objects", "contacts/batch/read", False), ("GET", "properties", "contacts", False)],
)
def test_given_a_request_when_progress_counts_pages_then_either_form_of_the_objects_path_counts(
    version, method, concern, tail, is_page
):
    url = f"{API}{paths.paths_for(version)[concern]}/{tail}?archived=true"
    assert _is_page(requests.Request(method, url).prepare()) is is_page


# --------------------------------------------------------------------------------------------------------------
# The setting: spec, config check, check's log, the saved config
# --------------------------------------------------------------------------------------------------------------


def test_given_the_spec_when_read_then_its_default_is_the_paths_default_and_its_pattern_takes_future_versions():
    field = specification()["properties"]["api_version"]
    assert field["default"] == paths.DEFAULT_VERSION
    for good in ("v3", "2026-03", "2026-09", "2031-09", ""):
        assert re.search(field["pattern"], good), good
    for bad in ("v4", "V3", "2026-9", "2026-13", "2026-09-01", "latest", " 2026-09"):
        assert not re.search(field["pattern"], bad), bad


@pytest.mark.parametrize(
    "value, says",
    [
        ("v4", "is not a HubSpot API version: write a date version as YYYY-MM, e.g. 2026-09, or v3"),
        ("2026-9", "is not a HubSpot API version"),
        ("2026-13", "is not a HubSpot API version"),
        (202609, "is not a HubSpot API version"),
        ("2025-09", "older than HubSpot's first date version, 2026-03: set 2026-09"),
    ],
)
def test_given_a_bad_api_version_when_config_checked_then_the_problem_names_the_field_and_fix(value, says):
    problems = config_problems(private_app_config(api_version=value))
    assert len(problems) == 1 and problems[0].startswith("api_version") and says in problems[0], problems


@pytest.mark.parametrize("value", ["v3", "2026-03", "2026-09", "2027-03", ""])
def test_given_a_good_api_version_when_config_checked_then_no_problem(value):
    assert config_problems(private_app_config(api_version=value)) == []


@pytest.mark.parametrize("version, said", [(None, "2026-09 (the default"), ("v3", "v3: HubSpot's numbered paths")])
def test_given_a_version_when_check_then_the_log_names_it_and_its_paths(requests_mock, version, said):
    _mock_contacts_at(requests_mock, version or paths.DEFAULT_VERSION)
    config = private_app_config(api_version=version) if version else _without_version(private_app_config())

    output = run_check(config)

    assert check_status(output).status == Status.SUCCEEDED
    logged = [m.log.message for m in output.logs if "HubSpot API version" in m.log.message]
    assert len(logged) == 1 and said in logged[0], logged
    assert paths.paths_for(version or paths.DEFAULT_VERSION)["objects"] in logged[0]


def test_given_a_rotated_refresh_token_when_the_config_is_saved_then_the_derived_paths_are_left_out(
    requests_mock, capsys
):
    _mock_contacts_at(requests_mock, "2026-09")
    requests_mock.post(f"{API}/oauth/2026-09/token", json=token_response(refresh_token=ROTATED_REFRESH_TOKEN))

    run_read(oauth_config(api_version="2026-09", **ONE_WINDOW), catalog("contacts"))

    saved = [c["control"]["connectorConfig"]["config"] for c in control_messages(capsys.readouterr().out)]
    assert len(saved) == 1 and saved[0]["credentials"]["refresh_token"] == ROTATED_REFRESH_TOKEN
    assert saved[0]["api_version"] == "2026-09" and paths.CONFIG_KEY not in saved[0]


# --------------------------------------------------------------------------------------------------------------
# HubSpot's token endpoint: 429 and 5xx retried with the error handler's policy
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def waits(monkeypatch) -> List[float]:
    """The token retries' waits, recorded instead of slept."""
    slept: List[float] = []
    monkeypatch.setattr(auth, "_wait", slept.append)
    return slept


def test_given_token_endpoint_answers_429_with_retry_after_when_read_then_it_waits_that_long_and_the_sync_reads(
    requests_mock, waits
):
    api = _mock_contacts_at(requests_mock, "2026-09")
    rate_limited = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}
    requests_mock.post(f"{API}{api['oauth_token']}", [
        {"status_code": 429, "json": rate_limited, "headers": {"Retry-After": "3"}},
        {"json": token_response()},
    ])

    output = run_read(oauth_config(api_version="2026-09", **ONE_WINDOW), catalog("contacts"))

    assert [r.record.data["id"] for r in output.records] == ["1"] and not output.errors
    assert len(token_requests(requests_mock)) == 2
    assert waits == [3.0]


def test_given_token_endpoint_answers_502_then_200_when_read_then_it_backs_off_by_the_factor(requests_mock, waits):
    api = _mock_contacts_at(requests_mock, "2026-09")
    requests_mock.post(f"{API}{api['oauth_token']}", [
        {"status_code": 502, "text": "<html>Bad Gateway</html>"}, {"status_code": 503, "json": {}},
        {"json": token_response()},
    ])

    output = run_read(oauth_config(api_version="2026-09", retry_backoff_factor=0.5, **ONE_WINDOW), catalog("contacts"))

    assert len(output.records) == 1 and not output.errors
    assert waits == [0.5, 1.0]


def test_given_token_endpoint_keeps_answering_503_when_read_then_a_transient_error_names_it(requests_mock, waits):
    api = _mock_contacts_at(requests_mock, "2026-09")
    unavailable = {"status": "error", "message": "unavailable"}
    requests_mock.post(f"{API}{api['oauth_token']}", status_code=503, json=unavailable)

    output = run_read(oauth_config(api_version="2026-09", retry_backoff_factor=0, **ONE_WINDOW), catalog("contacts"),
                      expecting_exception=True)

    assert output.records == []
    errors = [e.trace.error for e in output.errors]
    assert errors and all(e.failure_type == FailureType.transient_error for e in errors)
    message = errors[-1].message
    assert f"HubSpot's token endpoint ({API}/oauth/2026-09/token) gave HTTP 503 to each of 7 tries" in message
    assert "run the sync again later" in message
    assert len(token_requests(requests_mock)) == 7  # the first try and the error handler's 6 retries
    assert len(waits) == 6
