"""The sandbox portal's custom objects and the schemas API that describes them (`GET /crm/v3/schemas`).

`SandboxConfig.custom_objects` (`--custom-objects N`) gives the portal N custom objects: the first three are fixed,
`cars` (associated with contacts, companies, deals and dealers), `dealers` (companies) and `owners` (contacts; its
name is a built-in stream's), then `widgets_4`, `widgets_5`, ... (contacts and companies). Each is an object type of
the sandbox's catalog like a registered one, named by its fully qualified name `p<portal id>_<name>` with type id
`2-<number>`; paths name it by either (HubSpot refuses a bare `name` in paths since 2025). The schemas API answers
with HubSpot's shape, properties and association definitions included; without crm.schemas.custom.read (or
crm.objects.custom.read) among `scopes` it gives HubSpot's MISSING_SCOPES answer.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from source_hubspot.objects import ObjectType

SCHEMAS_SCOPE = "crm.schemas.custom.read"
OBJECTS_SCOPE = "crm.objects.custom.read"
FIRST_TYPE_NUMBER = 2150001  # HubSpot numbers a portal's custom object types upward
CREATED_AT = "2024-03-05T10:11:12.345Z"

# name, singular label, plural label, associated types (built-in names, or other custom objects' names)
FIXED: List[Tuple[str, str, str, Tuple[str, ...]]] = [
    ("cars", "Car", "Cars", ("contacts", "companies", "deals", "dealers")),
    ("dealers", "Dealer", "Dealers", ("companies",)),
    ("owners", "Owner", "Owners", ("contacts",)),
]


def definitions(count: int) -> List[Tuple[str, str, str, Tuple[str, ...]]]:
    found = list(FIXED[:count])
    for number in range(len(FIXED) + 1, count + 1):
        found.append((f"widgets_{number}", f"Widget {number}", f"Widgets {number}", ("contacts", "companies")))
    return found


def type_id(position: int) -> str:
    return f"2-{FIRST_TYPE_NUMBER + position}"


def fully_qualified(portal_id: int, name: str) -> str:
    return f"p{portal_id}_{name}"


def object_types(count: int, portal_id: int) -> Dict[str, ObjectType]:
    """The catalog entries of the portal's custom objects, by fully qualified name."""
    defined = definitions(count)
    custom_names = {name for name, _, _, _ in defined}
    entries: Dict[str, ObjectType] = {}
    for position, (name, _, _, associated) in enumerate(defined):
        fqn = fully_qualified(portal_id, name)
        entries[fqn] = ObjectType(
            name=fqn, type_id=type_id(position), singular=name, stream=f"custom_{name}", scope=OBJECTS_SCOPE,
            associations=tuple(fully_qualified(portal_id, a) if a in custom_names else a for a in associated),
            created_property="hs_createdate",
        )
    return entries


def is_custom(entry: ObjectType) -> bool:
    return entry.type_id.startswith("2-")


def schemas_answer(app: Any) -> Dict[str, Any]:
    """HubSpot's answer to GET /crm/v3/schemas: every custom object's schema, with its properties and associations."""
    catalog, store = app.catalog, app.store
    results = []
    labels = {fully_qualified(app.cfg.portal_id, name): (singular, plural)
              for name, singular, plural, _ in definitions(app.cfg.custom_objects)}
    for name, entry in catalog.entries.items():
        if not is_custom(entry):
            continue
        singular, plural = labels.get(name, (entry.singular, entry.singular))
        associations = []
        for other in catalog.partners(name):
            direction = catalog.directions[(name, other)]
            associations.append({
                "fromObjectTypeId": entry.type_id, "toObjectTypeId": catalog.entries[other].type_id,
                "name": f"{entry.singular}_to_{catalog.singular[other]}", "id": str(direction.default_id),
                "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
            })
        properties = store.schemas[name].property_json()
        results.append({
            "id": entry.type_id.split("-", 1)[1], "objectTypeId": entry.type_id, "name": entry.singular,
            "fullyQualifiedName": name, "labels": {"singular": singular, "plural": plural},
            "primaryDisplayProperty": "name", "secondaryDisplayProperties": [], "requiredProperties": ["name"],
            "searchableProperties": ["name"], "archived": False, "allowsSensitiveProperties": False,
            "metaType": "PORTAL_SPECIFIC", "createdAt": CREATED_AT, "updatedAt": CREATED_AT, "createdByUserId": 1,
            "properties": properties, "associations": associations,
        })
    return {"results": results}
