"""Deterministic HubSpot-like data generator and in-memory store.

Property values are not stored: they are derived lazily from (seed, object
type, record id, property) through a cheap integer hash that picks a value out
of a small per-property pool.  Mutations go into a per-record overlay dict.
Timestamps, archived flags and associations are stored explicitly.
"""
from __future__ import annotations

import bisect
import random
import threading
import time
from datetime import datetime, timedelta, timezone

M64 = (1 << 64) - 1
GOLD = 0x9E3779B97F4A7C15

OBJECT_TYPES = ["contacts", "companies", "deals", "tickets", "calls", "emails", "meetings", "notes", "tasks"]
ACTIVITY_TYPES = ["calls", "emails", "meetings", "notes", "tasks"]
SINGULAR = {
    "contacts": "contact", "companies": "company", "deals": "deal", "tickets": "ticket",
    "calls": "call", "emails": "email", "meetings": "meeting", "notes": "note", "tasks": "task",
}
OBJECT_TYPE_IDS = {
    "0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets", "0-48": "calls",
    "0-49": "emails", "0-47": "meetings", "0-46": "notes", "0-27": "tasks",
}
# ids of different object types live in different ranges (like real portals)
ID_BASE = {
    "contacts": 100000, "companies": 5000000000, "deals": 9000000000, "tickets": 2000000000,
    "calls": 30000000000, "emails": 31000000000, "meetings": 32000000000, "notes": 33000000000,
    "tasks": 34000000000,
}
MOD_PROP = {t: ("lastmodifieddate" if t == "contacts" else "hs_lastmodifieddate") for t in OBJECT_TYPES}
CREATE_PROP = {t: ("hs_createdate" if t in ACTIVITY_TYPES else "createdate") for t in OBJECT_TYPES}

# object type -> scope required to read it (single place to change)
REQUIRED_SCOPES = {
    "contacts": "crm.objects.contacts.read",
    "companies": "crm.objects.companies.read",
    "deals": "crm.objects.deals.read",
    "tickets": "tickets",
    "calls": "crm.objects.contacts.read",
    "emails": "crm.objects.contacts.read",
    "meetings": "crm.objects.contacts.read",
    "notes": "crm.objects.contacts.read",
    "tasks": "crm.objects.contacts.read",
    "owners": "crm.objects.owners.read",  # not an object type: GET /crm/v3/owners (sandbox/analyst.py)
}

DEFAULT_PROPERTIES = {
    "contacts": ["firstname", "lastname", "email", "createdate", "lastmodifieddate", "hs_object_id"],
    "companies": ["name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"],
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate", "createdate", "hs_lastmodifieddate",
              "hs_object_id"],
    "tickets": ["subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
                "hs_ticket_priority", "createdate", "hs_lastmodifieddate", "hs_object_id"],
}
for _t in ACTIVITY_TYPES:
    DEFAULT_PROPERTIES[_t] = ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]

# ---------------------------------------------------------------- associations
# canonical pair (a, b) -> type id a->b, type id b->a, primary ids (a->b, b->a), user defined labels
ASSOC_PAIRS = {
    ("contacts", "companies"): {"t": (279, 280), "primary": (1, 2), "labels": [("Decision maker", 101, 102)]},
    ("contacts", "deals"): {"t": (4, 3), "primary": None, "labels": [("Champion", 103, 104)]},
    ("contacts", "tickets"): {"t": (15, 16), "primary": None, "labels": []},
    ("companies", "deals"): {"t": (342, 341), "primary": (6, 5), "labels": []},
    ("companies", "tickets"): {"t": (340, 339), "primary": (25, 26), "labels": []},
    ("deals", "tickets"): {"t": (27, 28), "primary": None, "labels": []},
}
_ACT_IDS = {
    "calls": ((194, 193), (182, 181), (206, 205), (220, 219)),
    "emails": ((198, 197), (186, 185), (210, 209), (224, 223)),
    "meetings": ((200, 199), (188, 187), (212, 211), (226, 225)),
    "notes": ((202, 201), (190, 189), (214, 213), (228, 227)),
    "tasks": ((204, 203), (192, 191), (216, 215), (230, 229)),
}
for _a, _ids in _ACT_IDS.items():
    for _b, _t in zip(["contacts", "companies", "deals", "tickets"], _ids):
        ASSOC_PAIRS[(_a, _b)] = {"t": _t, "primary": None, "labels": []}

