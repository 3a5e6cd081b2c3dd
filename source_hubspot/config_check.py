"""Plain-language config checks run before the JSON-schema validation, so each mistake names its field and fix.

The CDK's own validation reports a bare jsonschema sentence ("'ten' is not of type 'integer'", or a regex) that
names neither the field nor the fix; it still runs afterwards for anything not covered here.

The limits checked (types, minimum and maximum, patterns, enums, required fields, the credential types) are read from
the spec in the manifest, so a limit changed there changes the check and its message; only the words of the fixes
live here.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from source_hubspot import paths
from source_hubspot.source import load_manifest

# How the spec's date-time pattern reads to a person.
_DATE_TIME = "YYYY-MM-DDTHH:MM:SSZ"
# The fix for a required credential that is missing, blank or not text, by field.
_CREDENTIAL_FIXES = {
    "access_token": "paste a HubSpot Service Key (Development > Keys) or a private app's access token (Settings > "
                    "Integrations > Private Apps).",
    "client_id": "set it to the Client ID from the Auth tab of your HubSpot app.",
    "client_secret": "set it to the Client secret from the Auth tab of your HubSpot app.",
    "refresh_token": "set it to the refresh token HubSpot issued when the app was installed (re-run the OAuth flow "
                     "to get one).",
}
# The fix for an optional credential that is not text: some tools write unset fields as null, which the JSON-schema
# check would reject as the whole credentials object, without naming the field.
_OPTIONAL_CREDENTIAL_FIXES = {
    "access_token": "remove it from the config (OAuth gets access tokens from the refresh token) or set it to a "
                    "current access token.",
}
_URL_MISMATCH = (
    "is not allowed",
    "use an https:// URL (HubSpot's is https://api.hubapi.com); plain http:// is accepted only for localhost or "
    "127.0.0.1 (the local sandbox)",
)
# A text that does not match its field's pattern: what is wrong, and the fix ({example}: the spec's first example).
_PATTERN_MISMATCH = {
    "start_date": ("is not a UTC date-time", f"write it as {_DATE_TIME}, e.g. {{example}}"),
    "api_base_url": _URL_MISMATCH,
    "oauth_token_url": _URL_MISMATCH,
    "api_version": (
        "is not a HubSpot API version",
        "write a date version as YYYY-MM, e.g. {example}, or v3 (HubSpot's numbered paths, unsupported from 2027)",
    ),
}


@lru_cache(maxsize=1)
def specification() -> Mapping[str, Any]:
    """The manifest's spec.connection_specification with its references resolved, as the CDK shows it (read once per
    process)."""
    manifest = ManifestReferenceResolver().preprocess_manifest(load_manifest())
    return manifest["spec"]["connection_specification"]


def config_problems(
    config: Mapping[str, Any], now: datetime | None = None, spec: Optional[Mapping[str, Any]] = None
) -> List[str]:
    """Every problem found, each naming the field and the fix, in the order the spec shows the fields; never quoting
    a secret. `spec`: the connection specification the CDK validates against (the manifest's when not given)."""
    spec = spec if spec is not None else specification()
    properties = spec.get("properties") or {}
    required = spec.get("required") or []
    problems: List[str] = []
    for name, field in sorted(properties.items(), key=lambda item: item[1].get("order", len(properties))):
        if name == "credentials":
            problems.extend(_credential_problems(config.get(name), field))
            continue
        if name not in config:
            if name in required:
                problems.append(f"{name} is missing: set it ({field.get('title') or name}).")
            continue
        value = config[name]
        # Left unset: null, or empty text; a boolean written as null is a mistake.
        if (value is None and field.get("type") != "boolean") or (value == "" and field.get("type") == "string"):
            continue
        problem = _field_problem(name, value, field)
        if problem is None and name == "start_date":
            problem = _future_problem(name, value, now or datetime.now(timezone.utc))
        if problem is None and name == "api_version":
            problem = _version_problem(name, value, field)
        if problem is not None:
            problems.append(problem)
    return problems


def _credential_problems(credentials: Any, field: Mapping[str, Any]) -> List[str]:
    """Problems of the credentials object: its type (the option named by its `const` field) and that type's fields."""
    options: List[Tuple[str, Any, Mapping[str, Any]]] = []
    for option in field.get("oneOf") or []:
        for key, prop in (option.get("properties") or {}).items():
            if "const" in prop:
                options.append((key, prop["const"], option))
                break
    key = options[0][0] if options else "credentials_title"
    titles = " or ".join(
        f"'{value}' (with {', '.join(name for name in option.get('required', []) if name != key)})"
        for _, value, option in options
    )
    if not isinstance(credentials, Mapping):
        return [f"credentials is missing or not an object: set credentials.{key} to {titles}."]
    chosen = next((option for name, value, option in options if credentials.get(name) == value), None)
    if chosen is None:
        title = credentials.get(key)
        shown = f"'{title}'" if isinstance(title, str) else "missing"
        return [f"credentials.{key} is {shown}: it must be {titles}."]
    problems = []
    needed = chosen.get("required") or []
    for name, prop in (chosen.get("properties") or {}).items():
        if "const" in prop or prop.get("type") != "string":
            continue
        if name in needed and _blank(credentials.get(name)):
            fix = _CREDENTIAL_FIXES.get(name, f"set it to the {prop.get('title') or name}.")
            problems.append(f"credentials.{name} is {_what_is_wrong(credentials, name)}: {fix}")
        elif name not in needed and name in credentials and not isinstance(credentials[name], str):
            fix = _OPTIONAL_CREDENTIAL_FIXES.get(name, "remove it from the config or set it to text.")
            problems.append(f"credentials.{name} is {_what_is_wrong(credentials, name)}: {fix}")
    return problems


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


def _field_problem(name: str, value: Any, field: Mapping[str, Any]) -> Optional[str]:
    """What is wrong with a top-level field's value by the spec (type, bounds, enum, pattern, date), with the fix."""
    kind = field.get("type")
    bounds = _bounds(field)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} is {value!r}: it must be a whole number{' ' + bounds if bounds else ''}."
        if not _in_bounds(value, field):
            return f"{name} is {value}: it must be {bounds}."
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _in_bounds(value, field):
            unit = _unit(field)
            return f"{name} is {value!r}: it must be a number{' of ' + unit if unit else ''}{', ' + bounds if bounds else ''}."
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"{name} is {value!r}: it must be true or false."
    elif kind == "array":
        return _list_problem(name, value, field)
    if "enum" in field and value not in field["enum"]:
        return f"{name} is {value!r}: it must be one of {', '.join(repr(choice) for choice in field['enum'])}."
    pattern = field.get("pattern")
    if kind == "string" and pattern and (not isinstance(value, str) or not re.search(pattern, value)):
        if name in _PATTERN_MISMATCH:
            what, fix = _PATTERN_MISMATCH[name]
            fix = fix.format(example=(field.get("examples") or [""])[0])
        else:
            what, fix = "does not have the expected form", f"write it to match {pattern}"
        return f"{name} {value!r} {what}: {fix}{', or leave it empty' if re.search(pattern, '') else ''}."
    if kind == "string" and field.get("format") == "date-time" and isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return f"{name} {value!r} is not a real date: write a valid {_DATE_TIME} date-time."
    return None


