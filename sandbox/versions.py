"""HubSpot's two forms of every path the sandbox serves: the routes are written for the numbered paths
(/crm/v3/objects, /crm/v4/associations, /oauth/v1/token, ...), and a date-versioned request (/crm/objects/2026-09,
/oauth/2026-03/token, ... for any YYYY-MM) is routed as its numbered twin, to the same data. The table of both forms is
the connector's own (source_hubspot/paths.py), so a path added there is served in both forms here."""
from __future__ import annotations

import re

from source_hubspot.paths import FAMILIES, NUMBERED_VERSION, family_of

# The account API, which the connector does not call (not in the connector's table).
_ACCOUNT = re.compile(r"^/account-info/(?:v3|[0-9]{4}-[0-9]{2})/details$")
ACCOUNT_PATH = "/account-info/v3/details"


def route_path(path: str) -> str:
    """The numbered path a request path is routed as: itself, or the numbered twin of a date-versioned path."""
    if _ACCOUNT.match(path):
        return ACCOUNT_PATH
    family = family_of(path, at_start=True)
    if family is None or family[1] == NUMBERED_VERSION:
        return path
    name, _, rest = family
    numbered = FAMILIES[name][0]
    return f"{numbered}/{rest}" if rest else numbered
