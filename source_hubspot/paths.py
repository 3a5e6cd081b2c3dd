"""HubSpot's API paths at the configured `api_version`, written once.

HubSpot names the same APIs two ways: its numbered paths (`/crm/v3/objects`, `/crm/v4/associations`,
`/oauth/v1/token`), which it stops supporting in 2027, and date versions (`/crm/objects/2026-09`,
`/oauth/2026-09/token`), one each March and September, each supported for 18 months after its release.
`api_version` is `v3` (the numbered paths) or a date version `YYYY-MM`; left out, it is DEFAULT_VERSION.

Every HubSpot call goes through this table: the manifest's paths read it from the config (the spec's config
transformation, components/config.py, puts `api_paths(config)` there under CONFIG_KEY, because the manifest's
Jinja cannot call Python), the Python components call `api_paths` themselves, `check` logs `describe`, and the
sandbox routes both forms of a path with `family_of`.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Tuple

# The numbered paths (v3 objects, properties, owners, pipelines, deal splits; v4 associations; the v1 token endpoint).
NUMBERED_VERSION = "v3"
# The newest date version HubSpot has released (GA 2026-09-09, supported to March 2028).
DEFAULT_VERSION = "2026-09"
# HubSpot's first date version: an earlier YYYY-MM names no API.
FIRST_DATE_VERSION = "2026-03"
# Where the config transformation puts the run's paths for the manifest's Jinja (derived: never saved).
CONFIG_KEY = "api_paths"

# Each concern's path: (with api_version v3, with a date version in place of {version}).
FAMILIES: Mapping[str, Tuple[str, str]] = {
    # Deal splits' own API (HubSpot's deal splits guide and its OpenAPI specs for v3 and 2025-09 on; the v3 spec
    # also spells it /crm/objects/v3/deals/splits). Before `objects`, whose numbered path starts the same way.
    "deal_splits": ("/crm/v3/objects/deals/splits", "/deal-splits/{version}"),
    "objects": ("/crm/v3/objects", "/crm/objects/{version}"),
    "properties": ("/crm/v3/properties", "/crm/properties/{version}"),
    "associations": ("/crm/v4/associations", "/crm/associations/{version}"),
    "owners": ("/crm/v3/owners", "/crm/owners/{version}"),
    "pipelines": ("/crm/v3/pipelines", "/crm/pipelines/{version}"),
    # Custom object schemas: HubSpot's guides call /crm/v3/schemas, its reference /crm-object-schemas/v3/schemas (the
    # same API); the date versions are /crm-object-schemas/{version}/schemas.
    "schemas": ("/crm/v3/schemas", "/crm-object-schemas/{version}/schemas"),
    "oauth_token": ("/oauth/v1/token", "/oauth/{version}/token"),
}


def api_version(config: Mapping[str, Any]) -> str:
    """The configured version; DEFAULT_VERSION when it is left out, null or empty (the config check rejects
    anything else that is neither v3 nor YYYY-MM before a run starts)."""
    value = config.get("api_version")
    return value.strip() if isinstance(value, str) and value.strip() else DEFAULT_VERSION


def paths_for(version: str) -> Dict[str, str]:
    """Every concern's path (FAMILIES' keys) at `version`."""
    numbered = version == NUMBERED_VERSION
    return {name: old if numbered else dated.format(version=version) for name, (old, dated) in FAMILIES.items()}


def api_paths(config: Mapping[str, Any]) -> Dict[str, str]:
    """Every concern's path at the configured version."""
    return paths_for(api_version(config))


def describe(config: Mapping[str, Any]) -> str:
    """The version and its path family in words, for the logs."""
    version = api_version(config)
    paths = paths_for(version)
    if version == NUMBERED_VERSION:
        kind = "HubSpot's numbered paths (unsupported from 2027)"
    else:
        kind = "a date version"
    chosen = "" if config.get("api_version") else " (the default; api_version is not set)"
    return (
        f"HubSpot API version {version}{chosen}: {kind}, e.g. {paths['objects']}/{{type}}, "
        f"{paths['associations']}/{{from}}/{{to}}/batch/read, token {paths['oauth_token']}."
    )


_DATE = "(?P<version>[0-9]{4}-[0-9]{2})"


def _either_form(old: str, dated: str) -> "re.Pattern[str]":
    return re.compile(f"(?:{re.escape(old)}|{re.escape(dated).replace(re.escape('{version}'), _DATE)})(?=/|$)")


_MATCHERS = [(name, _either_form(old, dated)) for name, (old, dated) in FAMILIES.items()]


def family_of(path: str, at_start: bool = False) -> Optional[Tuple[str, str, str]]:
    """(concern, version, the rest after the concern's path) of a request path in either form (after any prefix of
    api_base_url's, unless `at_start`), or None when the path is none of FAMILIES':
    `/crm/objects/2026-09/contacts/search` -> ("objects", "2026-09", "contacts/search")."""
    for name, matcher in _MATCHERS:
        found = matcher.match(path) if at_start else matcher.search(path)
        if found:
            version = found.group("version") or NUMBERED_VERSION
            return name, version, path[found.end():].strip("/")
    return None
