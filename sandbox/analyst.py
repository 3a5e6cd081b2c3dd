"""The sandbox's analyst tables: owners, pipelines, association labels, property history, merges and deal splits.

Everything here is generated after the CRM records, from its own random.Random seeded by the portal seed, so the
records, ids and values that `sandbox.data` generates are the same with or without it. Property history is not
stored: the versions of a value are derived from (record, property) when asked for, plus the versions written
through the control plane. Deal splits are derived the same way, from (deal, its owner).
"""
from __future__ import annotations

import random
import threading
from typing import Any, Dict, List, Optional, Tuple

from sandbox.association_types import BIT_DEFAULT, BIT_LABEL0, BIT_PRIMARY
from sandbox.data import Store
from sandbox.properties import K_POOL, OWNER_IDS, PropSpec
from sandbox.records import Rec, prop_value
from sandbox.values import END_UPDATED_MS, M64, START_MS, iso_ms, mix64, now_ms

CRM_TYPES = ["contacts", "companies", "deals", "tickets"]
MERGED_IDS = "hs_merged_object_ids"
MERGED_VIDS = "hs_calculated_merged_vids"  # contacts only: "vid:epoch-ms;vid:epoch-ms"

TEAMS = [("1101", "Sales EMEA"), ("1102", "Sales North America"), ("1103", "Customer Support"), ("1104", "Renewals")]
OWNER_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
OWNER_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Berners-Lee"]
OWNERS_MAX_LIMIT = 500
HISTORY_MAX_INPUTS = 50  # batch read and list with propertiesWithHistory
SPLITS_MAX_INPUTS = 100  # POST /crm/v3/objects/deals/splits/batch/read (HubSpot's batch read limit)
# Shares of a deal's credit (each split's hs_deal_split_percentage; HubSpot requires them to sum to 1.0)
SPLIT_SHARES = [("0.5", "0.5"), ("0.6", "0.4"), ("0.5", "0.3", "0.2")]

# (label, displayOrder, probability) for the deal stages the generated deals use, then a second pipeline.
DEAL_PIPELINES = [
    ("default", "Sales Pipeline", 0, [
        ("appointmentscheduled", "Appointment Scheduled", "0.2"), ("qualifiedtobuy", "Qualified To Buy", "0.4"),
        ("presentationscheduled", "Presentation Scheduled", "0.6"),
        ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"), ("contractsent", "Contract Sent", "0.9"),
        ("closedwon", "Closed Won", "1.0"), ("closedlost", "Closed Lost", "0.0"),
    ]),
    ("75e28846-ad0d-4be2-a027-5e1da6590b98", "Renewals", 1, [
        ("1031823", "Renewal due", "0.5"), ("1031824", "Renewed", "1.0"), ("1031825", "Churned", "0.0"),
    ]),
]
# (id, label, state) for the ticket stages the generated tickets use, then a second pipeline.
TICKET_PIPELINES = [
    ("0", "Support Pipeline", 0, [("1", "New", "OPEN"), ("2", "Waiting on contact", "OPEN"),
                                  ("3", "Waiting on us", "OPEN"), ("4", "Closed", "CLOSED")]),
    ("8844201", "Escalations", 1, [("8844202", "Escalated", "OPEN"), ("8844203", "Resolved", "CLOSED")]),
]
PIPELINE_CREATED = "2021-03-02T09:15:00.000Z"
PIPELINE_UPDATED = "2023-11-20T16:40:12.345Z"

SOURCES = [  # sourceType, sourceId pattern, sourceLabel, by a user
    ("CRM_UI", "userId:{user}", None, True),
    ("API", "2874601", "Sandbox Integration", False),
    ("IMPORT", "import-{n}", "Contacts import", True),
    ("WORKFLOWS", "workflow-{n}", "Lead routing", False),
    ("INTEGRATION", "52841", "Salesforce", False),
]


