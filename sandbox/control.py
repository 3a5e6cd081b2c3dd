"""The control plane, /_sandbox/...: what tests and tools use to see and change the sandbox, never HubSpot's API.

GET  /_sandbox/health                         {"ok": true}
GET  /_sandbox/objects/{type}[/{id}]          records with every property and association (?archived=include|only|
                                              exclude, ?fields=ids for ids alone)
POST /_sandbox/mutate                         update, create, archive, associate records (sandbox.data.Store.mutate)
GET|POST /_sandbox/config                     the live settings (LIVE_KEYS incl. answer_shape, faults, quirks; reset_rate_limits,
                                              revoke_refresh_tokens, revoke_access_tokens, add_refresh_token)
GET  /_sandbox/stats, POST /_sandbox/stats/reset    requests, statuses, tokens issued, faults and quirks given
GET|POST /_sandbox/analyst/...                owners, links, history, property, merges, deal_splits (sandbox/analyst.py)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from sandbox.faults import Faults
from sandbox.quirks import Quirks
from sandbox.responses import ApiError, Query, Response, csv_param, json_body, ok
from sandbox.shapes import shape_name

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

LIVE_KEYS = ("search_rate", "general_rate", "daily_limit", "latency_ms", "search_lag_seconds", "token_ttl",
             "scopes", "max_url_length", "assoc_page_size", "inline_assoc_limit", "rotate_refresh_token",
             "list_order", "answer_shape", "list_after")


class Control:
    def __init__(self, app: "SandboxApp") -> None:
        self.app = app

    def route(self, method: str, path: str, q: Query, body: bytes) -> Response:
        app = self.app
        store = app.store
        if path == "/_sandbox/health":
            return ok({"ok": True})
        if path.startswith("/_sandbox/objects/") and method == "GET":
            rest = path[len("/_sandbox/objects/"):].split("/")
            otype = app.object_type(rest[0], 404)
            mode = q.get("archived", ["include"])[0]
            with store.lock:
                ostore = store.objects[otype]
                if len(rest) > 1:
                    rec = ostore.recs.get(int(rest[1])) if rest[1].isdigit() else None
                    if rec is None:
                        raise ApiError(404, {"status": "error", "message": "no such record"})
                    return ok(store.full_record(otype, rec))
                if mode == "only":
                    recs = [ostore.recs[i] for i in ostore.archived_ids]
                elif mode == "exclude":
                    recs = [r for r in (ostore.recs[i] for i in ostore.ids) if not r.archived]
                else:
                    recs = [ostore.recs[i] for i in ostore.ids]
                out: Dict[str, Any] = {"ids": [r.sid for r in recs]}
                if q.get("fields", [""])[0] != "ids":
                    out["records"] = {r.sid: store.full_record(otype, r) for r in recs}
            return ok(out)
        if path == "/_sandbox/mutate" and method == "POST":
            b = json_body(body)
            otype = app.object_type(b.get("type"))
            try:
                res = store.mutate(otype, update=int(b.get("update", 0) or 0), create=int(b.get("create", 0) or 0),
                                   archive=int(b.get("archive", 0) or 0), seed=b.get("seed"),
                                   associate=b.get("associate"),
                                   future_updated=int(b.get("future_updated", 0) or 0))
            except ValueError as e:
                raise ApiError(400, {"status": "error", "message": str(e)})
            return ok(res)
        if path.startswith("/_sandbox/analyst/"):
            return self.analyst(method, path[len("/_sandbox/analyst/"):], q, body)
        if path == "/_sandbox/config":
            if method == "POST":
                self.apply_config(json_body(body))
            return ok(self.config_json())
        if path == "/_sandbox/stats" and method == "GET":
            with app.state_lock:
                return ok(app.stats)
        if path == "/_sandbox/stats/reset" and method == "POST":
            app.reset_stats()
            return ok({"ok": True})
        raise ApiError(404, {"status": "error", "message": f"unknown control endpoint {method} {path}"})

    def analyst(self, method: str, sub: str, q: Query, body: bytes) -> Response:
        app = self.app
        an = app.analyst
        kind = app.object_type
        try:
            if sub == "owners" and method == "GET":
                return ok({"results": an.list_owners(False) + an.list_owners(True)})
            if sub == "owners" and method == "POST":
                return ok(an.change_owner(json_body(body)))
            if sub == "links" and method == "GET":
                a, b = kind(q.get("from", [""])[0]), kind(q.get("to", [""])[0])
                return ok({"results": an.links(a, b)})
            if sub == "links" and method == "POST":
                d = json_body(body)
                return ok(an.add_link(kind(d.get("type")), d.get("from"), kind(d.get("toType")), d.get("to"),
                                      d.get("label"), bool(d.get("primary"))))
            if sub == "history" and method == "GET":
                otype = kind(q.get("type", [""])[0])
                names = csv_param(q, "properties")
                with app.store.lock:
                    ostore = app.store.objects[otype]
                    recs = [ostore.recs[i] for i in ostore.ids if not ostore.recs[i].archived]
                    out = {r.sid: {n: an.history(otype, r, n) for n in names} for r in recs}
                return ok({"results": out})
            if sub == "property" and method == "POST":
                d = json_body(body)
                return ok(an.write_property(kind(d.get("type")), d.get("id"), d.get("property"), d.get("value"),
                                            d.get("sourceType") or "API", d.get("sourceId") or "2874601"))
            if sub == "merges" and method == "GET":
                return ok({"results": an.merges()})
            if sub == "deal_splits" and method == "GET":
                with app.store.lock:
                    deals = app.store.objects["deals"]
                    recs = [deals.recs[i] for i in deals.ids if not deals.recs[i].archived]
                    out = {r.sid: an.deal_splits(r) for r in recs}
                return ok({"results": out})
            if sub == "merges" and method == "POST":
                d = json_body(body)
                return ok(an.merge(kind(d.get("type")), d.get("into"), d.get("from")))
        except (ValueError, TypeError) as e:
            raise ApiError(400, {"status": "error", "message": str(e)})
        raise ApiError(404, {"status": "error", "message": f"unknown control endpoint {method} /_sandbox/analyst/{sub}"})

    # -------------------------------------------------------------- live settings
    def apply_config(self, b: Dict[str, Any]) -> None:
        app = self.app
        cfg = app.cfg
        with app.state_lock:
            for k in LIVE_KEYS:
                if k in b:
                    v = b[k]
                    if k == "scopes":
                        if isinstance(v, str):
                            v = [s for s in v.split(",") if s] if v.lower() != "all" else None
                        cfg.scopes = list(v) if v is not None else None
                    elif k == "rotate_refresh_token":
                        cfg.rotate_refresh_token = bool(v)
                    elif k == "list_order":
                        cfg.list_order = "scrambled" if v == "scrambled" else "ascending"
                    elif k == "answer_shape":
                        try:
                            cfg.answer_shape = shape_name(v)
                        except ValueError as e:
                            raise ApiError(400, {"status": "error", "message": str(e)})
                    elif k == "list_after":
                        cfg.list_after = v if v in ("rejected", "ignored", "offset", "exclusive") else "id"
                    else:
                        conv = float if k in ("latency_ms", "search_lag_seconds", "token_ttl") else int
                        setattr(cfg, k, conv(v) if v is not None else 0)
            reset_all = bool(b.get("reset_rate_limits"))
            app.limits.reset(general="general_rate" in b or reset_all, search="search_rate" in b or reset_all,
                             daily="daily_limit" in b or reset_all)
            if b.get("revoke_refresh_tokens"):
                app.refresh_tokens = set()
            if b.get("revoke_access_tokens"):
                app.access_tokens = {}
            if "add_refresh_token" in b:
                app.refresh_tokens.add(str(b["add_refresh_token"]))
        if "faults" in b:
            app.faults = Faults(b["faults"])
        if "quirks" in b:
            try:
                app.quirks = Quirks(b["quirks"])
            except (TypeError, ValueError) as e:
                raise ApiError(400, {"status": "error", "message": f"bad quirks: {e}"})

    def config_json(self) -> Dict[str, Any]:
        app = self.app
        d = {k: getattr(app.cfg, k) for k in LIVE_KEYS}
        d["faults"] = app.faults.spec
        d["quirks"] = app.quirks.spec
        d["daily_count"] = app.limits.daily_count
        d["refresh_tokens"] = len(app.refresh_tokens)
        return d
