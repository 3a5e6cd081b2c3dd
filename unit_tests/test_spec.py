"""The spec a user fills in: the two credential types, secrets masked, the URL fields and the OAuth flow wiring."""

from __future__ import annotations

import logging

import jsonschema
import pytest

from source_hubspot.source import SourceHubspot

SECRET_FIELDS = ("client_id", "client_secret", "refresh_token", "access_token")


@pytest.fixture(scope="module")
def spec():
    return SourceHubspot().spec(logging.getLogger("airbyte"))


@pytest.fixture(scope="module")
def properties(spec):
    return spec.connectionSpecification["properties"]


def _credential_options(properties):
    return {option["properties"]["credentials_title"]["const"]: option for option in properties["credentials"]["oneOf"]}


def test_given_spec_then_credentials_are_a_oneof_of_oauth_and_private_app(properties, spec):
    options = _credential_options(properties)

    assert set(options) == {"OAuth Credentials", "Private App Credentials"}
    assert set(options["OAuth Credentials"]["required"]) >= {"credentials_title", "client_id", "client_secret", "refresh_token"}
    assert set(options["Private App Credentials"]["required"]) >= {"credentials_title", "access_token"}
    assert "credentials" in spec.connectionSpecification["required"]


@pytest.mark.parametrize("title", ["OAuth Credentials", "Private App Credentials"])
def test_given_spec_then_every_secret_field_is_marked_airbyte_secret(properties, title):
    option = _credential_options(properties)[title]
    secret_fields = [name for name in SECRET_FIELDS if name in option["properties"]]

    assert secret_fields, f"{title} has none of {SECRET_FIELDS}"
    for name in secret_fields:
        assert option["properties"][name].get("airbyte_secret") is True, f"{title}.{name} is not airbyte_secret"


def test_given_private_app_option_then_access_token_description_mentions_service_keys(properties):
    access_token = _credential_options(properties)["Private App Credentials"]["properties"]["access_token"]

    assert "service key" in access_token["description"].lower()
    assert "private app" in access_token["description"].lower()


@pytest.mark.parametrize("field", ["start_date", "api_base_url", "oauth_token_url"])
def test_given_spec_then_field_is_offered(properties, field):
    assert properties[field]["type"] == "string"
    assert properties[field].get("description")


def test_given_spec_then_start_date_accepts_hubspot_datetimes_and_empty(properties):
    schema = {"type": "string", "pattern": properties["start_date"]["pattern"]}

    jsonschema.validate("2024-01-01T00:00:00Z", schema)
    jsonschema.validate("", schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("01/01/2024", schema)


def test_given_spec_then_advanced_auth_applies_only_to_oauth_credentials(spec):
    advanced_auth = spec.advanced_auth

    assert advanced_auth.auth_flow_type.value == "oauth2.0"
    assert advanced_auth.predicate_key == ["credentials", "credentials_title"]
    assert advanced_auth.predicate_value == "OAuth Credentials"
    oauth = advanced_auth.oauth_config_specification
    output = oauth.complete_oauth_output_specification["properties"]
    server_output = oauth.complete_oauth_server_output_specification["properties"]
    assert output["refresh_token"]["path_in_connector_config"] == ["credentials", "refresh_token"]
    assert server_output["client_id"]["path_in_connector_config"] == ["credentials", "client_id"]
    assert server_output["client_secret"]["path_in_connector_config"] == ["credentials", "client_secret"]


@pytest.mark.parametrize("field", ["api_base_url", "oauth_token_url"])
@pytest.mark.parametrize(
    "url",
    [
        "https://api.hubapi.com",
        "https://api.hubapi.com/oauth/2026-03/token",
        "http://localhost:8080",
        "http://127.0.0.1:5",
        "http://localhost",
    ],
)
def test_given_url_field_when_https_or_local_http_then_pattern_accepts_it(properties, field, url):
    jsonschema.validate(url, {"type": "string", "pattern": properties[field]["pattern"]})


@pytest.mark.parametrize("field", ["api_base_url", "oauth_token_url"])
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://api.hubapi.com",
        "http://localhost.example.com",
        "ftp://api.hubapi.com",
        "api.hubapi.com",
        "https://api.hubapi.com with space",
    ],
)
def test_given_url_field_when_remote_plain_http_or_not_a_url_then_pattern_rejects_it(properties, field, url):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(url, {"type": "string", "pattern": properties[field]["pattern"]})


def test_given_spec_then_api_base_url_defaults_to_hubspot(properties):
    assert properties["api_base_url"]["default"] == "https://api.hubapi.com"


@pytest.mark.parametrize(
    "config",
    [
        {"credentials": {"credentials_title": "OAuth Credentials", "client_id": "i", "client_secret": "s", "refresh_token": "r"}},
        {"credentials": {"credentials_title": "Private App Credentials", "access_token": "pat-na1-x"}},
    ],
)
def test_given_spec_shaped_config_then_it_validates(spec, config):
    jsonschema.validate(config, spec.connectionSpecification)


@pytest.mark.parametrize(
    "config",
    [
        {"credentials": {"credentials_title": "OAuth Credentials", "client_id": "i", "client_secret": "s"}},
        {"credentials": {"credentials_title": "Private App Credentials", "access_token": ""}},
        {"credentials": {"credentials_title": "Private App Credentials", "access_token": "x"}, "api_base_url": "http://example.com"},
    ],
)
def test_given_incomplete_or_unsafe_config_then_it_does_not_validate(spec, config):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, spec.connectionSpecification)
