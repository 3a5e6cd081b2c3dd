"""The fake HubSpot's application: one request in, one Response out.

`SandboxApp.dispatch` sends `/_sandbox/...` to the control plane (sandbox/control.py) and every other path through
what HubSpot does before answering: the URL length limit, injected faults (sandbox/faults.py), latency, the OAuth
token endpoint, authentication, the rate limits (sandbox/limits.py), then the route (a date-versioned path as its
numbered twin, sandbox/versions.py): objects
(sandbox/objects_api.py), search (sandbox/search_api.py), associations (sandbox/associations_api.py), owners,
pipelines and labels (sandbox/analyst_api.py), properties and the account. It also keeps the request statistics
`/_sandbox/stats` shows.
"""
from __future__ import annotations

import random
import re
import secrets
import threading
import time
from typing import Any, Dict, Mapping, Optional, Set, Union
from urllib.parse import parse_qs, urlsplit

from sandbox import custom_objects
from sandbox.analyst import AnalystData
from sandbox.analyst_api import AnalystApi
from sandbox.associations_api import AssociationsApi
from sandbox.catalog import Catalog
from sandbox.config import SandboxConfig
from sandbox.control import Control
from sandbox.data import Store
from sandbox.faults import Faults
from sandbox.limits import RateLimits, ten_secondly_body
from sandbox.objects_api import ObjectsApi
from sandbox.quirks import Quirks
from sandbox.responses import (HTML_414, HTML_502, RESET, ApiError, Headers, Response, cid, dumps, err_body,
                               json_body, loads, ok)
from sandbox.search_api import SearchApi
from sandbox.shapes import DOCUMENTED, documented
from sandbox.versions import ACCOUNT_PATH, route_path

AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
SCOPES_MESSAGE = ("This app hasn't been granted all required scopes to make this call. Read more about required "
                  "scopes here: https://developers.hubspot.com/scopes.")
TOKEN_PATH = "/oauth/v1/token"

OBJ_RE = re.compile(r"^/crm/v3/objects/([^/]+)(?:/(search|batch/read|[^/]+))?(?:/associations/([^/]+))?$")
PROPS_RE = re.compile(r"^/crm/v3/properties/([^/]+)$")
V4_BATCH_RE = re.compile(r"^/crm/v4/associations/([^/]+)/([^/]+)/batch/read$")
V4_OBJ_RE = re.compile(r"^/crm/v4/objects/([^/]+)/([^/]+)/associations/([^/]+)$")

# The schemas API's numbered paths (a date-versioned /crm-object-schemas/YYYY-MM/schemas is routed as the first).
SCHEMAS_PATHS = ("/crm/v3/schemas", "/crm-object-schemas/v3/schemas")

Answer = Union[Response, object]  # a Response, or RESET


def missing_scopes(need: str) -> ApiError:
    """HubSpot's 403 for a token without the scope `need`."""
    return ApiError(403, {
        "status": "error", "message": SCOPES_MESSAGE, "correlationId": cid(),
        "errors": [{"message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": [need]}}],
        "links": {"scopes": "https://developers.hubspot.com/scopes"},
        "category": "MISSING_SCOPES"})


