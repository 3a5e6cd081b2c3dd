"""Authentication: a private-app token or OAuth refresh, both guarded by HubSpot's daily API limit."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Dict, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.config_observation import emit_configuration_as_airbyte_control_message
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.auth.oauth import DeclarativeOauth2Authenticator
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.streams.http.exceptions import DefaultBackoffException
from airbyte_cdk.utils import AirbyteTracedException
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.datetime_helpers import ab_datetime_now

from source_hubspot.api import parse_body
from source_hubspot.constants import TOKEN_REFRESH_MARGIN_FRACTION, TOKEN_REFRESH_MARGIN_MAX_SECONDS
from source_hubspot.components.analyst_history import ADDED_HISTORY_KEY
from source_hubspot.paths import CONFIG_KEY
from source_hubspot.run_state import RunRegistry

logger = logging.getLogger("airbyte")


class DailyLimit(RunRegistry):
    """Stops every request of the run once HubSpot says the account's daily API limit is spent.

    The error filter fails the request that meets a 429 DAILY, but the CDK goes on with its other partitions and
    streams, each of which would spend a call (and log an error) to hear the same answer. The authenticators
    attach this guard to every request: it watches responses and refuses to send once the limit is spent.
    """

    _spent_message: ClassVar[Optional[str]] = None
    _fresh = {"_spent_message": None}

    @classmethod
    def guard(cls, request: requests.PreparedRequest) -> None:
        if cls._spent_message is not None:
            raise AirbyteTracedException(
                message=cls._spent_message,
                internal_message=f"not sending {request.method} {request.path_url.split('?')[0]}: daily limit spent",
                failure_type=FailureType.transient_error,
            )
        request.register_hook("response", cls._watch)

    @classmethod
    def _watch(cls, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.status_code == 429:
            body = parse_body(response)
            if isinstance(body, dict) and body.get("policyName") == "DAILY":
                with cls._lock:
                    cls._spent_message = (
                        "HubSpot's daily API limit for this account is spent "
                        f"({body.get('message') or 'daily limit reached'}). It is shared by every app on the account "
                        "and resets at midnight in the account's time zone; the sync stopped without further calls. "
                        "Run it after the reset (it resumes from its last state), or ask HubSpot for a higher limit."
                    )
        return response


class GuardsDailyLimit:
    """For the authenticators: every request they sign passes DailyLimit's guard first."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        DailyLimit.guard(request)
        return super().__call__(request)  # type: ignore[misc]


@dataclass
class HubspotPrivateAppAuthenticator(GuardsDailyLimit, DeclarativeAuthenticator):
    """Bearer auth for a Service Key or private-app token that fails at once when HubSpot calls it expired.

    CDK type that nearly fits: BearerAuthenticator. It has no refresh, so the CDK turns the EXPIRED_AUTHENTICATION
    refresh-and-retry into a plain retry with backoff (minutes of waiting for an answer that cannot change); and it
    needs the daily-limit guard like the OAuth authenticator.
    """

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    api_token: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._api_token = InterpolatedString.create(self.api_token, parameters=parameters or {})

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self._api_token.eval(self.config)}"

    def refresh_and_set_access_token(self) -> None:
        raise AirbyteTracedException(
            message=(
                "HubSpot says the access token expired (EXPIRED_AUTHENTICATION). A Service Key or private-app token "
                "does not expire on its own: create a new one in HubSpot and set credentials.access_token, or switch "
                "to OAuth credentials."
            ),
            failure_type=FailureType.config_error,
        )


_REFRESH_ERRORS = {
    "BAD_CLIENT_ID": (
        "HubSpot rejected the OAuth client id (BAD_CLIENT_ID). Set credentials.client_id to the Client ID shown on "
        "the Auth tab of the HubSpot app that issued the refresh token."
    ),
    "BAD_CLIENT_SECRET": (
        "HubSpot rejected the OAuth client secret (BAD_CLIENT_SECRET). Set credentials.client_secret to the Client "
        "secret shown on the Auth tab of the HubSpot app that issued the refresh token."
    ),
    "BAD_REFRESH_TOKEN": (
        "HubSpot rejected the refresh token (BAD_REFRESH_TOKEN): it is invalid, was revoked (the app was uninstalled "
        "or its access removed) or belongs to another app. Re-authenticate the source (run the OAuth flow again) to "
        "get a new credentials.refresh_token."
    ),
    "BAD_GRANT_TYPE": "HubSpot rejected the token request (BAD_GRANT_TYPE). Check credentials.oauth_token_url.",
}

