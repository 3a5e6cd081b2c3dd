"""What the sandbox holds for each analyst table, in the tables' own row shapes (for the tests and `make demo`)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import requests

from testkit.harness import PRIVATE_APP_TOKEN, Sandbox

# The connector's manifest (definitions.analyst_api) reads these; the sandbox is asked for the same.
LINK_TARGETS = {
    "companies": ["contacts"],
    "deals": ["contacts", "companies"],
    "tickets": ["contacts", "companies", "deals"],
    **{kind: ["contacts", "companies", "deals", "tickets"] for kind in ("calls", "emails", "meetings", "notes", "tasks")},
}
HISTORY_DEFAULTS = {
    "contacts": ["lifecyclestage", "hs_lead_status", "hubspot_owner_id"],
    "companies": ["lifecyclestage", "hubspot_owner_id"],
    "deals": ["dealstage", "amount", "closedate", "hubspot_owner_id", "pipeline"],
    "tickets": ["hs_pipeline_stage", "hs_pipeline", "hs_ticket_priority", "hubspot_owner_id"],
}


def api(sandbox: Sandbox, path: str, **params: Any) -> Any:
    response = requests.get(f"{sandbox.url}{path}", params=params, timeout=60,
                            headers={"Authorization": f"Bearer {PRIVATE_APP_TOKEN}"})
    response.raise_for_status()
    return response.json()


def control(sandbox: Sandbox, what: str, **params: Any) -> Any:
    return sandbox.control("GET", f"analyst/{what}", params=params)["results"]


def owners(sandbox: Sandbox) -> List[Dict[str, Any]]:
    return control(sandbox, "owners")


def pipeline_stages(sandbox: Sandbox, object_type: str) -> Dict[Tuple[str, str], Tuple]:
    """(pipeline id, stage id) -> (pipeline label, stage label, display order, closed, probability, ticket state)."""
    stages = {}
    for pipeline in api(sandbox, f"/crm/v3/pipelines/{object_type}")["results"]:
        for stage in pipeline["stages"]:
            meta = stage["metadata"]
            stages[(pipeline["id"], stage["id"])] = (
                pipeline["label"], stage["label"], stage["displayOrder"], meta["isClosed"] == "true",
                float(meta["probability"]) if "probability" in meta else None, meta.get("ticketState"),
            )
    return stages


def links(sandbox: Sandbox, from_type: str, to_type: str) -> List[Tuple]:
    return [(from_type, link["fromObjectId"], to_type, link["toObjectId"], link["associationTypeId"],
             link["associationCategory"], link["associationLabel"])
            for link in control(sandbox, "links", **{"from": from_type, "to": to_type})]


def all_links(sandbox: Sandbox) -> List[Tuple]:
    return [row for from_type, targets in LINK_TARGETS.items() for to_type in targets
            for row in links(sandbox, from_type, to_type)]


def history(sandbox: Sandbox, object_type: str, properties: List[str]) -> List[Tuple]:
    """(object id, property, value, timestamp, source type, source id) of every version of active records."""
    truth = control(sandbox, "history", type=object_type, properties=",".join(properties))
    return [(object_id, name, v["value"], v["timestamp"], v["sourceType"], v["sourceId"])
            for object_id, by_name in truth.items() for name, versions in by_name.items() for v in versions]


def deal_splits(sandbox: Sandbox) -> List[Tuple]:
    """(split id, deal id, share, owner id, createdAt, updatedAt) of every split of every active deal."""
    return [(split["id"], deal_id, float(split["properties"]["hs_deal_split_percentage"]),
             split["properties"]["hubspot_owner_id"], split["createdAt"], split["updatedAt"])
            for deal_id, splits in control(sandbox, "deal_splits").items() for split in splits]


def merges(sandbox: Sandbox) -> List[Tuple]:
    return [(m["objectType"], m["mergedId"], m["survivingId"], m["mergedAt"]) for m in control(sandbox, "merges")]


def rows_held(sandbox: Sandbox) -> Dict[str, int]:
    """How many rows each analyst table must have (default history properties, every record in range)."""
    return {
        "owners": len(owners(sandbox)),
        "deal_pipelines": len(pipeline_stages(sandbox, "deals")),
        "ticket_pipelines": len(pipeline_stages(sandbox, "tickets")),
        "association_links": len(all_links(sandbox)),
        **{f"{t}_property_history": len(history(sandbox, t, names)) for t, names in HISTORY_DEFAULTS.items()},
        "merges": len(merges(sandbox)),
        "deal_splits": len(deal_splits(sandbox)),
    }
