"""Property definitions: what a property is (PropSpec), HubSpot's built-in properties per object type, and the
custom properties every type gets.

HubSpot's other standard objects have theirs in sandbox/standard_objects.py. A type neither names gets generic built-in properties: an activity its timestamp and owner, any other
type a name, a description and an owner; every type gets its registry entry's creation and modification properties
and `hs_object_id`.
"""
from __future__ import annotations

from typing import Any, List, Optional

from source_hubspot.objects import ObjectType

DEFAULT_CUSTOM_PROPERTIES = 20  # custom properties per type unless the sandbox is told otherwise

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

K_POOL, K_ID, K_CREATED, K_UPDATED, K_EMAIL, K_DOMAIN = range(6)
CUSTOM_TYPE_CYCLE = ["string", "number", "date", "datetime", "enumeration", "bool", "phone_number",
                     "object_coordinates", "json"]
CUSTOM_OPTIONS = ["option_a", "option_b", "option_c", "option_d"]


class PropSpec:
    """One property: its definition (the properties API's answer) and how its values are generated."""


    __slots__ = ("name", "label", "type", "field_type", "group", "options", "hubspot_defined", "kind", "pool",
                 "npool", "null_thr", "salt", "epoch", "read_only", "display_order", "multi", "cmp")

    def __init__(self, name: str, ptype: str, *, label: Optional[str] = None, field_type: Optional[str] = None,
                 options: Optional[List[str]] = None, hubspot_defined: bool = True, kind: int = K_POOL,
                 null_pct: int = 15, read_only: bool = False, multi: bool = False, epoch: bool = False) -> None:
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
        self.pool: Optional[List[Any]] = None  # the values a K_POOL property picks from (sandbox/schema.py)
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


def _s(name: str, **kw: Any) -> PropSpec:
    return PropSpec(name, "string", **kw)


def _n(name: str, **kw: Any) -> PropSpec:
    return PropSpec(name, "number", **kw)


def _dt(name: str, **kw: Any) -> PropSpec:
    return PropSpec(name, "datetime", **kw)


def _e(name: str, options: List[str], **kw: Any) -> PropSpec:
    return PropSpec(name, "enumeration", options=options, **kw)


def builtin_specs(entry: ObjectType) -> List[PropSpec]:
    """HubSpot's own properties of a type: the table's, or generic ones for a type it does not name."""
    from sandbox import standard_objects  # its table is built from this module's PropSpec

    otype = entry.name
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
    elif entry.activity:
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
    elif otype in standard_objects.BUILTIN:
        specs = standard_objects.BUILTIN[otype]()
    else:
        specs = [_s("name", label="Name", null_pct=2), _s("description", label="Description", field_type="textarea"),
                 owner]
    specs.append(_dt(entry.created_property, label="Create Date", kind=K_CREATED, read_only=True))
    specs.append(_dt(entry.modified_property, label="Last Modified Date", kind=K_UPDATED, read_only=True))
    specs.append(_n("hs_object_id", label="Record ID", kind=K_ID, read_only=True))
    return specs


def custom_specs(n: int) -> List[PropSpec]:
    """`custom_prop_001`.. `custom_prop_{n}`, cycling through HubSpot's property types."""
    specs = []
    n_dt = 0
    for i in range(1, n + 1):
        ptype = CUSTOM_TYPE_CYCLE[(i - 1) % len(CUSTOM_TYPE_CYCLE)]
        name = f"custom_prop_{i:03d}"
        kw: dict = dict(label=f"Custom Prop {i:03d}", hubspot_defined=False)
        if ptype == "enumeration":
            multi = (i // len(CUSTOM_TYPE_CYCLE)) % 2 == 1
            spec = PropSpec(name, ptype, options=list(CUSTOM_OPTIONS), multi=multi, **kw)
        elif ptype == "datetime":
            n_dt += 1
            spec = PropSpec(name, ptype, epoch=(n_dt % 2 == 0), **kw)
        else:
            spec = PropSpec(name, ptype, **kw)
        specs.append(spec)
    return specs

