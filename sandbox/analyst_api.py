"""The analyst tables' reads (their data: sandbox/analyst.py): owners (GET /crm/v3/owners), pipelines (GET
/crm/v3/pipelines/{type}) and association labels (GET /crm/v4/associations/{from}/{to}/labels)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, Optional
from urllib.parse import parse_qs

from sandbox.analyst import OWNERS_MAX_LIMIT
from sandbox.responses import (ApiError, Query, Response, archived_param, decode_cursor, encode_cursor, err_body,
                               first_param, int_param, ok, validation_error)

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

PIPELINES_RE = re.compile(r"^/crm/v3/pipelines/([^/]+)$")
LABELS_RE = re.compile(r"^/crm/v4/associations/([^/]+)/([^/]+)/labels$")


class AnalystApi:
    def __init__(self, app: "SandboxApp") -> None:
        self.app = app

    def route(self, method: str, path: str, query: str) -> Optional[Response]:
        """Owners, pipelines and association labels; None when the path is none of them."""
        if method != "GET":
            return None
        app = self.app
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
