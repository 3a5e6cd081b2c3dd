"""The sandbox's data: every object type's records and the associations between them, generated deterministically
from the seed, and the control plane's changes to them.

The object types are the registry's (`source_hubspot.objects`, through sandbox/catalog.py); property values are not
stored but derived from (seed, object type, record id, property) when read (sandbox/records.py). The core types
(contacts, companies, deals, tickets) and HubSpot's activities get HubSpot-shaped association patterns; any other
associated pair gets 0 to 3 links per record of the type that names the other.
"""
from __future__ import annotations

import bisect
import random
import threading
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sandbox.association_types import BIT_DEFAULT, BIT_LABEL0, BIT_PRIMARY, KNOWN_PAIRS, AssocDir, Pair
from sandbox.catalog import Catalog
from sandbox.properties import DEFAULT_CUSTOM_PROPERTIES, K_POOL
from sandbox.records import Rec, prop_value
from sandbox.schema import PropSpec, Schema
from sandbox.values import (END_CREATED_MS, END_UPDATED_MS, FUTURE_MS, GOLD, M64, SAME_TS_MS, START_MS, iso_ms, mix64,
                            now_ms)

CORE_TYPES = ("contacts", "companies", "deals", "tickets")
Links = Dict[int, Dict[int, int]]  # from id -> {to id: association bits}


class ObjectStore:
    """One object type's records."""

    def __init__(self, otype: str, schema: Schema, type_idx: int, seed: int) -> None:
        self.otype = otype
        self.schema = schema
        self.type_idx = type_idx
        self.seed_mix = mix64(seed * 1000003 + type_idx * 7919 + 17)
        self.ids: List[int] = []  # all ids, ascending
        self.archived_ids: List[int] = []  # archived ids, ascending
        self.recs: Dict[int, Rec] = {}

    def new_rec(self, rid: int, created: int, updated: int) -> Rec:
        rec = Rec(rid, mix64(self.seed_mix ^ (rid * GOLD & M64)), created, updated)
        self.recs[rid] = rec
        self.ids.append(rid)
        return rec

    def archive(self, rec: Rec, ms: int) -> None:
        """Archives `rec` at `ms`: archivedAt moves, updatedAt and the modification date stay (as HubSpot's)."""
        rec.archived = True
        rec.archived_iso = iso_ms(ms)
        bisect.insort(self.archived_ids, rec.id)

    def active(self, rid: int) -> Optional[Rec]:
        rec = self.recs.get(rid)
        if rec is None or rec.archived:
            return None
        return rec


