"""Association types: HubSpot's type ids, primary ids and labels per pair of object types, and what each direction
answers with (v3 names, v4 association types).

The pairs come from the registry (`source_hubspot.objects`: a pair exists when either type names the other). The
table below holds HubSpot's ids for the pairs it knows; a pair it does not know (a registered type) gets unlabeled
ids of its own from GENERIC_TYPE_ID_BASE up, no primary and no labels.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

from source_hubspot.objects import ObjectType

Pair = Tuple[str, str]

BIT_DEFAULT = 1
BIT_PRIMARY = 2
BIT_LABEL0 = 4
GENERIC_TYPE_ID_BASE = 1000  # above HubSpot's own HUBSPOT_DEFINED ids


class PairTypes(NamedTuple):
    type_ids: Tuple[int, int]  # a->b, b->a
    primary_ids: Optional[Tuple[int, int]]  # a->b, b->a; None: the pair has no primary
    labels: List[Tuple[str, int, int]]  # user defined labels: (label, a->b id, b->a id)


# canonical pair (a, b) -> HubSpot's ids
KNOWN_PAIRS: Dict[Pair, PairTypes] = {
    ("contacts", "companies"): PairTypes((279, 280), (1, 2), [("Decision maker", 101, 102)]),
    ("contacts", "deals"): PairTypes((4, 3), None, [("Champion", 103, 104)]),
    ("contacts", "tickets"): PairTypes((15, 16), None, []),
    ("companies", "deals"): PairTypes((342, 341), (6, 5), []),
    ("companies", "tickets"): PairTypes((340, 339), (25, 26), []),
    ("deals", "tickets"): PairTypes((27, 28), None, []),
}
_ACTIVITY_IDS = {  # activity -> its ids with contacts, companies, deals, tickets
    "calls": ((194, 193), (182, 181), (206, 205), (220, 219)),
    "emails": ((198, 197), (186, 185), (210, 209), (224, 223)),
    "meetings": ((200, 199), (188, 187), (212, 211), (226, 225)),
    "notes": ((202, 201), (190, 189), (214, 213), (228, 227)),
    "tasks": ((204, 203), (192, 191), (216, 215), (230, 229)),
}
for _activity, _ids in _ACTIVITY_IDS.items():
    for _other, _type_ids in zip(["contacts", "companies", "deals", "tickets"], _ids):
        KNOWN_PAIRS[(_activity, _other)] = PairTypes(_type_ids, None, [])

# HubSpot's ids for pairs of its other standard objects (source_hubspot/objects.py, STANDARD_OBJECTS) with the core
# objects, where its association type table gives them. The sandbox generates their links as any registered pair's
# (0 to 3 per record); a standard pair not here gets ids from GENERIC_TYPE_ID_BASE up. The connector reads
# associations by object type, never by these ids.
STANDARD_PAIR_IDS: Dict[Pair, Tuple[int, int]] = {
    ("line_items", "deals"): (20, 19),
    ("quotes", "contacts"): (69, 70),
    ("quotes", "companies"): (71, 72),
    ("quotes", "deals"): (64, 63),
}


def _snake(s: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in s.lower())


class AssocDir:
    """Association type metadata for one direction from -> to."""
    __slots__ = ("from_type", "to_type", "default_id", "primary_id", "labels", "v3_names", "v4_types")

    def __init__(self, a: str, b: str, singular: Mapping[str, str], default_id: int, primary_id: Optional[int],
                 labels: List[Tuple[str, int]]) -> None:
        self.from_type, self.to_type = a, b
        self.default_id, self.primary_id, self.labels = default_id, primary_id, labels  # labels: [(label, id)]
        sa, sb = singular[a], singular[b]
        # per bit -> (v3 name, v4 dict)
        self.v3_names: List[Tuple[int, str]] = []
        self.v4_types: List[Tuple[int, dict]] = []
        if primary_id is not None:
            self.v3_names.append((BIT_PRIMARY, f"{sa}_to_{sb}"))
            self.v4_types.append((BIT_PRIMARY, {"category": "HUBSPOT_DEFINED", "typeId": primary_id,
                                                "label": "Primary"}))
            self.v3_names.append((BIT_DEFAULT, f"{sa}_to_{sb}_unlabeled"))
        else:
            self.v3_names.append((BIT_DEFAULT, f"{sa}_to_{sb}"))
        self.v4_types.append((BIT_DEFAULT, {"category": "HUBSPOT_DEFINED", "typeId": default_id, "label": None}))
        for i, (label, tid) in enumerate(labels):
            bit = BIT_LABEL0 << i
            self.v3_names.append((bit, _snake(label)))
            self.v4_types.append((bit, {"category": "USER_DEFINED", "typeId": tid, "label": label}))


def association_pairs(entries: Mapping[str, ObjectType]) -> Dict[Pair, PairTypes]:
    """Every associated pair of `entries` once: the known ones in KNOWN_PAIRS' order, then the others in registry
    order, each as (the type that names the other, the other)."""
    named: List[Pair] = []
    linked = set()
    for name, entry in entries.items():
        for other in entry.associations:
            if other in entries and other != name and frozenset((name, other)) not in linked:
                linked.add(frozenset((name, other)))
                named.append((name, other))
    pairs = {pair: types for pair, types in KNOWN_PAIRS.items() if frozenset(pair) in linked}
    next_id = GENERIC_TYPE_ID_BASE
    for a, b in named:
        if (a, b) in pairs or (b, a) in pairs:
            continue
        if (a, b) in STANDARD_PAIR_IDS:
            pairs[(a, b)] = PairTypes(STANDARD_PAIR_IDS[(a, b)], None, [])
        else:
            pairs[(a, b)] = PairTypes((next_id, next_id + 1), None, [])
            next_id += 2
    return pairs


def association_directions(pairs: Mapping[Pair, PairTypes], singular: Mapping[str, str]) -> Dict[Pair, AssocDir]:
    """(from, to) -> its AssocDir, both directions of every pair."""
    directions: Dict[Pair, AssocDir] = {}
    for (a, b), types in pairs.items():
        primary = types.primary_ids
        directions[(a, b)] = AssocDir(a, b, singular, types.type_ids[0], primary[0] if primary else None,
                                      [(label, x) for label, x, _ in types.labels])
        directions[(b, a)] = AssocDir(b, a, singular, types.type_ids[1], primary[1] if primary else None,
                                      [(label, y) for label, _, y in types.labels])
    return directions