def _list_problem(name: str, value: Any, field: Mapping[str, Any]) -> Optional[str]:
    """What is wrong with a list field by the spec: a list of text (the history property lists), or of objects with
    required fields (property_history's entries, each named by its position from 1)."""
    items = field.get("items") or {}
    if items.get("type") != "object":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return f"{name} is {value!r}: it must be a list of text, e.g. [\"hubspot_owner_id\"]."
        return None
    required = items.get("required") or []
    if not isinstance(value, list):
        return f"{name} is {value!r}: it must be a list of objects, each with {' and '.join(required)}."
    for position, entry in enumerate(value, 1):
        where = f"{name} entry {position}"
        if not isinstance(entry, Mapping):
            return f"{where} is {entry!r}: it must be an object with {' and '.join(required)}."
        for key, prop in (items.get("properties") or {}).items():
            about = prop.get("description") or prop.get("title") or key
            if key not in entry:
                if key in required:
                    return f"{where} has no {key}: set it ({about})"
                continue
            given = entry[key]
            if prop.get("type") == "string" and (not isinstance(given, str) or len(given.strip()) < prop.get("minLength", 0)):
                return f"{where} has {key} {given!r}: it must be text ({about})"
            if prop.get("type") == "array" and (
                not isinstance(given, list) or not all(isinstance(item, str) for item in given)
                or len(given) < prop.get("minItems", 0)
            ):
                return f"{where} has {key} {given!r}: it must list at least {prop.get('minItems', 0)} as text ({about})"
    return None


def _future_problem(name: str, value: str, now: datetime) -> Optional[str]:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None  # reported by _field_problem when the spec says date-time
    if moment > now:
        return f"{name} {value} is in the future, so nothing would be read: set a past date or leave it empty."
    return None


def _version_problem(name: str, value: str, field: Mapping[str, Any]) -> Optional[str]:
    """A date version older than HubSpot's first: it has no such API (HubSpot would answer 404 to every call)."""
    if value != paths.NUMBERED_VERSION and value < paths.FIRST_DATE_VERSION:
        return (
            f"{name} '{value}' is older than HubSpot's first date version, {paths.FIRST_DATE_VERSION}: set "
            f"{field.get('default') or paths.DEFAULT_VERSION} (or another version HubSpot has released), or v3."
        )
    return None


def _bounds(field: Mapping[str, Any]) -> str:
    low, high = field.get("minimum"), field.get("maximum")
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None:
        return f"{low} or more"
    if high is not None:
        return f"at most {high}"
    return ""


def _in_bounds(value: float, field: Mapping[str, Any]) -> bool:
    low, high = field.get("minimum"), field.get("maximum")
    return (low is None or value >= low) and (high is None or value <= high)


def _unit(field: Mapping[str, Any]) -> str:
    """The unit a field's title names in parentheses: "Retry backoff factor (seconds)" -> "seconds"."""
    found = re.search(r"\(([a-z ]+)\)\s*$", field.get("title") or "")
    return found.group(1) if found else ""