BIT_DEFAULT = 1
BIT_PRIMARY = 2
BIT_LABEL0 = 4


def _snake(s):
    return "".join(c if c.isalnum() else "_" for c in s.lower())


class AssocDir:
    """Association type metadata for one direction from -> to."""
    __slots__ = ("from_type", "to_type", "default_id", "primary_id", "labels", "v3_names", "v4_types")

    def __init__(self, a, b, default_id, primary_id, labels):
        self.from_type, self.to_type = a, b
        self.default_id, self.primary_id, self.labels = default_id, primary_id, labels  # labels: [(label, id)]
        sa, sb = SINGULAR[a], SINGULAR[b]
        # per bit -> (v3 name, v4 dict)
        self.v3_names = []
        self.v4_types = []
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


ASSOC_DIRS = {}
for (_a, _b), _d in ASSOC_PAIRS.items():
    _p = _d["primary"]
    ASSOC_DIRS[(_a, _b)] = AssocDir(_a, _b, _d["t"][0], _p[0] if _p else None, [(l, x) for l, x, _ in _d["labels"]])
    ASSOC_DIRS[(_b, _a)] = AssocDir(_b, _a, _d["t"][1], _p[1] if _p else None, [(l, y) for l, _, y in _d["labels"]])

# ---------------------------------------------------------------- time helpers
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso_ms(ms: int) -> str:
    dt = EPOCH + timedelta(milliseconds=ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_ms(ms_str: str) -> int:
    return int(ms_str)


def to_ms(dt: datetime) -> int:
    return int((dt - EPOCH) / timedelta(milliseconds=1))


def parse_instant(value):
    """Epoch millis (int / digit string) or ISO-8601 date/datetime -> epoch millis, None if unparseable."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip()
    if not s:
        return None
    if s.lstrip("-").isdigit():
        return int(s)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return to_ms(dt)


def now_ms() -> int:
    return int(time.time() * 1000)


START_MS = to_ms(datetime(2022, 1, 1, tzinfo=timezone.utc))
END_CREATED_MS = to_ms(datetime(2024, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc))
END_UPDATED_MS = to_ms(datetime(2025, 6, 1, tzinfo=timezone.utc))
FUTURE_MS = to_ms(datetime(2099, 1, 1, tzinfo=timezone.utc))  # mutate(future_updated=...): updatedAt in 2099
SAME_TS_MS = to_ms(datetime(2024, 6, 15, 12, 0, 0, 123000, tzinfo=timezone.utc))
PROP_META_CREATED = "2019-08-06T02:41:08.029Z"


def mix64(x: int) -> int:
    x &= M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    x ^= x >> 31
    return x


# ---------------------------------------------------------------- properties
FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chen", "Aisha",
         "José", "Zoë", "Björn", "Søren", "Nguyễn", "O'Brien", "Anne-Marie", "Łukasz", "Yuki", "Priya"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Müller", "D'Angelo", "van der Berg", "O'Neil", "Østergaard", "Kowalski", "Tanaka", "Patel"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "quantum", "synergy", "cloud", "data", "pipeline",
         "rocket", "north", "south", "blue", "green", "global", "micro", "macro", "smart", "rapid",
         "café", "naïve", "東京", "😀", "comma,inside", "quote\"inside", "semi;colon", "new\nline"]
COMPANY_SUFFIX = ["Inc", "LLC", "Ltd", "GmbH", "Corp", "Group", "Labs", "Systems", "& Co", "S.A."]
CITIES = ["Boston", "New York", "San Francisco", "Berlin", "London", "Paris", "Tokyo", "Dublin", "Austin",
          "Chicago", "São Paulo", "Zürich"]
STATES = ["MA", "NY", "CA", "TX", "IL", "WA", "FL", "CO"]
COUNTRIES = ["United States", "Germany", "United Kingdom", "France", "Japan", "Ireland", "Brazil", "Switzerland"]
JOBS = ["CEO", "CTO", "VP Sales", "Engineer", "Marketing Manager", "Account Executive", "Analyst", "Director"]
OWNER_IDS = ["12345678", "23456789", "34567890", "45678901", "56789012"]

FIELD_TYPES = {"string": "text", "number": "number", "date": "date", "datetime": "date",
               "enumeration": "select", "bool": "booleancheckbox", "phone_number": "phonenumber",
               "object_coordinates": "text", "json": "text"}
GROUPS = {"contacts": "contactinformation", "companies": "companyinformation", "deals": "dealinformation",
          "tickets": "ticketinformation", "calls": "call", "emails": "email", "meetings": "meeting",
          "notes": "note", "tasks": "task"}

K_POOL, K_ID, K_CREATED, K_UPDATED, K_EMAIL, K_DOMAIN = range(6)
CUSTOM_TYPE_CYCLE = ["string", "number", "date", "datetime", "enumeration", "bool", "phone_number",
                     "object_coordinates", "json"]


class PropSpec:
    __slots__ = ("name", "label", "type", "field_type", "group", "options", "hubspot_defined", "kind", "pool",
                 "npool", "null_thr", "salt", "epoch", "read_only", "display_order", "multi", "cmp")

    def __init__(self, name, ptype, *, label=None, field_type=None, options=None, hubspot_defined=True,
                 kind=K_POOL, null_pct=15, read_only=False, multi=False, epoch=False):
        self.name = name
        self.label = label or name.replace("_", " ").title()
        self.type = ptype
        self.field_type = field_type or ("checkbox" if multi else FIELD_TYPES[ptype])
        self.options = options or []
        self.hubspot_defined = hubspot_defined
        self.kind = kind
        self.null_thr = (null_pct * 256) // 100
        self.read_only = read_only
        self.multi = multi
        self.epoch = epoch
        self.pool = None
        self.npool = 0
        self.salt = 0
        self.display_order = -1
        # comparison domain used by search
        if kind in (K_ID,) or ptype == "number":
            self.cmp = "number"
        elif ptype in ("datetime", "date"):
            self.cmp = "instant"
        else:
            self.cmp = "string"


def _s(name, **kw):
    return PropSpec(name, "string", **kw)


def _n(name, **kw):
    return PropSpec(name, "number", **kw)


def _dt(name, **kw):
    return PropSpec(name, "datetime", **kw)


def _e(name, options, **kw):
    return PropSpec(name, "enumeration", options=options, **kw)


def _builtin_specs(otype):
    owner = _e("hubspot_owner_id", OWNER_IDS, label="Contact owner" if otype == "contacts" else "Owner")
    lifecycle = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
                 "evangelist", "other"]
    if otype == "contacts":
        specs = [
            _s("firstname", label="First Name", null_pct=5), _s("lastname", label="Last Name", null_pct=5),
            _s("email", label="Email", kind=K_EMAIL, null_pct=3),
            PropSpec("phone", "phone_number"), PropSpec("mobilephone", "phone_number"),
            _s("company"), _s("jobtitle", label="Job Title"), _s("city"), _s("state"), _s("country"),
            _s("website"),
            _e("lifecyclestage", lifecycle, label="Lifecycle Stage", field_type="radio"),
            _e("hs_lead_status", ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED",
                                  "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"], label="Lead Status",
               field_type="radio"),
            _e("hs_analytics_source", ["ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA",
                                       "REFERRALS", "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL"],
               label="Original Source"),
            owner,
            _n("num_notes", label="Number of Sales Activities", read_only=True),
            PropSpec("hs_email_optout", "bool", label="Unsubscribed from all email"),
            PropSpec("date_of_birth", "date", label="Date of birth"),
            _dt("notes_last_updated", label="Last Activity Date", read_only=True),
        ]
    elif otype == "companies":
        specs = [
            _s("name", label="Company name", null_pct=2), _s("domain", label="Company Domain Name", kind=K_DOMAIN,
                                                             null_pct=5),
            _e("industry", ["COMPUTER_SOFTWARE", "INFORMATION_TECHNOLOGY_AND_SERVICES", "MARKETING_AND_ADVERTISING",
                            "FINANCIAL_SERVICES", "HOSPITAL_HEALTH_CARE", "RETAIL", "EDUCATION_MANAGEMENT"],
               label="Industry"),
            _n("numberofemployees", label="Number of Employees"), _n("annualrevenue", label="Annual Revenue"),
            _s("city"), _s("state"), _s("country"), PropSpec("phone", "phone_number"), _s("website"),
            _e("lifecyclestage", lifecycle, label="Lifecycle Stage", field_type="radio"), owner,
            _s("description", field_type="textarea"),
            _n("hs_num_child_companies", label="Number of child companies", read_only=True),
            PropSpec("is_public", "bool", label="Is Public"),
        ]
    elif otype == "deals":
        specs = [
            _s("dealname", label="Deal Name", null_pct=1), _n("amount", label="Amount"),
            _e("dealstage", ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                             "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"], label="Deal Stage",
               null_pct=1),
            _e("pipeline", ["default"], label="Pipeline", null_pct=0), _dt("closedate", label="Close Date"),
            _e("dealtype", ["newbusiness", "existingbusiness"], label="Deal Type", field_type="radio"), owner,
            _e("hs_priority", ["low", "medium", "high"], label="Priority", field_type="radio"),
            _s("description", label="Deal Description", field_type="textarea"),
        ]
    elif otype == "tickets":
        specs = [
            _s("subject", label="Ticket name", null_pct=1), _s("content", label="Ticket description",
                                                               field_type="textarea"),
            _e("hs_pipeline", ["0"], label="Pipeline", null_pct=0),
            _e("hs_pipeline_stage", ["1", "2", "3", "4"], label="Ticket status", null_pct=0),
            _e("hs_ticket_priority", ["LOW", "MEDIUM", "HIGH", "URGENT"], label="Priority"),
            _e("hs_ticket_category", ["PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"],
               label="Category", multi=True),
            _e("source_type", ["EMAIL", "CHAT", "PHONE", "FORM"], label="Source"), owner,
        ]
    else:
        specs = [_dt("hs_timestamp", label="Activity date", null_pct=0), owner]
        if otype == "calls":
            specs += [_s("hs_call_body", label="Call notes", field_type="textarea"), _s("hs_call_title", label="Call Title"),
                      _n("hs_call_duration", label="Call duration"),
                      _e("hs_call_direction", ["INBOUND", "OUTBOUND"], label="Call direction"),
                      _e("hs_call_status", ["COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED"],
                         label="Call status")]
        elif otype == "emails":
            specs += [_s("hs_email_subject", label="Email subject"), _s("hs_email_text", label="Email body",
                                                                         field_type="textarea"),
                      _e("hs_email_direction", ["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"],
                         label="Email direction"),
                      _e("hs_email_status", ["SENT", "BOUNCED", "FAILED", "SCHEDULED", "SENDING"],
                         label="Email send status")]
        elif otype == "meetings":
            specs += [_s("hs_meeting_title", label="Meeting name"), _s("hs_meeting_body", label="Meeting description",
                                                                        field_type="textarea"),
                      _dt("hs_meeting_start_time", label="Start Time"), _dt("hs_meeting_end_time", label="End Time"),
                      _e("hs_meeting_outcome", ["SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"],
                         label="Meeting outcome")]
        elif otype == "notes":
            specs += [_s("hs_note_body", label="Note body", field_type="textarea")]
        elif otype == "tasks":
            specs += [_s("hs_task_subject", label="Task Title"), _s("hs_task_body", label="Notes",
                                                                     field_type="textarea"),
                      _e("hs_task_status", ["NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"],
                         label="Task Status"),
                      _e("hs_task_priority", ["NONE", "LOW", "MEDIUM", "HIGH"], label="Priority"),
                      _e("hs_task_type", ["CALL", "EMAIL", "TODO", "LINKED_IN"], label="Task Type")]
    specs.append(_dt(CREATE_PROP[otype], label="Create Date", kind=K_CREATED, read_only=True))
    specs.append(_dt(MOD_PROP[otype], label="Last Modified Date", kind=K_UPDATED, read_only=True))
    specs.append(_n("hs_object_id", label="Record ID", kind=K_ID, read_only=True))
    return specs


def _custom_specs(n):
    specs = []
    n_dt = 0
    for i in range(1, n + 1):
        ptype = CUSTOM_TYPE_CYCLE[(i - 1) % len(CUSTOM_TYPE_CYCLE)]
        name = f"custom_prop_{i:03d}"
        kw = dict(label=f"Custom Prop {i:03d}", hubspot_defined=False)
        if ptype == "enumeration":
            multi = (i // len(CUSTOM_TYPE_CYCLE)) % 2 == 1
            spec = PropSpec(name, ptype, options=["option_a", "option_b", "option_c", "option_d"], multi=multi, **kw)
        elif ptype == "datetime":
            n_dt += 1
            spec = PropSpec(name, ptype, epoch=(n_dt % 2 == 0), **kw)
        else:
            spec = PropSpec(name, ptype, **kw)
        specs.append(spec)
    return specs


def _pool(spec: PropSpec, rng: random.Random, otype: str):
    name, t = spec.name, spec.type
    size = 97
    out = []
    for _ in range(size):
        if t == "string":
            if name == "firstname":
                v = rng.choice(FIRST)
            elif name == "lastname":
                v = rng.choice(LAST)
            elif name in ("company", "name"):
                v = f"{rng.choice(WORDS[:20]).title()} {rng.choice(WORDS[:20]).title()} {rng.choice(COMPANY_SUFFIX)}"
            elif name == "city":
                v = rng.choice(CITIES)
            elif name == "state":
                v = rng.choice(STATES)
            elif name == "country":
                v = rng.choice(COUNTRIES)
            elif name == "jobtitle":
                v = rng.choice(JOBS)
            elif name == "website":
                v = f"https://www.{rng.choice(WORDS[:20])}{rng.randint(1, 999)}.example.com"
            elif spec.field_type == "textarea" or name.endswith("_body") or name.endswith("_text"):
                v = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))
            else:
                v = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        elif t == "number":
            if name in ("amount", "annualrevenue") or (not spec.hubspot_defined and rng.random() < 0.5):
                v = f"{rng.uniform(0, 100000):.2f}".rstrip("0").rstrip(".")
            elif name == "hs_call_duration":
                v = str(rng.randint(0, 3600000))
            else:
                v = str(rng.randint(0, 5000))
        elif t == "bool":
            v = rng.choice(["true", "false"])
        elif t == "date":
            if name == "date_of_birth":
                d = datetime(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
            else:
                d = datetime(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))
            v = d.strftime("%Y-%m-%d")
        elif t == "datetime":
            ms = rng.randint(START_MS, END_UPDATED_MS)
            v = str(ms) if spec.epoch else iso_ms(ms)
        elif t == "enumeration":
            opts = spec.options
            if spec.multi and rng.random() < 0.4:
                v = ";".join(sorted(rng.sample(opts, min(len(opts), rng.randint(2, 3)))))
            else:
                v = rng.choice(opts)
        elif t == "phone_number":
            v = f"+1 {rng.randint(200, 999)}-555-{rng.randint(0, 9999):04d}"
        elif t == "object_coordinates":
            v = f"{rng.uniform(-90, 90):.4f},{rng.uniform(-180, 180):.4f}"
        elif t == "json":
            v = '{"k": %d, "tags": ["%s"]}' % (rng.randint(0, 99), rng.choice(WORDS[:20]))
        else:
            v = str(rng.random())
        out.append(v)
    return out


class Schema:
    """Property definitions for one object type."""

    def __init__(self, otype, seed, n_custom):
        self.otype = otype
        from sandbox.analyst import analyst_specs  # appended last: the other properties keep order and values

        self.specs = _builtin_specs(otype) + _custom_specs(n_custom) + analyst_specs(otype)
        self.by_name = {}
        for i, spec in enumerate(self.specs):
            spec.display_order = i if spec.hubspot_defined else -1
            rng = random.Random(f"{seed}:{otype}:{spec.name}")
            spec.salt = rng.getrandbits(64)
            if spec.kind == K_POOL:
                spec.pool = _pool(spec, rng, otype)
                spec.npool = len(spec.pool)
            self.by_name[spec.name] = spec
        self.names = [s.name for s in self.specs]
        self.editable = [s for s in self.specs if not s.read_only and s.kind == K_POOL]
        self.mod_prop = MOD_PROP[otype]
        self.create_prop = CREATE_PROP[otype]
        self.defaults = DEFAULT_PROPERTIES[otype]
        self.always = ["hs_object_id", self.create_prop, self.mod_prop]
        self.searchable = [n for n in self.defaults if self.by_name[n].type == "string"] + (
            ["phone", "company"] if otype == "contacts" else [])
        self._json = None

    def property_json(self):
        if self._json is None:
            out = []
            for s in self.specs:
                if s.type == "bool":
                    options = [{"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False, "description": ""},
                               {"label": "No", "value": "false", "displayOrder": 1, "hidden": False, "description": ""}]
                else:
                    options = [{"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False,
                                "description": ""} for i, o in enumerate(s.options)]
                d = {
                    "updatedAt": "2023-05-10T14:22:11.410Z", "createdAt": PROP_META_CREATED,
                    "name": s.name, "label": s.label, "type": s.type, "fieldType": s.field_type,
                    "description": "", "groupName": GROUPS[self.otype], "options": options,
                    "displayOrder": s.display_order, "calculated": False, "externalOptions": False,
                    "hasUniqueValue": s.name == "hs_object_id", "hidden": False,
                    "hubspotDefined": s.hubspot_defined,
                    "modificationMetadata": {"archivable": not s.hubspot_defined, "readOnlyDefinition": s.hubspot_defined,
                                             "readOnlyValue": s.read_only},
                    "formField": not s.read_only,
                }
                if s.type == "number" and s.name != "hs_object_id":
                    d["showCurrencySymbol"] = s.name in ("amount", "annualrevenue")
                if not s.hubspot_defined:
                    d["createdUserId"] = "12345678"
                    d["updatedUserId"] = "12345678"
                out.append(d)
            self._json = out
        return self._json


# ---------------------------------------------------------------- records
class Rec:
    __slots__ = ("id", "sid", "base", "created", "updated", "created_iso", "updated_iso", "archived",
                 "archived_iso", "ov", "vis")

    def __init__(self, rid, base, created, updated):
        self.id = rid
        self.sid = str(rid)
        self.base = base
        self.set_created(created)
        self.set_updated(updated)
        self.archived = False
        self.archived_iso = None
        self.ov = None
        self.vis = 0  # wall ms of the last control-plane mutation (search index lag)

    def set_created(self, ms):
        self.created = ms
        self.created_iso = iso_ms(ms)

    def set_updated(self, ms):
        self.updated = ms
        self.updated_iso = iso_ms(ms)


def prop_value(rec: Rec, spec: PropSpec):
    ov = rec.ov
    if ov is not None and spec.name in ov:
        return ov[spec.name]
    k = spec.kind
    if k == K_POOL:
        h = ((rec.base ^ spec.salt) * GOLD) & M64
        h ^= h >> 29
        if (h & 255) < spec.null_thr:
            return None
        return spec.pool[(h >> 8) % spec.npool]
    if k == K_ID:
        return rec.sid
    if k == K_UPDATED:
        return rec.updated_iso
    if k == K_CREATED:
        return rec.created_iso
    h = ((rec.base ^ spec.salt) * GOLD) & M64
    h ^= h >> 29
    if (h & 255) < spec.null_thr:
        return None
    if k == K_EMAIL:
        return f"{FIRST[(h >> 8) % 20].lower()}.{LAST[(h >> 16) % 20].lower()}.{rec.id}@example{(h >> 24) % 50}.com"
    if k == K_DOMAIN:
        return f"{WORDS[(h >> 8) % 20]}{rec.id % 100000}.example.com"
    return None


def typed_value(rec: Rec, spec: PropSpec):
    """Comparable value used by search (None for missing)."""
    k = spec.kind
    ov = rec.ov
    if ov is None or spec.name not in ov:
        if k == K_ID:
            return rec.id
        if k == K_UPDATED:
            return rec.updated
        if k == K_CREATED:
            return rec.created
    raw = prop_value(rec, spec)
    return convert_value(spec, raw)


def convert_value(spec: PropSpec, raw):
    if raw is None:
        return None
    c = spec.cmp
    if c == "number":
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None
    if c == "instant":
        return parse_instant(raw)
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    return str(raw).lower()


class ObjectStore:
    def __init__(self, otype, schema, type_idx, seed):
        self.otype = otype
        self.schema = schema
        self.type_idx = type_idx
        self.seed_mix = mix64(seed * 1000003 + type_idx * 7919 + 17)
        self.ids = []  # all ids, ascending
        self.archived_ids = []  # archived ids, ascending
        self.recs = {}

    def new_rec(self, rid, created, updated):
        rec = Rec(rid, mix64(self.seed_mix ^ (rid * GOLD & M64)), created, updated)
        self.recs[rid] = rec
        self.ids.append(rid)
        return rec

    def archive(self, rec, ms):
        """Archives `rec` at `ms`: archivedAt moves, updatedAt and the modification date stay (as HubSpot's)."""
        rec.archived = True
        rec.archived_iso = iso_ms(ms)
        bisect.insort(self.archived_ids, rec.id)

    def active(self, rid):
        rec = self.recs.get(rid)
        if rec is None or rec.archived:
            return None
        return rec


class Store:
    def __init__(self, seed=42, counts=None, custom_properties=20, same_timestamp=0, archived=None):
        self.lock = threading.RLock()
        self.seed = seed
        self.counts = counts or {}
        self.mutations = 0
        self.schemas = {}
        self.objects = {}
        for i, t in enumerate(OBJECT_TYPES):
            self.schemas[t] = Schema(t, seed, custom_properties)
            self.objects[t] = ObjectStore(t, self.schemas[t], i, seed)
        # assoc[(a, b)][a_id] -> {b_id: bits}
        self.assoc = {k: {} for k in ASSOC_DIRS}
        for t in OBJECT_TYPES:
            self._generate_records(t, self.counts.get(t, 0), same_timestamp if t == "contacts" else 0, archived)
        self._generate_associations()
        self.big_company_id = None
        comp = self.objects["companies"]
        if comp.ids:
            self.big_company_id = comp.ids[0]

    # ------------------------------------------------------------ generation
    def _generate_records(self, otype, n, same_ts, archived):
        store = self.objects[otype]
        rng = random.Random(f"{self.seed}:{otype}:records")
        rid = ID_BASE[otype]
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

    def add_assoc(self, a, aid, b, bid, bits=BIT_DEFAULT):
        fwd = self.assoc[(a, b)].setdefault(aid, {})
        fwd[bid] = fwd.get(bid, 0) | bits | BIT_DEFAULT
        rev = self.assoc[(b, a)].setdefault(bid, {})
        rev[aid] = rev.get(aid, 0) | bits | BIT_DEFAULT

    def _label_bits(self, rng, a, b, p=0.1):
        d = ASSOC_DIRS[(a, b)]
        bits = 0
        for i in range(len(d.labels)):
            if rng.random() < p:
                bits |= BIT_LABEL0 << i
        return bits

    def _generate_associations(self):
        rng = random.Random(f"{self.seed}:associations")
        ids = {t: self.objects[t].ids for t in OBJECT_TYPES}
        contacts, companies, deals, tickets = ids["contacts"], ids["companies"], ids["deals"], ids["tickets"]
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
        for act in ACTIVITY_TYPES:
            for aid in ids[act]:
                for other in ("contacts", "companies", "deals", "tickets"):
                    pool = ids[other]
                    if pool:
                        for oid in rng.sample(pool, min(len(pool), rng.randint(0, 3))):
                            self.add_assoc(act, aid, other, oid)

    # ------------------------------------------------------------ reading
    def record_properties(self, otype, rec, names):
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

    def resolve_property_names(self, otype, requested):
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

    def record_json(self, otype, rec, names):
        d = {"id": rec.sid, "properties": self.record_properties(otype, rec, names),
             "createdAt": rec.created_iso, "updatedAt": rec.updated_iso, "archived": rec.archived}
        if rec.archived:
            d["archivedAt"] = rec.archived_iso
        return d

    def associations_of(self, from_type, rid, to_type):
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

    def full_record(self, otype, rec):
        d = self.record_json(otype, rec, self.schemas[otype].names)
        assoc = {}
        for (a, b) in ASSOC_DIRS:
            if a == otype:
                lst = self.associations_of(a, rec.id, b)
                if lst:
                    assoc[b] = [str(t) for t, _ in lst]
        d["associations"] = assoc
        return d

    # ------------------------------------------------------------ mutations
    def _rng(self, seed):
        self.mutations += 1
        if seed is not None:
            return random.Random(f"mutate:{seed}")
        return random.Random(f"{self.seed}:mutate:{self.mutations}")

    def _new_value(self, rng, rec, spec):
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

    def mutate(self, otype, update=0, create=0, archive=0, seed=None, associate=None, future_updated=0):
        """Changes records of `otype` (seeded by `seed`): `update` records get new values, `archive` are archived
        (archivedAt now, updatedAt unchanged), `create` are new; `future_updated` active records get an updatedAt
        and modification date in 2099 (a clock HubSpot's data sometimes has), listed under "future_updated"."""
        with self.lock:
            rng = self._rng(seed)
            store = self.objects[otype]
            schema = self.schemas[otype]
            ts = now_ms()
            result = {"type": otype, "updated": [], "created": [], "archived": [], "associated": []}
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
                rid = (store.ids[-1] if store.ids else ID_BASE[otype]) + rng.randint(1, 3)
                rec = store.new_rec(rid, ts, ts)
                rec.vis = ts
                self._associate_new(rng, otype, rid)
                result["created"].append(rec.sid)
            for item in associate or []:
                to_type = normalize_type(item.get("toType"))
                try:
                    a_id, b_id = int(item["from"]), int(item["to"])
                except (KeyError, TypeError, ValueError):
                    raise ValueError("associate entries need numeric 'from' and 'to'")
                if to_type is None or (otype, to_type) not in ASSOC_DIRS:
                    raise ValueError(f"cannot associate {otype} with {item.get('toType')}")
                if a_id not in store.recs or b_id not in self.objects[to_type].recs:
                    raise ValueError(f"unknown record in association {item}")
                bits = BIT_DEFAULT
                label = item.get("label")
                if label:
                    for i, (lab, _) in enumerate(ASSOC_DIRS[(otype, to_type)].labels):
                        if lab == label:
                            bits |= BIT_LABEL0 << i
                if item.get("primary") and ASSOC_DIRS[(otype, to_type)].primary_id is not None:
                    bits |= BIT_PRIMARY
                self.add_assoc(otype, a_id, to_type, b_id, bits)
                result["associated"].append({"from": str(a_id), "toType": to_type, "to": str(b_id)})
            return result

    def _pick(self, rng, otype, k):
        store = self.objects[otype]
        out = []
        if not store.ids:
            return out
        for _ in range(k * 3):
            rid = rng.choice(store.ids)
            if not store.recs[rid].archived and rid not in out:
                out.append(rid)
            if len(out) >= k:
                break
        return out

    def _associate_new(self, rng, otype, rid):
        plan = {
            "contacts": [("companies", 1, BIT_PRIMARY), ("deals", rng.randint(0, 1), 0)],
            "companies": [("contacts", rng.randint(1, 3), 0)],
            "deals": [("contacts", rng.randint(1, 2), 0), ("companies", 1, BIT_PRIMARY)],
            "tickets": [("contacts", 1, 0), ("companies", 1, BIT_PRIMARY)],
        }.get(otype, [("contacts", 1, 0), ("companies", rng.randint(0, 1), 0), ("deals", rng.randint(0, 1), 0)])
        for other, k, bits in plan:
            for oid in self._pick(rng, other, k):
                self.add_assoc(otype, rid, other, oid, bits)


def normalize_type(name):
    if not name:
        return None
    n = str(name).lower()
    if n in OBJECT_TYPE_IDS:
        return OBJECT_TYPE_IDS[n]
    if n in SINGULAR:
        return n
    for plural, single in SINGULAR.items():
        if n == single:
            return plural
    return None