def _h(*parts: Any) -> int:
    value = 0
    for part in parts:
        value = mix64(value ^ (part if isinstance(part, int) else mix64(hash_text(str(part)))))
    return value


def hash_text(text: str) -> int:
    value = 1469598103934665603
    for byte in text.encode():
        value = ((value ^ byte) * 1099511628211) & M64
    return value


def analyst_specs(otype: str) -> List[PropSpec]:
    """Properties the analyst tables read that the CRM generator does not have: read-only, null unless merged."""
    if otype not in CRM_TYPES:
        return []
    specs = [PropSpec(MERGED_IDS, "enumeration", label="Merged record IDs", field_type="checkbox", multi=True,
                        kind=-1, read_only=True)]
    if otype == "contacts":
        specs.append(PropSpec(MERGED_VIDS, "enumeration", label="Merged contact IDs with timestamps",
                                field_type="checkbox", multi=True, kind=-1, read_only=True))
    return specs


class AnalystData:
    def __init__(self, store: Store, owners: int = 10, archived_owners: int = 3, merged_share: float = 0.03) -> None:
        self.store = store
        self.lock = threading.RLock()
        rng = random.Random(f"{store.seed}:analyst")
        self.owners: Dict[str, dict] = {}
        self._generate_owners(rng, max(owners, len(OWNER_IDS)), archived_owners)
        self.pipelines = {"deals": self._pipelines(DEAL_PIPELINES, "probability"),
                          "tickets": self._pipelines(TICKET_PIPELINES, "ticketState")}
        # (object type, record id, property) -> versions written through the control plane, newest first
        self.written: Dict[Tuple[str, int, str], List[dict]] = {}
        self.merged_share = merged_share
        self._generate_merges(rng)

    # ------------------------------------------------------------ owners
    def _generate_owners(self, rng: random.Random, active: int, archived: int) -> None:
        ids = list(OWNER_IDS)
        next_id = 60000000
        while len(ids) < active + archived:
            next_id += rng.randint(1, 999)
            ids.append(str(next_id))
        for i, oid in enumerate(ids):
            first, last = rng.choice(OWNER_FIRST), rng.choice(OWNER_LAST)
            created = rng.randint(START_MS - 86400000 * 400, START_MS)
            updated = rng.randint(created, END_UPDATED_MS)
            user = 9000000 + i * 7
            is_archived = i >= active
            teams = []
            for j, (tid, name) in enumerate(rng.sample(TEAMS, rng.randint(0, 2))):
                teams.append({"id": tid, "name": name, "primary": j == 0})
            self.owners[oid] = {
                "id": oid, "email": f"{first.lower()}.{last.lower().replace(' ', '')}{i}@sandbox.example.com",
                "type": "PERSON", "firstName": first, "lastName": last,
                "userId": None if is_archived else user, "userIdIncludingInactive": user,
                "createdAt": iso_ms(created), "updatedAt": iso_ms(updated), "archived": is_archived,
                "teams": teams,
            }

    def list_owners(self, archived: bool, email: Optional[str] = None) -> List[dict]:
        with self.lock:
            chosen = [o for o in self.owners.values() if o["archived"] == archived]
            if email:
                chosen = [o for o in chosen if o["email"] == email]
            return [dict(o, teams=[dict(t) for t in o["teams"]]) for o in sorted(chosen, key=lambda o: int(o["id"]))]

    def change_owner(self, change: dict) -> dict:
        with self.lock:
            oid = str(change.get("id") or "")
            if oid not in self.owners:
                if oid:
                    raise ValueError(f"no owner {oid}")
                oid = str(max(int(i) for i in self.owners) + 1)
                self.owners[oid] = {"id": oid, "email": f"new.owner{oid}@sandbox.example.com", "type": "PERSON",
                                    "firstName": "New", "lastName": "Owner", "userId": int(oid) % 10000000,
                                    "userIdIncludingInactive": int(oid) % 10000000,
                                    "createdAt": iso_ms(now_ms()), "updatedAt": None, "archived": False,
                                    "teams": []}
            owner = self.owners[oid]
            for key in ("email", "firstName", "lastName", "teams"):
                if key in change:
                    owner[key] = change[key]
            if "archived" in change:
                owner["archived"] = bool(change["archived"])
                owner["userId"] = None if owner["archived"] else owner["userIdIncludingInactive"]
            owner["updatedAt"] = iso_ms(now_ms())
            return dict(owner)

    # ------------------------------------------------------------ pipelines
    @staticmethod
    def _pipelines(spec: List[Tuple[str, str, int, List[Tuple[str, str, str]]]], metadata_key: str) -> List[dict]:
        out = []
        for pid, label, order, stages in spec:
            stage_rows = []
            for i, (sid, slabel, value) in enumerate(stages):
                if metadata_key == "probability":
                    metadata = {"isClosed": "true" if sid in ("closedwon", "closedlost") or value in ("0.0", "1.0")
                                else "false", "probability": value}
                else:
                    metadata = {"ticketState": value, "isClosed": "true" if value == "CLOSED" else "false"}
                stage_rows.append({"label": slabel, "displayOrder": i, "metadata": metadata, "id": sid,
                                   "createdAt": PIPELINE_CREATED, "updatedAt": PIPELINE_UPDATED, "archived": False,
                                   "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"})
            out.append({"label": label, "displayOrder": order, "id": pid, "stages": stage_rows,
                        "createdAt": PIPELINE_CREATED, "updatedAt": PIPELINE_UPDATED, "archived": False})
        return out

    # ------------------------------------------------------------ association labels
    def association_labels(self, from_type: str, to_type: str) -> List[dict]:
        direction = self.store.directions.get((from_type, to_type))
        return [dict(t) for _, t in direction.v4_types] if direction else []

    def links(self, from_type: str, to_type: str) -> List[dict]:
        """Every link the v4 batch read returns for active from-records (the control plane's truth)."""
        store = self.store
        direction = store.directions[(from_type, to_type)]
        out = []
        with store.lock:
            ostore = store.objects[from_type]
            for rid in ostore.ids:
                rec = ostore.recs[rid]
                if rec.archived:
                    continue
                for tid, bits in store.associations_of(from_type, rid, to_type):
                    for bit, t in direction.v4_types:
                        if bits & bit:
                            out.append({"fromObjectId": rec.sid, "toObjectId": str(tid), "associationTypeId": t["typeId"],
                                        "associationCategory": t["category"], "associationLabel": t["label"]})
        return out

    def add_link(self, from_type: str, from_id: Any, to_type: str, to_id: Any, label: Optional[str] = None,
                 primary: bool = False) -> dict:
        """Links two records (with a label) and bumps the from-record's modification date."""
        store = self.store
        direction = store.directions.get((from_type, to_type))
        if direction is None:
            raise ValueError(f"cannot link {from_type} to {to_type}")
        with store.lock:
            rec = store.objects[from_type].active(int(from_id))
            target = store.objects[to_type].active(int(to_id))
            if rec is None or target is None:
                raise ValueError("both records must exist and be active")
            bits = BIT_DEFAULT
            if label:
                names = [name for name, _ in direction.labels]
                if label not in names:
                    raise ValueError(f"unknown label {label!r}; known: {names}")
                bits |= BIT_LABEL0 << names.index(label)
            if primary and direction.primary_id is not None:
                bits |= BIT_PRIMARY
            store.add_assoc(from_type, rec.id, to_type, target.id, bits)
            self._touch(rec)
            return {"from": rec.sid, "to": target.sid, "updatedAt": rec.updated_iso}

    # ------------------------------------------------------------ property history
    def write_property(self, otype: str, rid: Any, name: str, value: Any, source_type: str = "API",
                       source_id: str = "2874601") -> dict:
        store = self.store
        spec = store.schemas[otype].by_name.get(name)
        if spec is None:
            raise ValueError(f"{otype} has no property {name}")
        with store.lock:
            rec = store.objects[otype].active(int(rid))
            if rec is None:
                raise ValueError(f"no active {otype} record {rid}")
            now = self._touch(rec)
            if rec.ov is None:
                rec.ov = {}
            rec.ov[name] = value
            version = {"value": value, "timestamp": iso_ms(now), "sourceType": source_type, "sourceId": source_id,
                       "sourceLabel": None, "updatedByUserId": None}
            self.written.setdefault((otype, rec.id, name), []).insert(0, version)
            return {"id": rec.sid, "property": name, "version": version, "updatedAt": rec.updated_iso}

    def history(self, otype: str, rec: Rec, name: str) -> List[dict]:
        """The versions of one property of one record, newest first; the newest always holds the current value."""
        spec = self.store.schemas[otype].by_name.get(name)
        if spec is None:
            return []
        versions = [dict(v) for v in self.written.get((otype, rec.id, name), [])]
        versions += self._generated_history(otype, rec, spec)
        current = prop_value(rec, spec)
        if current is not None and (not versions or versions[0]["value"] != current):
            # changed through /_sandbox/mutate, which keeps no history: HubSpot would show the change
            versions.insert(0, {"value": current, "timestamp": rec.updated_iso, "sourceType": "CRM_UI",
                                "sourceId": "userId:9000000", "sourceLabel": None, "updatedByUserId": 9000000})
        return versions

    def _generated_history(self, otype: str, rec: Rec, spec: PropSpec) -> List[dict]:
        """Up to three versions in the record's first days, ending with the value the generator gave it.

        Derived from (seed, record, property) alone, so they stay the same whatever the control plane changes.
        """
        value = prop_value(_Unchanged(rec), spec)
        if value is None:
            return []
        h = _h(self.store.seed, otype, rec.id, spec.name)
        count = 1 + h % 3 if spec.kind == K_POOL else 1
        values = [value]
        for i in range(1, count):
            pick = spec.pool[(h >> (6 * i)) % spec.npool]
            values.append(pick if pick != values[-1] else spec.pool[((h >> (6 * i)) + 1) % spec.npool])
        stamp = rec.created
        versions = []
        for i, old_value in enumerate(reversed(values)):
            source_type, source_id, label, by_user = SOURCES[(h >> (20 + 3 * i)) % len(SOURCES)]
            user = 9000000 + 7 * ((h >> (30 + 2 * i)) % 5)
            versions.append({
                "value": old_value, "timestamp": iso_ms(stamp), "sourceType": source_type,
                "sourceId": source_id.format(user=user, n=(h >> 40) % 900 + 100), "sourceLabel": label,
                "updatedByUserId": user if by_user else None,
            })
            stamp += 1 + (h >> (44 + 4 * i)) % 86400000
        versions.reverse()
        return versions

    # ------------------------------------------------------------ merges
    def _generate_merges(self, rng: random.Random) -> None:
        store = self.store
        for otype in CRM_TYPES:
            ostore = store.objects[otype]
            active = [rid for rid in ostore.ids if not ostore.recs[rid].archived]
            if not active:
                continue
            survivors = sorted(rng.sample(active, max(1, int(len(active) * self.merged_share))))
            next_id = store.catalog.id_base(otype) + 700000000
            for rid in survivors:
                rec = ostore.recs[rid]
                merged = []
                for _ in range(rng.randint(1, 2)):
                    next_id += rng.randint(1, 50)
                    merged.append((next_id, rng.randint(rec.created, rec.updated)))
                self._record_merge(otype, rec, merged)

    def _record_merge(self, otype: str, rec: Rec, merged: List[Tuple[int, int]]) -> None:
        if rec.ov is None:
            rec.ov = {}
        ids = [x for x in (rec.ov.get(MERGED_IDS) or "").split(";") if x]
        ids += [str(mid) for mid, _ in merged]
        rec.ov[MERGED_IDS] = ";".join(ids)
        if otype == "contacts":
            vids = [x for x in (rec.ov.get(MERGED_VIDS) or "").split(";") if x]
            vids += [f"{mid}:{at}" for mid, at in merged]
            rec.ov[MERGED_VIDS] = ";".join(vids)

    def merge(self, otype: str, into_id: Any, from_id: Any) -> dict:
        """Merges record `from_id` into `into_id`: the loser is archived, the survivor lists it and is modified."""
        store = self.store
        if otype not in CRM_TYPES:
            raise ValueError(f"{otype} records cannot be merged")
        with store.lock:
            ostore = store.objects[otype]
            survivor, loser = ostore.active(int(into_id)), ostore.active(int(from_id))
            if survivor is None or loser is None or survivor is loser:
                raise ValueError("merge needs two different active records")
            now = self._touch(survivor)
            ostore.archive(loser, now)
            self._record_merge(otype, survivor, [(loser.id, now)])
            return {"id": survivor.sid, "merged": loser.sid, "updatedAt": survivor.updated_iso}

    def merges(self) -> List[dict]:
        out = []
        store = self.store
        with store.lock:
            for otype in CRM_TYPES:
                ostore = store.objects[otype]
                for rid in ostore.ids:
                    rec = ostore.recs[rid]
                    if rec.archived or not rec.ov or not rec.ov.get(MERGED_IDS):
                        continue
                    at = dict(x.split(":") for x in (rec.ov.get(MERGED_VIDS) or "").split(";") if ":" in x)
                    for mid in rec.ov[MERGED_IDS].split(";"):
                        out.append({"objectType": otype, "mergedId": mid, "survivingId": rec.sid,
                                    "mergedAt": iso_ms(int(at[mid])) if mid in at else None})
        return out

    # ------------------------------------------------------------ deal splits
    def deal_splits(self, rec: Rec) -> List[dict]:
        """The splits of one deal as HubSpot's deal splits API returns them: a quarter of the deals have two or three,
        the first for the deal's owner (HubSpot requires the owner among them), the rest none.

        Derived from (seed, deal) and the deal's owner, so they follow the owner the control plane gives a deal.
        """
        h = _h(self.store.seed, "deal_splits", rec.id)
        if h % 4 or rec.archived:
            return []
        spec = self.store.schemas["deals"].by_name.get("hubspot_owner_id")
        owner = prop_value(rec, spec) if spec is not None else None
        shares = SPLIT_SHARES[(h >> 3) % len(SPLIT_SHARES)]
        others = [o for o in OWNER_IDS if o != owner]
        start = (h >> 8) % len(others)
        owners = [str(owner or others[-1])] + [others[(start + i) % len(others)] for i in range(len(shares) - 1)]
        created = rec.created + 1 + (h >> 16) % 86400000
        updated = max(created, rec.updated - (h >> 40) % 3600000)
        return [{
            "id": str(rec.id * 100 + i + 1),
            "properties": {"hs_deal_split_percentage": share, "hubspot_owner_id": split_owner},
            "createdAt": iso_ms(created), "updatedAt": iso_ms(updated), "archived": False,
        } for i, (share, split_owner) in enumerate(zip(shares, owners))]

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _touch(rec: Rec) -> int:
        now = max(now_ms(), rec.updated + 1)
        rec.set_updated(now)
        rec.vis = now
        return now


class _Unchanged:
    """A record seen without its control-plane overlay: the value the generator gave it."""

    __slots__ = ("id", "sid", "base", "created", "updated", "created_iso", "updated_iso", "archived", "archived_iso",
                 "ov", "vis")

    def __init__(self, rec: Rec) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(rec, name))
        self.ov = None
