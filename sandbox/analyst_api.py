"""The analyst tables' reads (their data: sandbox/analyst.py): owners (GET /crm/v3/owners), pipelines (GET
/crm/v3/pipelines/{type}), association labels (GET /crm/v4/associations/{from}/{to}/labels) and deal splits (POST
/crm/v3/objects/deals/splits/batch/read, /deal-splits/{version}/batch/read as a date version)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, Optional
from urllib.parse import parse_qs

from sandbox.analyst import OWNERS_MAX_LIMIT, SPLITS_MAX_INPUTS
from sandbox.values import iso_now
from sandbox.responses import (ApiError, Query, Response, archived_param, batch_response, decode_cursor,
                               encode_cursor, err_body, first_param, int_param, json_body, ok, validation_error)

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

PIPELINES_RE = re.compile(r"^/crm/v3/pipelines/([^/]+)$")
LABELS_RE = re.compile(r"^/crm/v4/associations/([^/]+)/([^/]+)/labels$")
SPLITS_PATH = "/crm/v3/objects/deals/splits/batch/read"


class AnalystApi:
    def __init__(self, app: "SandboxApp") -> None:
        self.app = app

    def route(self, method: str, path: str, query: str, body: bytes = b"") -> Optional[Response]:
        """Owners, pipelines, association labels and deal splits; None when the path is none of them."""
        app = self.app
        if path == SPLITS_PATH and method == "POST":
            app.require_scopes("deal_splits")
            return self.read_deal_splits(json_body(body))
        if method != "GET":
            return None
        q = parse_qs(query, keep_blank_values=True)
        if path == "/crm/v3/owners":
            app.require_scopes("owners")
            return self.list_owners(q)
        m = PIPELINES_RE.match(path)
        if m:
            otype = app.object_type(m.group(1), 404)
            if otype not in app.analyst.pipelines:
                raise ApiError(404, err_body(f"Unable to infer object type from: {m.group(1)}", "OBJECT_NOT_FOUND"))
            app.require_scopes(otype)
            return ok({"results": app.analyst.pipelines[otype]})
        m = LABELS_RE.match(path)
        if m:
            a, b = app.object_type(m.group(1)), app.object_type(m.group(2))
            app.require_scopes(a, b)
            return ok({"results": app.analyst.association_labels(a, b)})
        return None

    def list_owners(self, q: Query) -> Response:
        limit = int_param(first_param(q, "limit"), "limit", 100)
        if limit < 1 or limit > OWNERS_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {OWNERS_MAX_LIMIT}, got {limit}")
        after = first_param(q, "after")
        start = decode_cursor(after) if after else 0
        owners = self.app.analyst.list_owners(archived_param(q), first_param(q, "email"))
        out: Dict[str, Any] = {"results": owners[start:start + limit]}
        if start + limit < len(owners):
            cur = encode_cursor(start + limit)
            out["paging"] = {"next": {"after": cur, "link": f"{self.app.base_url}/crm/v3/owners?after={cur}"}}
        return ok(out)

    def read_deal_splits(self, body: Any) -> Response:
        """HubSpot's batch answer: one result (`id`, `splits`) per deal found, in the order asked; ids that are no
        active deal are named in a 207's error, as the object batch reads do."""
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise validation_error("Invalid input JSON: 'inputs' is required")
        if len(inputs) > SPLITS_MAX_INPUTS:
            raise validation_error(f"Batch input must not exceed {SPLITS_MAX_INPUTS} inputs, got {len(inputs)}")
        started = iso_now()
        store = self.app.store
        results, missing = [], []
        with store.lock:
            deals = store.objects["deals"]
            for item in inputs:
                sid = str(item.get("id") if isinstance(item, dict) else item)
                rec = deals.active(int(sid)) if sid.isdigit() else None
                if rec is None:
                    missing.append(sid)
                else:
                    results.append({"id": rec.sid, "splits": self.app.analyst.deal_splits(rec)})
        errors = []
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some DEAL "
                           "objects, they may be deleted or not exist. Check that ids are valid.",
                           "context": {"ids": missing}})
        return batch_response(results, errors, started, iso_now())
