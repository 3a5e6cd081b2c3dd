"""Every HubSpot CRM object type the connector reads, in one table.

An entry says what HubSpot calls the type (its name in paths and its object type id), the property HubSpot moves
when a record changes, the scope a token needs to read it, the types whose ids each record carries, and the analyst
tables' defaults for it. The manifest's stream entries name an object type and nothing else about it; the
components look the rest up here (`object_type`), and the sandbox generates its data from the same table.

Adding a CRM object type: one `ObjectType` entry below, and a stream entry in manifest.yaml that `$ref`s
`object_stream` with its `name` and `object_type` (HubSpot's other standard objects: a row of STANDARD_OBJECTS and a
one-line stream entry).

Facts (HubSpot's CRM object, search and associations guides): contacts move `lastmodifieddate`, every other type
`hs_lastmodifieddate`; activities (calls, emails, meetings, notes, tasks) are read with the contacts scope; tickets
have the legacy `tickets` scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

CONTACTS_SCOPE = "crm.objects.contacts.read"


@dataclass(frozen=True)
class ObjectType:
    name: str  # HubSpot's name in paths: {objects}/{name} (paths.py)
    type_id: str  # HubSpot's object type id ("0-1")
    singular: str  # "contact": association columns are `{singular}Ids` in the engagements table
    stream: str  # the stream that reads it alone
    scope: str  # the scope a token needs to read it
    associations: Tuple[str, ...] = ()  # object types whose ids each record carries, as `associations.{type}`
    modified_property: str = "hs_lastmodifieddate"
    created_property: str = "createdate"
    activity: bool = False  # one of the engagements table's partitions
    # The properties of its built-in `{stream}_property_history` stream when the config names none; a type without
    # defaults has history only when the config lists its stream (property_history).
    history_defaults: Tuple[str, ...] = ()
    merge_properties: Tuple[str, ...] = ("hs_merged_object_ids",)  # what merges reads
    # A portal may not serve it (its plan lacks it, or it is not activated): discover leaves its stream out with a
    # warning when HubSpot refuses its properties, and association_links does not read its pairs.
    optional: bool = False

    @property
    def association_column(self) -> str:
        return f"{self.singular}Ids"


_CORE = ("contacts", "companies", "deals", "tickets")


def _crm(name: str, type_id: str, singular: str, scope: str, associations: Tuple[str, ...], **more: Any) -> ObjectType:
    """A CRM object type read by a stream of its own name."""
    return ObjectType(name=name, type_id=type_id, singular=singular, stream=name, scope=scope, associations=associations, **more)


def _activity(name: str, type_id: str, singular: str) -> ObjectType:
    """An activity type: its own engagements_ stream and a partition of the engagements table."""
    return ObjectType(
        name=name,
        type_id=type_id,
        singular=singular,
        stream=f"engagements_{name}",
        scope=CONTACTS_SCOPE,
        associations=_CORE,
        created_property="hs_createdate",
        activity=True,
    )


# HubSpot's other standard objects, read through the same object API (list, search, batch read, v4 associations,
# properties). Sources: HubSpot's "Using object APIs" guide (type ids), its OpenAPI specs per object (paths, /search,
# read scopes) and its object guides. Stream names are Airbyte's HubSpot source's where it has the object (goal_targets
# is its `goals`), HubSpot's object name otherwise. Every one moves `hs_lastmodifieddate`; what is not confirmed in
# HubSpot's documents is listed in docs/standard-objects.md ("Not confirmed").
_C, _CO, _D, _T = _CORE
STANDARD_OBJECTS: Tuple[Tuple[str, str, str, str, str, Tuple[str, ...], str], ...] = (
    # name                   type id   singular               stream                 read scope                                associations    created
    ("products",             "0-7",   "product",             "products",             "crm.objects.products.read",             (),             "createdate"),
    ("line_items",           "0-8",   "line_item",           "line_items",           "crm.objects.line_items.read",           (_D,),          "createdate"),
    ("quotes",               "0-14",  "quote",               "quotes",               "crm.objects.quotes.read",               (_C, _CO, _D),  "hs_createdate"),
    ("leads",                "0-136", "lead",                "leads",                "crm.objects.leads.read",                (_C, _CO),      "hs_createdate"),
    ("goal_targets",         "0-74",  "goal_target",         "goals",                "crm.objects.goals.read",                (),             "hs_createdate"),
    ("communications",       "0-18",  "communication",       "communications",       CONTACTS_SCOPE,                          _CORE,          "hs_createdate"),
    ("postal_mail",          "0-116", "postal_mail",         "postal_mail",          CONTACTS_SCOPE,                          _CORE,          "hs_createdate"),
    ("feedback_submissions", "0-19",  "feedback_submission", "feedback_submissions", "crm.objects.feedback_submissions.read", (_C, _T),       "hs_createdate"),
    ("orders",               "0-123", "order",               "orders",               "crm.objects.orders.read",               (_C, _CO, _D),  "hs_createdate"),
    ("carts",                "0-142", "cart",                "carts",                "crm.objects.carts.read",                (_C,),          "hs_createdate"),
    ("invoices",             "0-53",  "invoice",             "invoices",             "crm.objects.invoices.read",             (_C, _CO, _D),  "hs_createdate"),
    ("commerce_payments",    "0-101", "commerce_payment",    "commerce_payments",    "crm.objects.commercepayments.read",     (_C, _CO, _D),  "hs_createdate"),
    ("subscriptions",        "0-69",  "subscription",        "subscriptions",        "crm.objects.subscriptions.read",        (_C, _CO, _D),  "hs_createdate"),
    ("discounts",            "0-84",  "discount",            "discounts",            "crm.objects.line_items.read",           (),             "hs_createdate"),
    ("fees",                 "0-85",  "fee",                 "fees",                 "crm.objects.line_items.read",           (),             "hs_createdate"),
    ("taxes",                "0-86",  "tax",                 "taxes",                "crm.objects.line_items.read",           (),             "hs_createdate"),
    ("appointments",         "0-421", "appointment",         "appointments",         "crm.objects.appointments.read",         _CORE,          "hs_createdate"),
    ("courses",              "0-410", "course",              "courses",              "crm.objects.courses.read",              _CORE,          "hs_createdate"),
    ("listings",             "0-420", "listing",             "listings",             "crm.objects.listings.read",             _CORE,          "hs_createdate"),
    ("services",             "0-162", "service",             "services",             "crm.objects.services.read",             _CORE,          "hs_createdate"),
    ("users",                "0-115", "user",                "users",                "crm.objects.users.read",                (),             "hs_createdate"),
)


def _standard() -> List[ObjectType]:
    return [ObjectType(name=name, type_id=type_id, singular=singular, stream=stream, scope=scope, associations=associations,
                       created_property=created, optional=True)
            for name, type_id, singular, stream, scope, associations, created in STANDARD_OBJECTS]


# The order matters once: association links between two types are read from the one listed later (it has fewer
# records: companies before contacts), so each pair is read once; types registered later (standard objects, custom
# objects found at discover) come after these, so the pairs among these stay as they are.
OBJECT_TYPES: Dict[str, ObjectType] = {
    entry.name: entry
    for entry in (
        _crm("contacts", "0-1", "contact", CONTACTS_SCOPE, ("companies", "deals", "tickets"),
             modified_property="lastmodifieddate",
             history_defaults=("lifecyclestage", "hs_lead_status", "hubspot_owner_id"),
             merge_properties=("hs_merged_object_ids", "hs_calculated_merged_vids")),
        _crm("companies", "0-2", "company", "crm.objects.companies.read", ("contacts", "deals"),
             history_defaults=("lifecyclestage", "hubspot_owner_id")),
        _crm("deals", "0-3", "deal", "crm.objects.deals.read", ("contacts", "companies"),
             history_defaults=("dealstage", "amount", "closedate", "hubspot_owner_id", "pipeline")),
        _crm("tickets", "0-5", "ticket", "tickets", ("contacts", "companies", "deals"),
             history_defaults=("hs_pipeline_stage", "hs_pipeline", "hs_ticket_priority", "hubspot_owner_id")),
        _activity("calls", "0-48", "call"),
        _activity("emails", "0-49", "email"),
        _activity("meetings", "0-47", "meeting"),
        _activity("notes", "0-46", "note"),
        _activity("tasks", "0-27", "task"),
        *_standard(),
    )
}


def object_type(name: str) -> ObjectType:
    """The registry's entry for a HubSpot object type name; an unknown name is a manifest error, said plainly."""
    try:
        return OBJECT_TYPES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not an object type in source_hubspot/objects.py (known: {', '.join(OBJECT_TYPES)})") from None