class SandboxApp:
    """The data (built from the registry's object types at construction), the state every route shares (tokens,
    limits, faults, quirks, the search cache, stats) and one handler per concern, each holding the app."""

    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        catalog = Catalog.from_registry(cfg.custom_objects, cfg.portal_id)
        counts = {t: cfg.records_of(t) for t in catalog.names}
        self.store = Store(seed=cfg.seed, counts=counts, custom_properties=cfg.custom_properties,
                           custom_properties_types=cfg.custom_properties_types, same_timestamp=cfg.same_timestamp, archived=cfg.archived, catalog=catalog)
        self.catalog = catalog
        self.state_lock = threading.Lock()
        self.search_cache: Dict[Any, Any] = {}  # (object type, filters) -> id-ordered matches, for keyset pages
        self.access_tokens: Dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: Set[str] = {cfg.refresh_token}
        self.limits = RateLimits(cfg, self.state_lock)
        self.faults = Faults(cfg.faults)
        self.quirks = Quirks(cfg.quirks)
        self.latency_rng = random.Random(cfg.seed)
        self.base_url = f"http://{cfg.host}:{cfg.port}"
        self.reset_stats()
        self.analyst = AnalystData(self.store, owners=cfg.owners, archived_owners=cfg.archived_owners)
        self.objects = ObjectsApi(self)
        self.search = SearchApi(self)
        self.associations = AssociationsApi(self)
        self.analyst_api = AnalystApi(self)
        self.control = Control(self)

    # -------------------------------------------------------------- stats
    def reset_stats(self) -> None:
        with self.state_lock:
            self.stats: Dict[str, Any] = {"requests": {}, "total": 0, "status_counts": {}, "tokens_issued": 0,
                                          "faults": {}, "quirks": {}}
            if self.cfg.timeline:
                # [start, duration (seconds since this reset), "METHOD /path", status] per API call, for the bench
                self.stats["timeline"] = []
                self.timeline_origin = time.monotonic()

    def _count(self, key: str, status: Union[int, str], started: float) -> None:
        with self.state_lock:
            s = self.stats
            if "timeline" in s:
                s["timeline"].append([round(started - self.timeline_origin, 4), round(time.monotonic() - started, 4),
                                      key, status])
            s["requests"][key] = s["requests"].get(key, 0) + 1
            s["total"] += 1
            k = str(status)
            s["status_counts"][k] = s["status_counts"].get(k, 0) + 1
            if status == 429:
                limited = s.setdefault("rate_limited", {})
                limited[key] = limited.get(key, 0) + 1

    def _count_fault(self, kind: str) -> None:
        with self.state_lock:
            f = self.stats["faults"]
            f[kind] = f.get(kind, 0) + 1

    def count_quirk(self, kind: str, n: int = 1) -> None:
        with self.state_lock:
            f = self.stats["quirks"]
            f[kind] = f.get(kind, 0) + n

    # -------------------------------------------------------------- dispatch
    def dispatch(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        if path.startswith("/_sandbox/"):
            if method != "GET":
                self.search_cache.clear()  # the control plane may change records: cached search results go
            try:
                return self.control.route(method, path, parse_qs(parts.query), body)
            except ApiError as e:
                return Response(e.status, dumps(e.body))
            except Exception as e:  # pragma: no cover
                return Response(500, dumps({"status": "error", "message": f"sandbox control error: {e!r}"}))
            finally:
                if method != "GET":
                    self.search_cache.clear()
        key = f"{method} {path}"  # the path as requested: the stats show which form of each path was called
        started = time.monotonic()
        resp = self._api(method, raw_path, path, parts.query, headers, body)
        self._count(key, resp.status if isinstance(resp, Response) else "reset", started)
        if self.cfg.answer_shape == DOCUMENTED and isinstance(resp, Response) and resp.ctype.startswith("application/json"):
            resp.body = dumps(documented(loads(resp.body), resp.status, route_path(path) == TOKEN_PATH))
        return resp

    def _api(self, method: str, raw_path: str, path: str, query: str, headers: Mapping[str, str],
             body: bytes) -> Answer:
        cfg = self.cfg
        if cfg.max_url_length and len(raw_path) > cfg.max_url_length:
            return Response(414, HTML_414, "text/html")
        requested, path = path, route_path(path)
        is_token = path == TOKEN_PATH
        if not is_token or self.faults.token_endpoint:
            fault = self.faults.draw()
            if fault is not None:
                kind = fault[0]
                self._count_fault(kind)
                if kind == "reset":
                    return RESET
                if kind == "timeout":
                    time.sleep(fault[1])
                elif kind == "error":
                    st = fault[1]
                    if st == 502:
                        return Response(502, HTML_502, "text/html")
                    return Response(st, dumps(err_body("internal error" if st == 500 else "Service unavailable",
                                                       "INTERNAL_ERROR" if st == 500 else "SERVICE_UNAVAILABLE")))
                elif kind == "burst":
                    hdrs: Headers = []
                    if fault[1]:
                        hdrs = [("X-HubSpot-RateLimit-Max", str(cfg.general_rate or 100)),
                                ("X-HubSpot-RateLimit-Remaining", "0"),
                                ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
                                ("Retry-After", "1")]
                    return Response(429, dumps(ten_secondly_body()), headers=hdrs)
        if cfg.latency_ms:
            with self.state_lock:
                f = self.latency_rng.uniform(1 - cfg.latency_spread, 1 + cfg.latency_spread)
            time.sleep(cfg.latency_ms * f / 1000.0)
        try:
            if is_token:
                if method != "POST":
                    raise ApiError(405, err_body("Method not allowed", "VALIDATION_ERROR"))
                return self.token(body, headers)
            self.authenticate(headers)
            is_search = method == "POST" and path.endswith("/search")
            rl_headers = self.limits.take(is_search)
            resp = self.route(method, path, query, body, requested)
            resp.headers.extend(rl_headers)
            return resp
        except ApiError as e:
            return Response(e.status, dumps(e.body), headers=e.headers)
        except Exception as e:  # pragma: no cover - bug guard
            return Response(500, dumps(err_body(f"sandbox internal error: {e!r}", "INTERNAL_ERROR")))

    # -------------------------------------------------------------- auth
    def authenticate(self, headers: Mapping[str, str]) -> None:
        auth = headers.get("Authorization") or ""
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        if token and token == self.cfg.private_app_token:
            return
        if token:
            exp = self.access_tokens.get(token)
            if exp is not None:
                now = time.time()
                if now < exp:
                    return
                raise ApiError(401, {"status": "error",
                                     "message": f"The OAuth token used to make this call expired "
                                                f"{int(now - exp)} second(s) ago.",
                                     "correlationId": cid(), "category": "EXPIRED_AUTHENTICATION",
                                     "context": {}})
        raise ApiError(401, err_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION"))

    def token(self, body: bytes, headers: Mapping[str, str]) -> Response:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        ctype = headers.get("Content-Type") or ""
        if not form and "json" in ctype:
            try:
                form = {k: str(v) for k, v in loads(body).items()}
            except Exception:
                form = {}

        def bad(status: str, message: str) -> ApiError:
            return ApiError(400, {"status": status, "message": message, "correlationId": cid()})

        grant = form.get("grant_type")
        if not grant:
            raise bad("BAD_GRANT_TYPE", "missing or unsupported grant type")
        if grant != "refresh_token":
            raise bad("BAD_GRANT_TYPE", f"unsupported grant type: {grant}")
        if form.get("client_id") != self.cfg.client_id:
            raise bad("BAD_CLIENT_ID", "missing or unknown client id")
        if form.get("client_secret") != self.cfg.client_secret:
            raise bad("BAD_CLIENT_SECRET", "missing or invalid client secret")
        rt = form.get("refresh_token")
        with self.state_lock:
            if not rt or rt not in self.refresh_tokens:
                raise bad("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
            access = "sbx-at-" + secrets.token_urlsafe(24)
            ttl = self.cfg.token_ttl
            self.access_tokens[access] = time.time() + ttl
            if self.cfg.rotate_refresh_token:
                rt = "sbx-rt-" + secrets.token_urlsafe(18)
                self.refresh_tokens.add(rt)
            self.stats["tokens_issued"] += 1
        ttl_out = int(ttl) if float(ttl).is_integer() else ttl
        return ok({"token_type": "bearer", "refresh_token": rt, "access_token": access, "expires_in": ttl_out})

    def require_scopes(self, *otypes: str, schema: bool = False) -> None:
        """A 403 unless the token's scopes read every type (`schema`: a type's crm.schemas scope will do too)."""
        scopes = self.cfg.scopes
        if scopes is None:
            return
        have = set(scopes)
        for t in otypes:
            need = self.catalog.scope(t)
            if need in have or (schema and f"crm.schemas.{t}.read" in have):
                continue
            raise missing_scopes(need)

    # -------------------------------------------------------------- routing
    def object_type(self, name: Optional[str], status: int = 400) -> str:
        """The object type a path or body names; HubSpot's error when it names none the sandbox serves."""
        t = self.catalog.normalize(name)
        if t is None:
            raise ApiError(status, err_body(f"Unable to infer object type from: {name}", "OBJECT_NOT_FOUND"))
        return t

    def route(self, method: str, path: str, query: str, body: bytes, requested: Optional[str] = None) -> Response:
        """The answer to `path` (a numbered path, sandbox/versions.py); `requested`: the path as called, which
        paging links repeat."""
        m = OBJ_RE.match(path)
        if m:
            otype = self.object_type(m.group(1))
            sub, assoc_to = m.group(2), m.group(3)
            self.require_scopes(otype)
            q = parse_qs(query, keep_blank_values=True)
            if sub is None and method == "GET":
                return self.objects.list_objects(otype, q, requested or path)
            if sub == "search" and method == "POST":
                return self.search.search(otype, json_body(body))
            if sub == "batch/read" and method == "POST":
                return self.objects.batch_read(otype, json_body(body), q)
            if sub not in (None, "search", "batch/read") and method == "GET":
                if assoc_to:
                    return self.associations.v3_record_associations(otype, sub, assoc_to, q)
                return self.objects.get_object(otype, sub, q)
        m = PROPS_RE.match(path)
        if m and method == "GET":
            otype = self.object_type(m.group(1), 404)
            self.require_scopes(otype, schema=True)
            return ok({"results": self.store.schemas[otype].property_json()})
        m = V4_BATCH_RE.match(path)
        if m and method == "POST":
            a, b = self.object_type(m.group(1)), self.object_type(m.group(2))
            self.require_scopes(a, b)
            return self.associations.v4_batch(a, b, json_body(body))
        m = V4_OBJ_RE.match(path)
        if m and method == "GET":
            a, b = self.object_type(m.group(1)), self.object_type(m.group(3))
            self.require_scopes(a, b)
            return self.associations.v4_record_associations(a, m.group(2), b, parse_qs(query))
        if path in SCHEMAS_PATHS and method == "GET":
            if self.cfg.scopes is not None and not {custom_objects.SCHEMAS_SCOPE, custom_objects.OBJECTS_SCOPE} & set(self.cfg.scopes):
                raise missing_scopes(custom_objects.SCHEMAS_SCOPE)
            return ok(custom_objects.schemas_answer(self))
        resp = self.analyst_api.route(method, path, query, body)
        if resp is not None:
            return resp
        if path == ACCOUNT_PATH and method == "GET":
            return ok({"portalId": self.cfg.portal_id, "accountType": "STANDARD", "timeZone": "US/Eastern",
                       "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "-05:00",
                       "utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com",
                       "dataHostingLocation": "na1"})
        raise ApiError(404, err_body(f"Unable to route {method} {path}", "OBJECT_NOT_FOUND"))