# One token request as the CDK sends it, without the CDK's own retries (exponential for up to five minutes, blind to
# Retry-After): HubspotOAuthAuthenticator retries it as the error handler retries every other call.
_ONE_TOKEN_REQUEST = DeclarativeOauth2Authenticator._make_handled_request.__wrapped__  # type: ignore[attr-defined]
_UNREACHABLE = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


@dataclass
class HubspotOAuthAuthenticator(GuardsDailyLimit, DeclarativeOauth2Authenticator):
    """OAuth refresh with HubSpot's own error vocabulary, an early refresh, and rotated refresh tokens persisted.

    CDK type that nearly fits: OAuthAuthenticator (DeclarativeOauth2Authenticator). It reports every rejected
    refresh the same way and, with `refresh_token_updater`, rewrites the config on every refresh; HubSpot users need
    to know which credential is wrong, and the config should change only when HubSpot really hands out a new one.
    """

    # One access token per app and refresh token for the whole process: the CDK builds an authenticator for every
    # requester of every partition, and each would otherwise refresh a token that is still valid.
    _shared_lock: ClassVar[threading.RLock] = threading.RLock()
    _shared_tokens: ClassVar[Dict[Tuple[str, str], Tuple[str, datetime]]] = {}

    # Retries of the token endpoint's 429, 5xx and connection failures: the manifest's error handler's count; the
    # wait is HubSpot's Retry-After, else retry_backoff_factor x 2^try, as for every other call.
    max_retries: int = 6

    def _shared_key(self) -> Tuple[str, str]:
        return (str(self.get_token_refresh_endpoint()), str(self.get_client_id()))

    def get_access_token(self) -> str:
        return self._use_shared_token(lambda token, expiry: token is None or expiry is None or ab_datetime_now() >= expiry)

    def refresh_and_set_access_token(self) -> None:
        """A forced refresh (HubSpot said EXPIRED_AUTHENTICATION): refresh unless another thread already did."""
        used = self._current_access_token_or_none()
        self._use_shared_token(lambda token, expiry: token is None or token == used)

    def _use_shared_token(self, stale: Callable[[Optional[str], Optional[datetime]], bool]) -> str:
        """The process's token for this app, refreshed (for every authenticator) when `stale` says so, and set here."""
        with self._shared_lock:
            token, expiry = self._shared_tokens.get(self._shared_key(), (None, None))
            if stale(token, expiry):
                token, expiry = self.refresh_access_token()
                self._shared_tokens[self._shared_key()] = (token, expiry)
        self.access_token = token
        self.set_token_expiry_date(expiry)
        return token  # type: ignore[return-value]

    @classmethod
    def forget_tokens(cls) -> None:
        with cls._shared_lock:
            cls._shared_tokens.clear()
            cls._rotated_refresh_tokens.clear()

    def refresh_access_token(self) -> Tuple[str, Any]:  # type: ignore[override]
        try:
            body = self._make_handled_request()
        except requests.exceptions.HTTPError as error:
            raise self._explain_refresh_error(error.response) from None
        except AirbyteTracedException as error:
            cause = error.__cause__
            if isinstance(cause, requests.exceptions.HTTPError) and cause.response is not None:
                raise self._explain_refresh_error(cause.response) from None
            raise
        access_token = body.get("access_token")
        if not access_token:
            raise AirbyteTracedException(
                message="HubSpot's token endpoint answered without an access_token. Check credentials.oauth_token_url.",
                failure_type=FailureType.config_error,
            )
        add_to_secrets(access_token)
        self._persist_rotated_refresh_token(body.get("refresh_token"))
        expires_in = _as_seconds(body.get("expires_in"))
        margin = min(TOKEN_REFRESH_MARGIN_MAX_SECONDS, expires_in * TOKEN_REFRESH_MARGIN_FRACTION)
        return access_token, ab_datetime_now() + timedelta(seconds=max(expires_in - margin, 1))

    def _make_handled_request(self) -> Any:
        """The token request, retried on 429, 5xx and connection failures with the error handler's policy; a clear
        transient error naming HubSpot's token endpoint when every try failed."""
        factor = float(self.config.get("retry_backoff_factor", 1) or 0)
        started = time.monotonic()
        for attempt in range(self.max_retries + 1):
            try:
                return _ONE_TOKEN_REQUEST(self)
            except DefaultBackoffException as error:
                failure, wait = f"HTTP {error.response.status_code}", _retry_after(error.response)
            except _UNREACHABLE as error:
                failure, wait = f"no answer ({type(error).__name__})", None
            if attempt == self.max_retries:
                break
            wait = factor * 2**attempt if wait is None else wait
            logger.info(
                f"HubSpot's token endpoint gave {failure}; retry {attempt + 1} of {self.max_retries} in {wait:.1f} s."
            )
            _wait(wait)
        raise AirbyteTracedException(
            message=(
                f"HubSpot's token endpoint ({self.get_token_refresh_endpoint()}) gave {failure} to each of "
                f"{self.max_retries + 1} tries over {time.monotonic() - started:.0f} s, so no access token could be "
                "had. HubSpot is having trouble or limiting this app: run the sync again later (it resumes from its "
                "last state) and check https://status.hubspot.com; if it persists, check api_base_url and "
                "oauth_token_url."
            ),
            internal_message=f"token refresh failed after {self.max_retries + 1} tries: {failure}",
            failure_type=FailureType.transient_error,
        )

    def _explain_refresh_error(self, response: Optional[requests.Response]) -> AirbyteTracedException:
        status = response.status_code if response is not None else None
        try:
            body = response.json() if response is not None else {}
        except ValueError:
            body = {}
        code = _refusal_code(body) if isinstance(body, dict) else ""
        detail = str(body.get("message") or "") if isinstance(body, dict) else ""
        message = _REFRESH_ERRORS.get(code)
        if message is None:
            message = (
                f"HubSpot's token endpoint refused to refresh the access token (HTTP {status}"
                f"{', ' + code if code else ''}{': ' + detail if detail else ''}). Check credentials.client_id, "
                "credentials.client_secret and credentials.refresh_token, or re-authenticate the source."
            )
        return AirbyteTracedException(
            message=message,
            internal_message=f"token refresh failed with HTTP {status}: {code} {detail}".strip(),
            failure_type=FailureType.config_error,
        )

    def _persist_rotated_refresh_token(self, new_refresh_token: Optional[str]) -> None:
        if not new_refresh_token:
            return
        add_to_secrets(new_refresh_token)
        credentials = self.config.get("credentials") if isinstance(self.config, Mapping) else None
        if not isinstance(credentials, MutableMapping) or credentials.get("refresh_token") == new_refresh_token:
            return
        credentials["refresh_token"] = new_refresh_token
        type(self)._rotated_refresh_tokens[self._shared_key()] = new_refresh_token  # used by the next refresh
        # The config as the user wrote it: the paths derived from api_version (paths.py) and the history streams
        # derived from property_history (analyst_history.py) are not saved with it.
        derived = (CONFIG_KEY, ADDED_HISTORY_KEY)
        emit_configuration_as_airbyte_control_message({k: v for k, v in self.config.items() if k not in derived})
        logger.info("HubSpot issued a new refresh token; the connector config was updated through a CONTROL message.")

    _rotated_refresh_tokens: ClassVar[Dict[Tuple[str, str], str]] = {}

    def get_refresh_token(self) -> Optional[str]:
        return self._rotated_refresh_tokens.get(self._shared_key()) or super().get_refresh_token()


def _refusal_code(body: Mapping[str, Any]) -> str:
    """The token endpoint's reason for refusing (BAD_REFRESH_TOKEN, ...): HubSpot's answers put it in `status`, its
    published documents in `category` (`status` is then absent, or "error" as in every other error body)."""
    for key in ("status", "category", "error"):
        value = body.get(key)
        if value and value != "error":
            return str(value)
    return ""
def _wait(seconds: float) -> None:
    """Between two tries of the token request (tests record the waits here instead)."""
    time.sleep(seconds)


def _retry_after(response: Optional[requests.Response]) -> Optional[float]:
    """HubSpot's Retry-After in seconds, if it sent one."""
    try:
        return max(float(response.headers["Retry-After"]), 0.0) if response is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def _as_seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 1800.0
