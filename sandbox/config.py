"""A sandbox's configuration: its data (seed, records per object type), credentials, limits, faults and quirks.

The keys `/_sandbox/config` changes while it runs are `sandbox.control.LIVE_KEYS`; the CLI (`python -m sandbox
--help`) sets every other one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from sandbox.catalog import DEFAULT_COUNTS, GENERIC_COUNT

ASSOC_PAGE_SIZE = 500  # max `to` entries per input per v4 batch response
INLINE_ASSOC_LIMIT = 500  # max associated ids per type inlined in v3 object reads


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    port_file: Optional[str] = None
    seed: int = 42
    # records per object type: HubSpot's types here, any type in `counts` (which wins); a type named in neither
    # gets GENERIC_COUNT
    contacts: int = DEFAULT_COUNTS["contacts"]
    companies: int = DEFAULT_COUNTS["companies"]
    deals: int = DEFAULT_COUNTS["deals"]
    tickets: int = DEFAULT_COUNTS["tickets"]
    calls: int = DEFAULT_COUNTS["calls"]
    emails: int = DEFAULT_COUNTS["emails"]
    meetings: int = DEFAULT_COUNTS["meetings"]
    notes: int = DEFAULT_COUNTS["notes"]
    tasks: int = DEFAULT_COUNTS["tasks"]
    counts: Optional[Dict[str, int]] = None
    # custom objects of the portal (sandbox/custom_objects.py: cars, dealers, owners, then widgets_4, ...), each with
    # `counts[<its fully qualified name>]` records or GENERIC_COUNT; served by GET /crm/v3/schemas
    custom_objects: int = 0
    custom_properties: int = 20
    # the object types that get `custom_properties` custom properties (None: every type); the others get 20
    custom_properties_types: Optional[List[str]] = None
    private_app_token: str = "sandbox-private-app-token"
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    refresh_token: str = "sandbox-refresh-token"
    token_ttl: float = 1800
    rotate_refresh_token: bool = False
    scopes: Optional[List[str]] = None  # None = all scopes granted
    search_rate: int = 5  # per rolling second; 0 = unlimited
    general_rate: int = 0  # per rolling 10 s; 0 = unlimited
    daily_limit: int = 0  # 0 = unlimited
    latency_ms: float = 0
    timeline: bool = False  # stats list every API call's start, duration, endpoint and status
    latency_spread: float = 0.5  # each call waits latency_ms times a uniform draw from 1 - spread to 1 + spread
    search_lag_seconds: float = 0
    max_url_length: int = 8000
    same_timestamp: int = 0
    archived: Optional[int] = None  # per object; None = 2%
    assoc_page_size: int = ASSOC_PAGE_SIZE
    inline_assoc_limit: int = INLINE_ASSOC_LIMIT
    # "ascending": list pages go by id, as HubSpot's do; "scrambled": a fixed order that is not by id, to show
    # what a client that assumes the order does then.
    list_order: str = "ascending"
    # How the list reads an `after` of digits that is not a cursor it gave: "id" (the first record with an id at or
    # above it, as HubSpot's numeric list cursors, each the next record's id), "rejected" (400, an invalid cursor),
    # "ignored" (from the first record), "offset" (the digits count records to pass over), "exclusive" (the first
    # record with an id above it).
    list_after: str = "id"
    faults: Optional[dict] = None
    quirks: Optional[dict] = None  # hostile-but-legal answers, off by default: see sandbox/quirks.py
    # "observed": HubSpot's answers as they really come; "documented": as its OpenAPI documents say (sandbox/shapes.py)
    answer_shape: str = "observed"
    portal_id: int = 12345678
    owners: int = 10  # active owners (the five hubspot_owner_id values among them)
    archived_owners: int = 3

    def records_of(self, object_type: str) -> int:
        """How many records `object_type` gets."""
        if self.counts and object_type in self.counts:
            return int(self.counts[object_type])
        if object_type in DEFAULT_COUNTS:
            return int(getattr(self, object_type, DEFAULT_COUNTS[object_type]))
        return GENERIC_COUNT