class Store:
    """Every object type's records and their associations, behind one lock."""

    def __init__(self, seed: int = 42, counts: Optional[Mapping[str, int]] = None,
                 custom_properties: int = DEFAULT_CUSTOM_PROPERTIES, same_timestamp: int = 0,
                 archived: Optional[int] = None, catalog: Optional[Catalog] = None,
                 custom_properties_types: Optional[Sequence[str]] = None) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.counts = counts or {}
        self.catalog = catalog or Catalog.from_registry()
        self.directions: Dict[Pair, AssocDir] = self.catalog.directions
        self.mutations = 0
        self.schemas: Dict[str, Schema] = {}
        self.objects: Dict[str, ObjectStore] = {}
        for i, t in enumerate(self.catalog.names):
            wide = custom_properties_types is None or t in custom_properties_types
            self.schemas[t] = Schema(self.catalog, t, seed, custom_properties if wide else DEFAULT_CUSTOM_PROPERTIES)
            self.objects[t] = ObjectStore(t, self.schemas[t], i, seed)
        # assoc[(a, b)][a_id] -> {b_id: bits}
        self.assoc: Dict[Pair, Links] = {k: {} for k in self.directions}
        for t in self.catalog.names:
            self._generate_records(t, self.counts.get(t, 0), same_timestamp if t == "contacts" else 0, archived)
        self._generate_associations()
        self.big_company_id: Optional[int] = None
        comp = self.objects.get("companies")
        if comp is not None and comp.ids:
            self.big_company_id = comp.ids[0]

    # ------------------------------------------------------------ generation
    def _generate_records(self, otype: str, n: int, same_ts: int, archived: Optional[int]) -> None:
        store = self.objects[otype]
        rng = random.Random(f"{self.seed}:{otype}:records")
        rid = self.catalog.id_base(otype)
        for i in range(n):
            rid += rng.randint(1, 3)
            created = rng.randint(START_MS, END_CREATED_MS)
            updated = created + rng.randint(0, END_UPDATED_MS - created)
            if i < same_ts:
                updated = SAME_TS_MS
                if created > updated:
                    created = updated - rng.randint(0, 86400000 * 100)
            store.new_rec(rid, created, updated)
        n_arch = archived if archived is not None else int(n * 0.02)
        protected = set(store.ids[:max(same_ts, 0)])
        if otype == "companies" and store.ids:
            protected.add(store.ids[0])
        candidates = [x for x in store.ids if x not in protected]
        for aid in sorted(rng.sample(candidates, min(n_arch, len(candidates)))):
            rec = store.recs[aid]
            arch = rec.updated + rng.randint(0, max(0, END_UPDATED_MS - rec.updated))
            store.archive(rec, arch)

    def add_assoc(self, a: str, aid: int, b: str, bid: int, bits: int = BIT_DEFAULT) -> None:
        fwd = self.assoc[(a, b)].setdefault(aid, {})
        fwd[bid] = fwd.get(bid, 0) | bits | BIT_DEFAULT
        rev = self.assoc[(b, a)].setdefault(bid, {})
        rev[aid] = rev.get(aid, 0) | bits | BIT_DEFAULT

    def _label_bits(self, rng: random.Random, a: str, b: str, p: float = 0.1) -> int:
        d = self.directions[(a, b)]
        bits = 0
        for i in range(len(d.labels)):
            if rng.random() < p:
                bits |= BIT_LABEL0 << i
        return bits

    def _generate_associations(self) -> None:
        rng = random.Random(f"{self.seed}:associations")
        ids = {t: self.objects[t].ids for t in self.catalog.names}
        contacts, companies, deals, tickets = (ids.get(t, []) for t in CORE_TYPES)
        if companies:
            big = companies[0]
            n_big = min(650, int(len(contacts) * 0.8))
            for i, cid in enumerate(contacts):
                if i < n_big:
                    comp = big
                elif rng.random() < 0.85:
                    comp = rng.choice(companies)
                else:
                    continue
                self.add_assoc("contacts", cid, "companies", comp,
                               BIT_PRIMARY | self._label_bits(rng, "contacts", "companies"))
                if rng.random() < 0.05:
                    other = rng.choice(companies)
                    if other != comp:
                        self.add_assoc("contacts", cid, "companies", other)
        for did in deals:
            if contacts:
                for cid in rng.sample(contacts, min(len(contacts), rng.randint(0, 3))):
                    self.add_assoc("contacts", cid, "deals", did, self._label_bits(rng, "contacts", "deals"))
            if companies and rng.random() < 0.8:
                self.add_assoc("companies", rng.choice(companies), "deals", did, BIT_PRIMARY)
        for tid in tickets:
            if contacts:
                for cid in rng.sample(contacts, min(len(contacts), rng.randint(0, 2))):
                    self.add_assoc("contacts", cid, "tickets", tid)
            if companies and rng.random() < 0.7:
                self.add_assoc("companies", rng.choice(companies), "tickets", tid, BIT_PRIMARY)
            if deals and rng.random() < 0.3:
                self.add_assoc("deals", rng.choice(deals), "tickets", tid)
        for act in self.catalog.activity_types:
            for aid in ids[act]:
                for other in CORE_TYPES:
                    pool = ids.get(other)
                    if pool and (act, other) in KNOWN_PAIRS and (act, other) in self.directions:
                        for oid in rng.sample(pool, min(len(pool), rng.randint(0, 3))):
                            self.add_assoc(act, aid, other, oid)
        for a, b in self.catalog.pairs:
            if (a, b) not in KNOWN_PAIRS:
                self._generate_links(a, b, ids[a], ids[b])

    def _generate_links(self, a: str, b: str, a_ids: List[int], b_ids: List[int]) -> None:
        """A pair HubSpot's patterns above do not cover: 0 to 3 links per `a` record, from a draw of its own."""
        rng = random.Random(f"{self.seed}:associations:{a}:{b}")
        if not b_ids:
            return
        for aid in a_ids:
            for bid in rng.sample(b_ids, min(len(b_ids), rng.randint(0, 3))):
                self.add_assoc(a, aid, b, bid)

    # ------------------------------------------------------------ reading
    def record_properties(self, otype: str, rec: Rec, names: Iterable[str]) -> Dict[str, Any]:
        by_name = self.schemas[otype].by_name
        ov = rec.ov
        base = rec.base
        out = {}
        for n in names:
            spec = by_name.get(n)
            if spec is None:
                continue
            if spec.kind == K_POOL and (ov is None or n not in ov):
                # inlined fast path of prop_value()
                h = ((base ^ spec.salt) * GOLD) & M64
                h ^= h >> 29
                out[n] = None if (h & 255) < spec.null_thr else spec.pool[(h >> 8) % spec.npool]
            else:
                out[n] = prop_value(rec, spec)
        return out

    def resolve_property_names(self, otype: str, requested: Optional[List[str]]) -> List[str]:
        """requested: list or None -> list of known property names (always-included ones added)."""
        schema = self.schemas[otype]
        if not requested:
            names = list(schema.defaults)
        else:
            names = []
            seen = set()
            for n in requested:
                if n in schema.by_name and n not in seen:
                    seen.add(n)
                    names.append(n)
        for n in schema.always:
            if n not in names:
                names.append(n)
        return names

    def record_json(self, otype: str, rec: Rec, names: Iterable[str]) -> Dict[str, Any]:
        d = {"id": rec.sid, "properties": self.record_properties(otype, rec, names),
             "createdAt": rec.created_iso, "updatedAt": rec.updated_iso, "archived": rec.archived}
        if rec.archived:
            d["archivedAt"] = rec.archived_iso
        return d

    def associations_of(self, from_type: str, rid: int, to_type: str) -> List[Tuple[int, int]]:
        """Sorted list of (to_id, bits) excluding archived targets."""
        m = self.assoc.get((from_type, to_type), {}).get(rid)
        if not m:
            return []
        trecs = self.objects[to_type].recs
        out = []
        for tid in sorted(m):
            r = trecs.get(tid)
            if r is not None and not r.archived:
                out.append((tid, m[tid]))
        return out

    def full_record(self, otype: str, rec: Rec) -> Dict[str, Any]:
        d = self.record_json(otype, rec, self.schemas[otype].names)
        assoc = {}
        for (a, b) in self.directions:
            if a == otype:
                lst = self.associations_of(a, rec.id, b)
                if lst:
                    assoc[b] = [str(t) for t, _ in lst]
        d["associations"] = assoc
        return d

    # ------------------------------------------------------------ mutations
    def _rng(self, seed: Any) -> random.Random:
        self.mutations += 1
        if seed is not None:
            return random.Random(f"mutate:{seed}")
        return random.Random(f"{self.seed}:mutate:{self.mutations}")

    def _new_value(self, rng: random.Random, rec: Rec, spec: PropSpec) -> Any:
        old = prop_value(rec, spec)
        for _ in range(20):
            v = rng.choice(spec.pool)
            if v != old:
                return v
        if spec.type in ("string", "phone_number", "json", "object_coordinates"):
            return f"updated {rng.randint(0, 10 ** 9)}"
        if spec.type == "number":
            return str(rng.randint(0, 10 ** 6))
        if spec.type == "bool":
            return "false" if old == "true" else "true"
        return None if old is not None else spec.pool[0]

    def mutate(self, otype: str, update: int = 0, create: int = 0, archive: int = 0, seed: Any = None,
               associate: Optional[List[dict]] = None, future_updated: int = 0) -> Dict[str, Any]:
        """Changes records of `otype` (seeded by `seed`): `update` records get new values, `archive` are archived
        (archivedAt now, updatedAt unchanged), `create` are new; `future_updated` active records get an updatedAt
        and modification date in 2099 (a clock HubSpot's data sometimes has), listed under "future_updated"."""
        with self.lock:
            rng = self._rng(seed)
            store = self.objects[otype]
            schema = self.schemas[otype]
            ts = now_ms()
            result: Dict[str, Any] = {"type": otype, "updated": [], "created": [], "archived": [], "associated": []}
            active = [rid for rid in store.ids if not store.recs[rid].archived]
            if update:
                for rid in sorted(rng.sample(active, min(update, len(active)))):
                    rec = store.recs[rid]
                    if rec.ov is None:
                        rec.ov = {}
                    for spec in rng.sample(schema.editable, min(len(schema.editable), rng.randint(1, 3))):
                        rec.ov[spec.name] = self._new_value(rng, rec, spec)
                    rec.set_updated(max(ts, rec.created))
                    rec.vis = ts
                    result["updated"].append(rec.sid)
            if archive:
                pool = [rid for rid in active if rid != self.big_company_id or otype != "companies"]
                pool = [rid for rid in pool if not store.recs[rid].archived]
                for rid in sorted(rng.sample(pool, min(archive, len(pool)))):
                    rec = store.recs[rid]
                    rec.vis = ts
                    store.archive(rec, ts)
                    result["archived"].append(rec.sid)
            if future_updated:
                result["future_updated"] = []
                pool = [rid for rid in store.ids if not store.recs[rid].archived]
                for rid in sorted(rng.sample(pool, min(future_updated, len(pool)))):
                    rec = store.recs[rid]
                    rec.set_updated(FUTURE_MS + rng.randint(0, 364 * 86400000))
                    rec.vis = ts
                    result["future_updated"].append(rec.sid)
            for _ in range(create):
                rid = (store.ids[-1] if store.ids else self.catalog.id_base(otype)) + rng.randint(1, 3)
                rec = store.new_rec(rid, ts, ts)
                rec.vis = ts
                self._associate_new(rng, otype, rid)
                result["created"].append(rec.sid)
            for item in associate or []:
                to_type = self.catalog.normalize(item.get("toType"))
                try:
                    a_id, b_id = int(item["from"]), int(item["to"])
                except (KeyError, TypeError, ValueError):
                    raise ValueError("associate entries need numeric 'from' and 'to'")
                if to_type is None or (otype, to_type) not in self.directions:
                    raise ValueError(f"cannot associate {otype} with {item.get('toType')}")
                if a_id not in store.recs or b_id not in self.objects[to_type].recs:
                    raise ValueError(f"unknown record in association {item}")
                bits = BIT_DEFAULT
                label = item.get("label")
                if label:
                    for i, (lab, _) in enumerate(self.directions[(otype, to_type)].labels):
                        if lab == label:
                            bits |= BIT_LABEL0 << i
                if item.get("primary") and self.directions[(otype, to_type)].primary_id is not None:
                    bits |= BIT_PRIMARY
                self.add_assoc(otype, a_id, to_type, b_id, bits)
                result["associated"].append({"from": str(a_id), "toType": to_type, "to": str(b_id)})
            return result

    def _pick(self, rng: random.Random, otype: str, k: int) -> List[int]:
        store = self.objects[otype]
        out: List[int] = []
        if not store.ids:
            return out
        for _ in range(k * 3):
            rid = rng.choice(store.ids)
            if not store.recs[rid].archived and rid not in out:
                out.append(rid)
            if len(out) >= k:
                break
        return out

    def _associate_new(self, rng: random.Random, otype: str, rid: int) -> None:
        """Links a created record: HubSpot-shaped for the core types and activities, up to one record of each type it
        is associated with for any other type. Every draw of the table is made whatever the type, as before."""
        plans = {
            "contacts": [("companies", 1, BIT_PRIMARY), ("deals", rng.randint(0, 1), 0)],
            "companies": [("contacts", rng.randint(1, 3), 0)],
            "deals": [("contacts", rng.randint(1, 2), 0), ("companies", 1, BIT_PRIMARY)],
            "tickets": [("contacts", 1, 0), ("companies", 1, BIT_PRIMARY)],
        }
        activity_plan = [("contacts", 1, 0), ("companies", rng.randint(0, 1), 0), ("deals", rng.randint(0, 1), 0)]
        if otype in plans:
            plan = plans[otype]
        elif otype in self.catalog.activity_types and all((otype, o) in self.directions for o, _, _ in activity_plan):
            plan = activity_plan
        else:
            plan = [(other, rng.randint(0, 1), 0) for other in self.catalog.partners(otype)]
        for other, k, bits in plan:
            for oid in self._pick(rng, other, k):
                self.add_assoc(otype, rid, other, oid, bits)