def register(entry: ObjectType) -> None:
    """Adds an object type (custom objects found at discover, and tests)."""
    OBJECT_TYPES[entry.name] = entry


def unregister(name: str) -> None:
    """Removes an object type `register` added (tests)."""
    OBJECT_TYPES.pop(name, None)


def activity_types() -> List[str]:
    return [entry.name for entry in OBJECT_TYPES.values() if entry.activity]


def link_targets(selected: Iterable[str] = ()) -> Dict[str, List[str]]:
    """from-type -> the types its association links are read to: every associated pair of registered types once,
    read from the type registered later. Two types are associated when either entry names the other (a custom
    object's entry names the types it links to; the core entries need not name it back). An optional type's pairs
    are read when its stream is among `selected` (the streams of the run's catalog: the portal serves it), not
    otherwise (a portal without it would fail the whole table)."""
    chosen = set(selected)
    order = [name for name, entry in OBJECT_TYPES.items() if not entry.optional or entry.stream in chosen]
    targets: Dict[str, List[str]] = {}
    for position, name in enumerate(order):
        earlier = [
            other for other in order[:position]
            if other in OBJECT_TYPES[name].associations or name in OBJECT_TYPES[other].associations
        ]
        if earlier:
            targets[name] = earlier
    return targets


def by_stream(stream: str) -> Optional[ObjectType]:
    """The type read by the object stream `stream`, or None."""
    return next((entry for entry in OBJECT_TYPES.values() if entry.stream == stream), None)


def history_stream(entry: ObjectType) -> str:
    """The name of the property history stream of a type: `{its stream}_property_history`."""
    return f"{entry.stream}_property_history"


def built_in_history_types() -> List[str]:
    """The types with a property history stream of their own in the manifest: those with history_defaults."""
    return [entry.name for entry in OBJECT_TYPES.values() if entry.history_defaults]


def optional_streams() -> List[str]:
    """The streams of the types a portal may not serve (`ObjectType.optional`)."""
    return [entry.stream for entry in OBJECT_TYPES.values() if entry.optional]


def by_type_id() -> Dict[str, ObjectType]:
    return {entry.type_id: entry for entry in OBJECT_TYPES.values()}


__all__ = ["ObjectType", "OBJECT_TYPES", "STANDARD_OBJECTS", "object_type", "register", "unregister", "activity_types",
           "link_targets", "by_stream", "history_stream", "built_in_history_types", "optional_streams", "by_type_id"]
