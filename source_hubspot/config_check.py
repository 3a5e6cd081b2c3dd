"""Plain-language config checks run before the JSON-schema validation, so each mistake names its field and fix.

The CDK's own validation reports a bare jsonschema sentence ("'ten' is not of type 'integer'", or a regex) that
names neither the field nor the fix; it still runs afterwards for anything not covered here.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, List, Mapping

from source_hubspot.constants import OAUTH_CREDENTIALS, PRIVATE_APP_CREDENTIALS

_START_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_URL = re.compile(r"^(https://\S+|http://(localhost|127\.0\.0\.1)(:\d+)?(/\S*)?)$")
_INTEGERS = {"lookback_minutes": (0, 1440), "window_days": (1, 3650), "num_workers": (1, 20), "calls_per_10_seconds": (1, 1000)}
_OAUTH_FIELDS = {
    "client_id": "the Client ID from the Auth tab of your HubSpot app",
    "client_secret": "the Client secret from the Auth tab of your HubSpot app",
    "refresh_token": "the refresh token HubSpot issued when the app was installed (re-run the OAuth flow to get one)",
}


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _what_is_wrong(credentials: Mapping[str, Any], name: str) -> str:
    """How a credential field fails to be text, in words; never its value (it may be a secret)."""
    if name not in credentials:
        return "missing"
    value = credentials[name]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false, not text"
    if isinstance(value, (int, float)):
        return "a number, not text"
    if not isinstance(value, str):
        return "a list or object, not text"
    return "empty"


def config_problems(config: Mapping[str, Any], now: datetime | None = None) -> List[str]:
    """Every problem found, each naming the field and the fix; never quoting a secret."""
    problems: List[str] = []
    credentials = config.get("credentials")
    titles = f"'{PRIVATE_APP_CREDENTIALS}' (with access_token) or '{OAUTH_CREDENTIALS}' (with client_id, client_secret, refresh_token)"
    if not isinstance(credentials, Mapping):
        problems.append(f"credentials is missing or not an object: set credentials.credentials_title to {titles}.")
    else:
        title = credentials.get("credentials_title")
        if title == PRIVATE_APP_CREDENTIALS:
            if _blank(credentials.get("access_token")):
                problems.append(
                    f"credentials.access_token is {_what_is_wrong(credentials, 'access_token')}: paste a HubSpot "
                    "Service Key (Development > Keys) or a private app's access token (Settings > Integrations > "
                    "Private Apps)."
                )
        elif title == OAUTH_CREDENTIALS:
            for name, what in _OAUTH_FIELDS.items():
                if _blank(credentials.get(name)):
                    problems.append(f"credentials.{name} is {_what_is_wrong(credentials, name)}: set it to {what}.")
            # Optional: the connector gets its access tokens from the refresh token. Left null (some tools write
            # unset fields so), the JSON-schema check would reject the whole credentials object without naming it.
            if "access_token" in credentials and not isinstance(credentials["access_token"], str):
                problems.append(
                    f"credentials.access_token is {_what_is_wrong(credentials, 'access_token')}: remove it from the "
                    "config (OAuth gets access tokens from the refresh token) or set it to a current access token."
                )
        else:
            shown = f"'{title}'" if isinstance(title, str) else "missing"
            problems.append(f"credentials.credentials_title is {shown}: it must be {titles}.")

    start = config.get("start_date")
    if start not in (None, ""):
        if not isinstance(start, str) or not _START_DATE.match(start):
            problems.append(f"start_date {start!r} is not a UTC date-time: write it as YYYY-MM-DDTHH:MM:SSZ, e.g. 2024-01-01T00:00:00Z, or leave it empty.")
        else:
            try:
                moment = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            except ValueError:
                problems.append(f"start_date {start!r} is not a real date: write a valid YYYY-MM-DDTHH:MM:SSZ date-time.")
            else:
                if moment > (now or datetime.now(timezone.utc)):
                    problems.append(f"start_date {start} is in the future, so nothing would be read: set a past date or leave it empty.")

    for name, (low, high) in _INTEGERS.items():
        value = config.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{name} is {value!r}: it must be a whole number from {low} to {high}.")
        elif not low <= value <= high:
            problems.append(f"{name} is {value}: it must be from {low} to {high}.")

    if "include_archived" in config and not isinstance(config["include_archived"], bool):
        problems.append(f"include_archived is {config['include_archived']!r}: it must be true or false.")
    factor = config.get("retry_backoff_factor")
    if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0):
        problems.append(f"retry_backoff_factor is {factor!r}: it must be a number of seconds, 0 or more.")

    for name in ("api_base_url", "oauth_token_url"):
        url = config.get(name)
        if url in (None, ""):
            continue
        if not isinstance(url, str) or not _URL.match(url):
            problems.append(
                f"{name} {url!r} is not allowed: use an https:// URL (HubSpot's is https://api.hubapi.com); plain "
                "http:// is accepted only for localhost or 127.0.0.1 (the local sandbox)."
            )
    return problems
