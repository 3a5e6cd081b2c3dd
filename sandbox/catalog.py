"""The object types a sandbox serves: the connector's registry (`source_hubspot.objects`) and the sandbox's own data
about each type.

The registry says what a type is: its name, type id, singular, scope, modification and creation properties, the
types it is associated with and whether it is an activity. The tables here are the sandbox's data: where a type's
ids start, what a read without `properties` returns, its property group and how many records it gets by default.
Each table has a generic default, so a type added with `source_hubspot.objects.register(ObjectType(...))` alone is
generated and served.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional

from sandbox.association_types import AssocDir, Pair, PairTypes, association_directions, association_pairs
from sandbox import standard_objects
from source_hubspot.objects import OBJECT_TYPES, STANDARD_OBJECTS, ObjectType  # the registry (sandbox/__main__.py: why not the package)

# ids of different object types live in different ranges (like real portals)
ID_BASE = {
    "contacts": 100000, "companies": 5000000000, "deals": 9000000000, "tickets": 2000000000,
    "calls": 30000000000, "emails": 31000000000, "meetings": 32000000000, "notes": 33000000000,
    "tasks": 34000000000,
}
GENERIC_ID_BASE = 40000000000  # a type without a range above: ranges of GENERIC_ID_RANGE ids, in registry order
GENERIC_ID_RANGE = 1000000000

# what a read that names no properties returns (the always-included ids and dates are added to these)
DEFAULT_PROPERTIES = {
    "contacts": ["firstname", "lastname", "email", "createdate", "lastmodifieddate", "hs_object_id"],
    "companies": ["name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"],
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate", "createdate", "hs_lastmodifieddate",
              "hs_object_id"],
    "tickets": ["subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
                "hs_ticket_priority", "createdate", "hs_lastmodifieddate", "hs_object_id"],
    **standard_objects.DEFAULT_PROPERTIES,
}
# a type that is not an activity; activities, and HubSpot's other standard objects not above, have their dates and id
GENERIC_DEFAULT_PROPERTIES = ["name"]
STANDARD_NAMES = frozenset(row[0] for row in STANDARD_OBJECTS)

GROUPS = {"contacts": "contactinformation", "companies": "companyinformation", "deals": "dealinformation",
          "tickets": "ticketinformation", "calls": "call", "emails": "email", "meetings": "meeting",
          "notes": "note", "tasks": "task"}

DEFAULT_COUNTS = {"contacts": 1000, "companies": 300, "deals": 300, "tickets": 200, "calls": 100, "emails": 100,
                  "meetings": 100, "notes": 100, "tasks": 100,
                  # none unless asked: every existing workload reads the portal it read before these were added
                  **{name: 0 for name in STANDARD_NAMES}}
GENERIC_COUNT = 100

# scopes of what is not an object type
# GET /crm/v3/owners; POST /crm/v3/objects/deals/splits/batch/read (sandbox/analyst_api.py)
OTHER_SCOPES = {"owners": "crm.objects.owners.read", "deal_splits": "crm.dealsplits.read_write"}


def default_count(name: str) -> int:
    return DEFAULT_COUNTS.get(name, GENERIC_COUNT)


class Catalog:
    """The registry's object types when a sandbox built its data (a type registered later is not served by it),
    with the sandbox's tables and the association types between them."""

    def __init__(self, entries: Mapping[str, ObjectType]) -> None:
        self.entries: Dict[str, ObjectType] = dict(entries)
        self.names: List[str] = list(self.entries)
        self.activity_types: List[str] = [name for name, entry in self.entries.items() if entry.activity]
        self.singular: Dict[str, str] = {name: entry.singular for name, entry in self.entries.items()}
        self._by_type_id = {entry.type_id: name for name, entry in self.entries.items()}
        # A custom object's bare name is refused in paths, as HubSpot has refused it since 2025.
        self._by_singular = {entry.singular: name for name, entry in self.entries.items() if not entry.type_id.startswith("2-")}
        self.pairs: Dict[Pair, PairTypes] = association_pairs(self.entries)
        self.directions: Dict[Pair, AssocDir] = association_directions(self.pairs, self.singular)

    @classmethod
    def from_registry(cls, custom_objects: int = 0, portal_id: int = 0) -> "Catalog":
        """The registry's types (less any custom object a connector in this process registered) and the portal's
        `custom_objects` custom objects (sandbox/custom_objects.py)."""
        from sandbox import custom_objects as custom  # imports this module's ObjectType source only

        entries = {name: entry for name, entry in OBJECT_TYPES.items() if not custom.is_custom(entry)}
        entries.update(custom.object_types(custom_objects, portal_id))
        return cls(entries)

    def normalize(self, name: object) -> Optional[str]:
        """The object type a path or body names (name, singular or type id), None when it names none."""
        if not name:
            return None
        n = str(name).lower()
        if n in self._by_type_id:
            return self._by_type_id[n]
        if n in self.entries:
            return n
        return self._by_singular.get(n)

    def scope(self, name: str) -> str:
        """The scope a token needs to read `name` (an object type, or "owners")."""
        if name in OTHER_SCOPES:
            return OTHER_SCOPES[name]
        return self.entries[name].scope

    def id_base(self, name: str) -> int:
        if name in ID_BASE:
            return ID_BASE[name]
        return GENERIC_ID_BASE + self.names.index(name) * GENERIC_ID_RANGE

    def default_properties(self, name: str) -> List[str]:
        if name in DEFAULT_PROPERTIES:
            return DEFAULT_PROPERTIES[name]
        entry = self.entries[name]
        first = [] if entry.activity or name in STANDARD_NAMES else GENERIC_DEFAULT_PROPERTIES
        return [*first, entry.created_property, entry.modified_property, "hs_object_id"]

    def property_group(self, name: str) -> str:
        return GROUPS.get(name) or f"{self.singular[name]}information"

    def partners(self, name: str) -> List[str]:
        """The types `name` is associated with, in the order of their association pairs."""
        return [b for (a, b) in self.directions if a == name]
