"""HTTP front-end of the fake HubSpot API ("the sandbox").

Public API: ``SandboxConfig``, ``run_server(config, background=False)`` and the CLI ``main()``.
"""
from __future__ import annotations

import argparse
import base64
import bisect
import dataclasses
import json as std_json
import random
import re
import secrets
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlencode, urlsplit

from sandbox import analyst as A
from sandbox import data as D
from sandbox.faults import Faults
from sandbox.quirks import Quirks

try:
    import orjson

    def dumps(obj) -> bytes:
        return orjson.dumps(obj)

    def loads(b):
        return orjson.loads(b)
except ImportError:  # pragma: no cover
    import json

    def dumps(obj) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(b):
        return json.loads(b)

ASSOC_PAGE_SIZE = 500  # max `to` entries per input per v4 batch response
INLINE_ASSOC_LIMIT = 500  # max associated ids per type inlined in v3 object reads
LIST_MAX_LIMIT = 100
SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10000
BATCH_READ_MAX = 100
ASSOC_BATCH_MAX = 1000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18

AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
SCOPES_MESSAGE = ("This app hasn't been granted all required scopes to make this call. Read more about required "
                  "scopes here: https://developers.hubspot.com/scopes.")


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    port_file: Optional[str] = None
    seed: int = 42
    contacts: int = 1000
    companies: int = 300
    deals: int = 300
    tickets: int = 200
    calls: int = 100
    emails: int = 100
    meetings: int = 100
    notes: int = 100
    tasks: int = 100
    custom_properties: int = 20
    private_app_token: str = "sandbox-private-app-token"
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    refresh_token: str = "sandbox-refresh-token"
    token_ttl: float = 1800
    rotate_refresh_token: bool = False
    scopes: Optional[list] = None  # None = all scopes granted
    search_rate: int = 5  # per rolling second; 0 = unlimited
    general_rate: int = 0  # per rolling 10 s; 0 = unlimited
    daily_limit: int = 0  # 0 = unlimited
    latency_ms: float = 0
    search_lag_seconds: float = 0
    max_url_length: int = 8000
    same_timestamp: int = 0
    archived: Optional[int] = None  # per object; None = 2%
    assoc_page_size: int = ASSOC_PAGE_SIZE
    inline_assoc_limit: int = INLINE_ASSOC_LIMIT
    # "ascending": list pages go by id, as HubSpot's do; "scrambled": a fixed order that is not by id, to show
    # what a client that assumes the order does then.
    list_order: str = "ascending"
    faults: Optional[dict] = None
    quirks: Optional[dict] = None  # hostile-but-legal answers, off by default: see sandbox/quirks.py
    portal_id: int = 12345678
    owners: int = 10  # active owners (the five hubspot_owner_id values among them)
    archived_owners: int = 3


# ------------------------------------------------------------------ helpers
class Response:
    __slots__ = ("status", "body", "ctype", "headers")

    def __init__(self, status, body, ctype="application/json;charset=utf-8", headers=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = headers or []


RESET = object()


class ApiError(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or []


def cid():
    return str(uuid.uuid4())


def err_body(message, category, **extra):
    d = {"status": "error", "message": message, "correlationId": cid(), "category": category}
    d.update(extra)
    return d


def validation_error(message="There was a problem with the request.", **extra):
    return ApiError(400, err_body(message, "VALIDATION_ERROR", **extra))


def encode_cursor(n: int) -> str:
    return base64.urlsafe_b64encode(f"sbx:{n}".encode()).decode().rstrip("=")


def decode_cursor(s: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
        if not raw.startswith("sbx:"):
            raise ValueError
        return int(raw[4:])
    except Exception:
        raise validation_error(f"Invalid paging cursor: {s!r}. Use the value of paging.next.after from the "
                               f"previous response.")


LIST_CURSOR_TAGS = "be"  # b: the disorder block's part of a listing; e: the empty page here was given (quirks)


def encode_list_cursor(n: int, tags: str = "") -> str:
    """A list cursor; without tags exactly `encode_cursor(n)`."""
    if not tags:
        return encode_cursor(n)
    return base64.urlsafe_b64encode(f"sbx:{n}:{tags}".encode()).decode().rstrip("=")


def decode_list_cursor(s: str):
    """-> (position, tags) of a cursor from `encode_list_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
        if not raw.startswith("sbx:"):
            raise ValueError
        n, _, tags = raw[4:].partition(":")
        if tags.strip(LIST_CURSOR_TAGS):
            raise ValueError
        return int(n), "".join(t for t in LIST_CURSOR_TAGS if t in tags)
    except Exception:
        raise validation_error(f"Invalid paging cursor: {s!r}. Use the value of paging.next.after from the "
                               f"previous response.")


def iso_now():
    return D.iso_ms(D.now_ms())


HTML_414 = (b"<html><head><title>414 Request-URI Too Large</title></head><body><center><h1>414 Request-URI Too "
            b"Large</h1></center><hr><center>cloudflare</center></body></html>")
HTML_502 = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            b"<hr><center>cloudflare</center></body></html>")

OBJ_RE = re.compile(r"^/crm/(?:v3/objects|objects/2026-03)/([^/]+)(?:/(search|batch/read|[^/]+))?"
                    r"(?:/associations/([^/]+))?$")
PROPS_RE = re.compile(r"^/crm/(?:v3/properties|properties/2026-03)/([^/]+)$")
V4_BATCH_RE = re.compile(r"^/crm/(?:v4/associations|associations/2026-03)/([^/]+)/([^/]+)/batch/read$")
V4_OBJ_RE = re.compile(r"^/crm/v4/objects/([^/]+)/([^/]+)/associations/([^/]+)$")
PIPELINES_RE = re.compile(r"^/crm/(?:v3/pipelines|pipelines/2026-03)/([^/]+)$")
LABELS_RE = re.compile(r"^/crm/(?:v4/associations|associations/2026-03)/([^/]+)/([^/]+)/labels$")


class RollingWindow:
    def __init__(self):
        self.q = deque()

    def count(self, now, width):
        q = self.q
        while q and q[0] <= now - width:
            q.popleft()
        return len(q)


# ------------------------------------------------------------------ the app
class SandboxApp:
    def __init__(self, cfg: SandboxConfig):
        self.cfg = cfg
        counts = {t: getattr(cfg, t) for t in D.OBJECT_TYPES}
        self.store = D.Store(seed=cfg.seed, counts=counts, custom_properties=cfg.custom_properties,
                             same_timestamp=cfg.same_timestamp, archived=cfg.archived)
        self.state_lock = threading.Lock()
        self.search_cache = {}  # (object type, filters) -> id-ordered matches, for keyset pages
        self.access_tokens = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens = {cfg.refresh_token}
        self.search_window = RollingWindow()
        self.general_window = RollingWindow()
        self.daily_count = 0
        self.faults = Faults(cfg.faults)
        self.quirks = Quirks(cfg.quirks)
        self.latency_rng = random.Random(cfg.seed)
        self.base_url = f"http://{cfg.host}:{cfg.port}"
        self.reset_stats()
        self.analyst = A.AnalystData(self.store, owners=cfg.owners, archived_owners=cfg.archived_owners)

    # -------------------------------------------------------------- stats
    def reset_stats(self):
        with self.state_lock:
            self.stats = {"requests": {}, "total": 0, "status_counts": {}, "tokens_issued": 0,
                          "faults": {}, "quirks": {}}

    def _count(self, key, status):
        with self.state_lock:
            s = self.stats
            s["requests"][key] = s["requests"].get(key, 0) + 1
            s["total"] += 1
            k = str(status)
            s["status_counts"][k] = s["status_counts"].get(k, 0) + 1
            if status == 429:
                limited = s.setdefault("rate_limited", {})
                limited[key] = limited.get(key, 0) + 1

    def _count_fault(self, kind):
        with self.state_lock:
            f = self.stats["faults"]
            f[kind] = f.get(kind, 0) + 1

    def _count_quirk(self, kind, n=1):
        with self.state_lock:
            f = self.stats["quirks"]
            f[kind] = f.get(kind, 0) + n

    # -------------------------------------------------------------- dispatch
    def dispatch(self, method, raw_path, headers, body):
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        if path.startswith("/_sandbox/"):
            if method != "GET":
                self.search_cache.clear()  # the control plane may change records: cached search results go
            try:
                return self.control(method, path, parse_qs(parts.query), body)
            except ApiError as e:
                return Response(e.status, dumps(e.body))
            except Exception as e:  # pragma: no cover
                return Response(500, dumps({"status": "error", "message": f"sandbox control error: {e!r}"}))
            finally:
                if method != "GET":
                    self.search_cache.clear()
        key = f"{method} {path}"
        resp = self._api(method, raw_path, path, parts.query, headers, body)
        self._count(key, "reset" if resp is RESET else resp.status)
        return resp

    def _api(self, method, raw_path, path, query, headers, body):
        cfg = self.cfg
        if cfg.max_url_length and len(raw_path) > cfg.max_url_length:
            return Response(414, HTML_414, "text/html")
        is_token = path in ("/oauth/v1/token", "/oauth/2026-03/token")
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
                    hdrs = []
                    if fault[1]:
                        hdrs = [("X-HubSpot-RateLimit-Max", str(cfg.general_rate or 100)),
                                ("X-HubSpot-RateLimit-Remaining", "0"),
                                ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
                                ("Retry-After", "1")]
                    return Response(429, dumps(self._ten_secondly_body()), headers=hdrs)
        if cfg.latency_ms:
            with self.state_lock:
                f = self.latency_rng.uniform(0.5, 1.5)
            time.sleep(cfg.latency_ms * f / 1000.0)
        try:
            if is_token:
                if method != "POST":
                    raise ApiError(405, err_body("Method not allowed", "VALIDATION_ERROR"))
                return self.token(body, headers)
            self.authenticate(headers)
            is_search = method == "POST" and path.endswith("/search")
            rl_headers = self.rate_limit(is_search)
            resp = self.route(method, path, query, body)
            resp.headers.extend(rl_headers)
            return resp
        except ApiError as e:
            return Response(e.status, dumps(e.body), headers=e.headers)
        except Exception as e:  # pragma: no cover - bug guard
            return Response(500, dumps(err_body(f"sandbox internal error: {e!r}", "INTERNAL_ERROR")))

    # -------------------------------------------------------------- auth
    def authenticate(self, headers):
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

    def token(self, body, headers):
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        ctype = headers.get("Content-Type") or ""
        if not form and "json" in ctype:
            try:
                form = {k: str(v) for k, v in loads(body).items()}
            except Exception:
                form = {}

        def bad(status, message):
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
        return Response(200, dumps({"token_type": "bearer", "refresh_token": rt, "access_token": access,
                                    "expires_in": ttl_out}))

    def require_scopes(self, *otypes, schema=False):
        scopes = self.cfg.scopes
        if scopes is None:
            return
        have = set(scopes)
        for t in otypes:
            need = D.REQUIRED_SCOPES[t]
            if need in have or (schema and f"crm.schemas.{t}.read" in have):
                continue
            raise ApiError(403, {
                "status": "error", "message": SCOPES_MESSAGE, "correlationId": cid(),
                "errors": [{"message": "One or more of the following scopes are required.",
                            "context": {"requiredGranularScopes": [need]}}],
                "links": {"scopes": "https://developers.hubspot.com/scopes"},
                "category": "MISSING_SCOPES"})

    # -------------------------------------------------------------- rate limits
    def _ten_secondly_body(self):
        return {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "correlationId": cid(), "policyName": "TEN_SECONDLY_ROLLING",
                "groupName": "api-product:sandbox"}

    def rate_limit(self, is_search):
        cfg = self.cfg
        now = time.monotonic()
        with self.state_lock:
            if cfg.daily_limit and self.daily_count >= cfg.daily_limit:
                raise ApiError(429, {"status": "error", "message": "You have reached your daily limit.",
                                     "errorType": "RATE_LIMIT", "correlationId": cid(), "policyName": "DAILY",
                                     "groupName": "api-product:sandbox"}, self._daily_headers(0))
            if is_search:
                if cfg.search_rate and self.search_window.count(now, 1.0) >= cfg.search_rate:
                    raise ApiError(429, {"status": "error", "message": "You have reached your secondly limit.",
                                         "errorType": "RATE_LIMIT", "correlationId": cid(),
                                         "policyName": "SECONDLY"})
                self.search_window.q.append(now)
                self.daily_count += 1
                return []
            hdrs = []
            if cfg.general_rate:
                used = self.general_window.count(now, 10.0)
                if used >= cfg.general_rate:
                    h = [("X-HubSpot-RateLimit-Max", str(cfg.general_rate)),
                         ("X-HubSpot-RateLimit-Remaining", "0"),
                         ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")]
                    h += self._daily_headers(cfg.daily_limit - self.daily_count) if cfg.daily_limit else []
                    raise ApiError(429, self._ten_secondly_body(), h)
                self.general_window.q.append(now)
                hdrs = [("X-HubSpot-RateLimit-Max", str(cfg.general_rate)),
                        ("X-HubSpot-RateLimit-Remaining", str(cfg.general_rate - used - 1)),
                        ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")]
            self.daily_count += 1
            if cfg.daily_limit:
                hdrs += self._daily_headers(cfg.daily_limit - self.daily_count)
            return hdrs

    def _daily_headers(self, remaining):
        return [("X-HubSpot-RateLimit-Daily", str(self.cfg.daily_limit)),
                ("X-HubSpot-RateLimit-Daily-Remaining", str(max(0, remaining)))]

    # -------------------------------------------------------------- routing
    def _type(self, name, status=400):
        t = D.normalize_type(name)
        if t is None:
            raise ApiError(status, err_body(f"Unable to infer object type from: {name}", "OBJECT_NOT_FOUND"))
        return t

    def route(self, method, path, query, body):
        m = OBJ_RE.match(path)
        if m:
            otype = self._type(m.group(1))
            sub, assoc_to = m.group(2), m.group(3)
            self.require_scopes(otype)
            q = parse_qs(query, keep_blank_values=True)
            if sub is None and method == "GET":
                return self.list_objects(otype, q, path)
            if sub == "search" and method == "POST":
                return self.search(otype, self._json(body))
            if sub == "batch/read" and method == "POST":
                return self.batch_read(otype, self._json(body), q)
            if sub not in (None, "search", "batch/read") and method == "GET":
                if assoc_to:
                    return self.v3_record_associations(otype, sub, assoc_to, q)
                return self.get_object(otype, sub, q)
        m = PROPS_RE.match(path)
        if m and method == "GET":
            otype = self._type(m.group(1), 404)
            self.require_scopes(otype, schema=True)
            return Response(200, dumps({"results": self.store.schemas[otype].property_json()}))
        m = V4_BATCH_RE.match(path)
        if m and method == "POST":
            a, b = self._type(m.group(1)), self._type(m.group(2))
            self.require_scopes(a, b)
            return self.v4_batch(a, b, self._json(body))
        m = V4_OBJ_RE.match(path)
        if m and method == "GET":
            a, b = self._type(m.group(1)), self._type(m.group(3))
            self.require_scopes(a, b)
            return self.v4_record_associations(a, m.group(2), b, parse_qs(query))
        resp = self.analyst_route(method, path, query)
        if resp is not None:
            return resp
        if path in ("/account-info/v3/details", "/account-info/2026-03/details") and method == "GET":
            return Response(200, dumps({"portalId": self.cfg.portal_id, "accountType": "STANDARD",
                                        "timeZone": "US/Eastern", "companyCurrency": "USD",
                                        "additionalCurrencies": [], "utcOffset": "-05:00",
                                        "utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com",
                                        "dataHostingLocation": "na1"}))
        raise ApiError(404, err_body(f"Unable to route {method} {path}", "OBJECT_NOT_FOUND"))

    @staticmethod
    def _json(body):
        try:
            obj = loads(body or b"{}")
        except Exception:
            raise validation_error("Invalid input JSON on line 1, column 1: Cannot parse request body")
        if not isinstance(obj, dict):
            raise validation_error("Invalid input JSON: expected an object")
        return obj

    @staticmethod
    def _csv(q, name):
        out = []
        for v in q.get(name, []):
            out.extend(x.strip() for x in v.split(",") if x.strip())
        return out

    @staticmethod
    def _int(value, name, default):
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise validation_error(f"Unable to parse {name}: {value!r}")

    def _inline_assocs(self, otype, rec, assoc_types):
        cap = self.cfg.inline_assoc_limit
        out = {}
        for t in assoc_types:
            lst = self.store.associations_of(otype, rec.id, t)
            if not lst:
                continue
            names = D.ASSOC_DIRS[(otype, t)].v3_names
            res = []
            for tid, bits in lst[:cap]:
                s = str(tid)
                for bit, name in names:
                    if bits & bit:
                        res.append({"id": s, "type": name})
            entry = {"results": res}
            if len(lst) > cap:
                after = encode_cursor(lst[cap][0])
                entry["paging"] = {"next": {"after": after,
                                            "link": f"{self.base_url}/crm/v3/objects/{otype}/{rec.id}/associations/"
                                                    f"{t}?after={after}"}}
            out[t] = entry
        return out

    # -------------------------------------------------------------- objects
    def list_objects(self, otype, q, path):
        limit = self._int(q.get("limit", [None])[0], "limit", 10)
        if limit < 1 or limit > LIST_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {LIST_MAX_LIMIT}, got {limit}",
                                   errors=[{"message": f"limit must be between 1 and {LIST_MAX_LIMIT}",
                                            "code": "INVALID_LIMIT"}])
        after = q.get("after", [None])[0]
        start, tags = decode_list_cursor(after) if after else (0, "")
        archived = (q.get("archived", ["false"])[0] or "false").lower() == "true"
        store = self.store
        names = store.resolve_property_names(otype, self._csv(q, "properties"))
        with_history = self._history_names(otype, self._csv(q, "propertiesWithHistory"), limit)
        assoc_types = []
        for a in self._csv(q, "associations"):
            t = D.normalize_type(a)
            if t and (otype, t) in D.ASSOC_DIRS and t not in assoc_types:
                assoc_types.append(t)
        with store.lock:
            ostore = store.objects[otype]
            ids = ostore.archived_ids if archived else ostore.ids
            recs = ostore.recs
            if self.quirks.list_active:
                page, cur = self._quirky_list_page(otype, ostore, archived, start, tags, limit, after)
            else:
                if self.cfg.list_order == "scrambled":
                    page, next_id = self._scrambled_page(ostore, archived, start, limit)
                else:
                    page, next_id = self._id_ordered_page(ids, recs, archived, start, limit)
                cur = encode_cursor(next_id) if next_id is not None else None
            results = []
            for rec in page:
                d = self._with_history(otype, rec, store.record_json(otype, rec, names), with_history)
                if assoc_types:
                    a = self._inline_assocs(otype, rec, assoc_types)
                    if a:
                        d["associations"] = a
                results.append(d)
        out = {"results": results}
        if cur is not None:
            params = [(k, v) for k, vals in q.items() if k != "after" for v in vals]
            params.append(("after", cur))
            out["paging"] = {"next": {"after": cur, "link": f"{self.base_url}{path}?{urlencode(params)}"}}
        return Response(200, dumps(out))

    @staticmethod
    def _id_ordered_page(ids, recs, archived, start, limit):
        """HubSpot's order: by id from `start` (the cursor is the next id)."""
        i = bisect.bisect_left(ids, start)
        n = len(ids)
        page = []
        while i < n and len(page) < limit:
            rec = recs[ids[i]]
            i += 1
            if rec.archived == archived:
                page.append(rec)
        while i < n:
            rec = recs[ids[i]]
            if rec.archived == archived:
                return page, rec.id
            i += 1
        return page, None

    def _quirky_list_page(self, otype, ostore, archived, start, tags, limit, after):
        """A list page with the list quirks that are on (sandbox/quirks.py): (records, next cursor or None)."""
        qk = self.quirks
        given_empty, tags = "e" in tags, tags.replace("e", "")
        if self.cfg.list_order == "scrambled":
            page, _ = self._scrambled_page(ostore, archived, start, limit + 1)
            more = len(page) > limit
            page = page[:limit]
            nexts = [encode_list_cursor(start + k) for k in range(len(page))] + [
                encode_list_cursor(start + len(page)) if more else None]
        else:
            block = None
            if qk.on("list_disorder_block", "list"):
                ids = ostore.archived_ids if archived else ostore.ids
                block = qk.disorder_block(otype, archived,
                                          lambda: [i for i in ids if ostore.recs[i].archived == archived])
            page, nexts = self._id_page_with_block(ostore, archived, start, tags, limit, block)
        if page and not given_empty and qk.list_empty(otype, archived, start, tags):
            self._count_quirk("empty_pages")
            page, nxt = [], encode_list_cursor(start, tags + "e")
        else:
            keep = qk.list_short(otype, archived, start, tags, len(page)) if nexts[-1] is not None else None
            if keep is not None:
                self._count_quirk("short_pages")
                page = page[:keep]
            nxt = nexts[len(page)]
        if qk.on("repeat_cursor", "list"):
            nxt, looped = qk.next_cursor(("list", otype, archived), ("list", otype, archived), bool(after), nxt)
            if looped:
                self._count_quirk("repeat_cursor")
        return page, nxt

    @staticmethod
    def _id_page_with_block(ostore, archived, start, tags, limit, block):
        """An id-ordered page of a listing whose ids in `block` (first id, last id; or None) come after all the
        others ('b' in tags: the block's part). -> (records, cursors): cursors[k] is the cursor of the page that
        starts after the first k records (None: nothing more)."""
        ids, recs = (ostore.archived_ids if archived else ostore.ids), ostore.recs
        lo, hi = block if block else (None, None)

        def records_from(first_id, in_block):
            i, n = bisect.bisect_left(ids, first_id), len(ids)
            while i < n:
                rid = ids[i]
                i += 1
                if in_block and rid > hi:
                    return
                if not in_block and block is not None and lo <= rid <= hi:
                    continue
                rec = recs[rid]
                if rec.archived == archived:
                    yield rec

        def take(first_id, in_block):
            found = []
            for rec in records_from(first_id, in_block):
                found.append(rec)
                if len(found) > limit:
                    break
            return found

        in_block = "b" in tags and block is not None
        found = take(start, in_block)
        if not found and not in_block and block is not None:  # the other records are done: the block's part
            in_block, found = True, take(lo, True)
        phase = "b" if in_block else ""
        page = found[:limit]
        cursors = [encode_list_cursor(rec.id, phase) for rec in page]
        if len(found) > limit:
            cursors.append(encode_list_cursor(found[limit].id, phase))
        elif not in_block and block is not None and take(lo, True):
            cursors.append(encode_list_cursor(lo, "b"))
        else:
            cursors.append(None)
        return page, cursors

    @staticmethod
    def _scrambled_page(ostore, archived, start, limit):
        """A fixed order that is not by id (`list_order: scrambled`); the cursor is a position in that order."""
        order = sorted((rid for rid in (ostore.archived_ids if archived else ostore.ids)
                        if ostore.recs[rid].archived == archived), key=lambda rid: D.mix64(rid))
        page = [ostore.recs[rid] for rid in order[start:start + limit]]
        return page, (start + limit if start + limit < len(order) else None)

    def _rec_by_id(self, otype, sid, archived=False):
        try:
            rid = int(sid)
        except (TypeError, ValueError):
            return None
        rec = self.store.objects[otype].recs.get(rid)
        if rec is None or rec.archived != archived:
            return None
        return rec

    def get_object(self, otype, sid, q):
        archived = (q.get("archived", ["false"])[0] or "false").lower() == "true"
        store = self.store
        with store.lock:
            rec = self._rec_by_id(otype, sid, archived)
            if rec is None:
                raise ApiError(404, err_body("Object not found.  objectId are usually numeric.",
                                             "OBJECT_NOT_FOUND", context={"id": [sid]}))
            names = store.resolve_property_names(otype, self._csv(q, "properties"))
            d = store.record_json(otype, rec, names)
            assoc_types = [t for t in (D.normalize_type(a) for a in self._csv(q, "associations"))
                           if t and (otype, t) in D.ASSOC_DIRS]
            if assoc_types:
                a = self._inline_assocs(otype, rec, assoc_types)
                if a:
                    d["associations"] = a
        return Response(200, dumps(d))

    def batch_read(self, otype, body, q):
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation_error("Invalid input JSON: 'inputs' is required")
        if len(inputs) > BATCH_READ_MAX:
            raise validation_error(f"Batch input must not exceed {BATCH_READ_MAX} inputs, got {len(inputs)}",
                                   context={"inputs": [str(len(inputs))]})
        with_history = self._history_names(otype, body.get("propertiesWithHistory"), len(inputs))
        props = body.get("properties") or []
        if isinstance(props, str):
            props = [p for p in props.split(",") if p]
        archived = bool(body.get("archived", False))
        started = iso_now()
        store = self.store
        names = store.resolve_property_names(otype, props)
        results, missing, seen, failed = [], [], set(), []
        with store.lock:
            for inp in inputs:
                sid = str(inp.get("id") if isinstance(inp, dict) else inp)
                if sid in seen:
                    continue
                seen.add(sid)
                if self.quirks.batch_fails("objects", (otype, archived), sid):
                    failed.append(sid)
                    continue
                rec = self._rec_by_id(otype, sid, archived)
                if rec is None:
                    missing.append(sid)
                else:
                    results.append(self._with_history(otype, rec, store.record_json(otype, rec, names),
                                                      with_history))
        out = {"status": "COMPLETE", "results": results}
        status = 200
        errors = []
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not get some {D.SINGULAR[otype].upper()} objects, they may be "
                                      f"deleted or not exist. Check that ids are valid.",
                           "context": {"ids": missing}})
        if failed:
            self._count_quirk("partial_batch_errors", len(failed))
            errors.append(self._internal_batch_error(failed))
        if errors:
            status = 207
            out["numErrors"] = len(errors)
            out["errors"] = errors
        out["startedAt"] = started
        out["completedAt"] = iso_now()
        return Response(status, dumps(out))

    @staticmethod
    def _internal_batch_error(ids):
        """The error entry of inputs a batch read failed to read (quirk partial_batch_errors)."""
        return {"status": "error", "category": "INTERNAL_ERROR",
                "message": f"internal error, reference {cid()}: the inputs in context.ids could not be read; "
                           f"retry them",
                "context": {"ids": ids}}

    # -------------------------------------------------------------- associations
    def _v4_to(self, direction, lst):
        types = direction.v4_types
        return [{"toObjectId": tid, "associationTypes": [t for bit, t in types if bits & bit]} for tid, bits in lst]

    def v4_batch(self, a, b, body):
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation_error("Invalid input JSON: 'inputs' is required")
        if len(inputs) > ASSOC_BATCH_MAX:
            raise validation_error(f"Batch input must not exceed {ASSOC_BATCH_MAX} inputs, got {len(inputs)}")
        started = iso_now()
        direction = D.ASSOC_DIRS.get((a, b))
        page = self.cfg.assoc_page_size
        results, errors, failed = [], [], []
        store = self.store
        qk = self.quirks
        with store.lock:
            for inp in inputs:
                if not isinstance(inp, dict):
                    inp = {"id": inp}
                sid = str(inp.get("id"))
                after = inp.get("after")
                start = decode_cursor(str(after)) if after else 0
                if qk.batch_fails("associations", (a, b, str(after or "")), sid):
                    failed.append(sid)
                    continue
                rec = self._rec_by_id(a, sid)
                lst = store.associations_of(a, rec.id, b) if (rec is not None and direction) else []
                if start:
                    lst = lst[bisect.bisect_left([x[0] for x in lst], start):]
                if not lst:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                                   "context": {"fromObjectId": [sid]}, "links": {},
                                   "message": f"No {b} is associated with {D.SINGULAR[a]} {sid}."})
                    continue
                r = {"from": {"id": sid}, "to": self._v4_to(direction, lst[:page])}
                nxt = encode_cursor(lst[page][0]) if len(lst) > page else None
                if qk.on("repeat_cursor", "associations") and (after or nxt):
                    nxt, looped = qk.next_cursor(("associations", a, b), ("associations", a, b, sid), bool(after), nxt)
                    if looped:
                        self._count_quirk("repeat_cursor")
                if nxt is not None:
                    r["paging"] = {"next": {"after": nxt, "link": None}}
                results.append(r)
        if failed:
            self._count_quirk("partial_batch_errors", len(failed))
            errors.append(self._internal_batch_error(failed))
        out = {"status": "COMPLETE", "results": results}
        status = 200
        if errors:
            status = 207
            out["numErrors"] = len(errors)
            out["errors"] = errors
        out["startedAt"] = started
        out["completedAt"] = iso_now()
        return Response(status, dumps(out))

    def _record_assoc_page(self, a, sid, b, q, cap):
        limit = self._int(q.get("limit", [None])[0], "limit", cap)
        if limit < 1 or limit > cap:
            raise validation_error(f"limit must be between 1 and {cap}")
        after = q.get("after", [None])[0]
        start = decode_cursor(after) if after else 0
        with self.store.lock:
            rec = self._rec_by_id(a, sid)
            if rec is None:
                raise ApiError(404, err_body("Object not found.", "OBJECT_NOT_FOUND"))
            lst = self.store.associations_of(a, rec.id, b) if (a, b) in D.ASSOC_DIRS else []
        lst = [x for x in lst if x[0] >= start]
        nxt = encode_cursor(lst[limit][0]) if len(lst) > limit else None
        return lst[:limit], nxt

    def v4_record_associations(self, a, sid, b, q):
        lst, nxt = self._record_assoc_page(a, sid, b, q, 500)
        out = {"results": self._v4_to(D.ASSOC_DIRS[(a, b)], lst) if lst else []}
        if nxt:
            out["paging"] = {"next": {"after": nxt, "link": f"{self.base_url}/crm/v4/objects/{a}/{sid}/associations/"
                                                            f"{b}?after={nxt}"}}
        return Response(200, dumps(out))

    def v3_record_associations(self, a, sid, b_name, q):
        b = self._type(b_name)
        self.require_scopes(b)
        lst, nxt = self._record_assoc_page(a, sid, b, q, self.cfg.inline_assoc_limit)
        res = []
        if lst:
            names = D.ASSOC_DIRS[(a, b)].v3_names
            for tid, bits in lst:
                for bit, name in names:
                    if bits & bit:
                        res.append({"id": str(tid), "type": name})
        out = {"results": res}
        if nxt:
            out["paging"] = {"next": {"after": nxt, "link": f"{self.base_url}/crm/v3/objects/{a}/{sid}/associations/"
                                                            f"{b}?after={nxt}"}}
        return Response(200, dumps(out))

    # -------------------------------------------------------------- search
    def _compile_filter(self, schema, f):
        if not isinstance(f, dict):
            raise validation_error("Invalid filter")
        pname = f.get("propertyName")
        op = str(f.get("operator", "EQ")).upper()
        spec = schema.by_name.get(pname)
        if spec is None:
            raise validation_error(f"There was a problem with the request. Property \"{pname}\" does not exist "
                                   f"for object type {schema.otype}.")

        def conv(v):
            if v is None:
                raise validation_error(f"Operator {op} requires a value for {pname}")
            t = D.convert_value(spec, v)
            if t is None:
                raise validation_error(f"Unable to convert filter value {v!r} for property {pname}")
            return t

        multi = spec.multi
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            want = op == "HAS_PROPERTY"
            return lambda rec: (D.prop_value(rec, spec) not in (None, "")) == want
        if op in ("IN", "NOT_IN"):
            vals = f.get("values")
            if not isinstance(vals, list):
                raise validation_error(f"Operator {op} requires 'values'")
            vs = {conv(v) for v in vals}
            if op == "IN":
                if multi:
                    return lambda rec: (lambda v: v is not None and bool(vs.intersection(v.split(";"))))(
                        D.typed_value(rec, spec))
                return lambda rec: D.typed_value(rec, spec) in vs
            return lambda rec: (lambda v: v is None or v not in vs)(D.typed_value(rec, spec))
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            tok = str(f.get("value", "")).lower().strip("*")
            want = op == "CONTAINS_TOKEN"
            return lambda rec: (tok in (D.prop_value(rec, spec) or "").lower()) == want
        if op == "BETWEEN":
            lo, hi = conv(f.get("value")), conv(f.get("highValue"))
            return lambda rec: (lambda v: v is not None and lo <= v <= hi)(D.typed_value(rec, spec))
        fv = conv(f.get("value"))
        if op == "EQ":
            if multi:
                return lambda rec: (lambda v: v is not None and fv in v.split(";"))(D.typed_value(rec, spec))
            return lambda rec: D.typed_value(rec, spec) == fv
        if op == "NEQ":
            return lambda rec: D.typed_value(rec, spec) != fv
        cmp = {"LT": lambda v: v < fv, "LTE": lambda v: v <= fv, "GT": lambda v: v > fv,
               "GTE": lambda v: v >= fv}.get(op)
        if cmp is None:
            raise validation_error(f"Unsupported operator {op}")
        return lambda rec: (lambda v: v is not None and cmp(v))(D.typed_value(rec, spec))

    def search(self, otype, body):
        store = self.store
        schema = store.schemas[otype]
        limit = self._int(body.get("limit"), "limit", 10)
        if limit < 0 or limit > SEARCH_MAX_LIMIT:
            raise validation_error(f"There was a problem with the request. limit must be between 1 and "
                                   f"{SEARCH_MAX_LIMIT}")
        after = self._int(body.get("after"), "after", 0)
        if after < 0:
            raise validation_error("after must be a non-negative integer offset")
        if after + limit > SEARCH_MAX_RESULTS:
            raise validation_error("There was a problem with the request.")
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
            raise validation_error(f"There was a problem with the request. Only {MAX_FILTER_GROUPS} filterGroups "
                                   f"are allowed.")
        compiled = []
        total_filters = 0
        for g in groups:
            fl = (g or {}).get("filters") or []
            if len(fl) > MAX_FILTERS_PER_GROUP:
                raise validation_error(f"There was a problem with the request. Only {MAX_FILTERS_PER_GROUP} "
                                       f"filters per filterGroup are allowed.")
            total_filters += len(fl)
            compiled.append([self._compile_filter(schema, f) for f in fl])
        if total_filters > MAX_FILTERS_TOTAL:
            raise validation_error("There was a problem with the request. Too many filters.")
        compiled = [g for g in compiled if g]
        sorts = []
        for s in body.get("sorts") or []:
            if isinstance(s, str):
                desc = s.startswith("-")
                name = s.lstrip("-+")
            elif isinstance(s, dict):
                name = s.get("propertyName")
                desc = str(s.get("direction", "ASCENDING")).upper().startswith("DESC")
            else:
                continue
            spec = schema.by_name.get(name)
            if spec is not None:
                sorts.append((spec, desc))
        query = body.get("query")
        query = str(query).lower() if query else None
        requested = body.get("properties") or []
        if isinstance(requested, str):
            requested = [p for p in requested.split(",") if p]
        names = store.resolve_property_names(otype, requested)
        lag_ms = self.cfg.search_lag_seconds * 1000
        now = D.now_ms()
        qkey = None
        if self.quirks.search_active:  # what the query is, without its paging: the seed of its page quirks
            qkey = std_json.dumps([otype, groups, body.get("sorts") or [], query], sort_keys=True, default=str)
        keyset = self._keyset_query(schema, groups, sorts, query, lag_ms)
        if keyset is not None:
            return self._keyset_search(otype, keyset, after, limit, names, qkey)
        with store.lock:
            ostore = store.objects[otype]
            recs = ostore.recs
            matches = []
            text_specs = [schema.by_name[n] for n in schema.searchable]
            for rid in ostore.ids:
                rec = recs[rid]
                if rec.archived:
                    continue
                if lag_ms and rec.vis and now - rec.vis < lag_ms:
                    continue
                if compiled and not any(all(f(rec) for f in g) for g in compiled):
                    continue
                if query and not any(query in (D.prop_value(rec, sp) or "").lower() for sp in text_specs):
                    continue
                matches.append(rec)
            for spec, desc in reversed(sorts):
                def key(rec, spec=spec):
                    v = D.typed_value(rec, spec)
                    return (v is None, v if v is not None else 0)
                if desc:
                    # nulls last also for descending order
                    nn = [r for r in matches if D.typed_value(r, spec) is not None]
                    nulls = [r for r in matches if D.typed_value(r, spec) is None]
                    nn.sort(key=key, reverse=True)
                    matches = nn + nulls
                else:
                    matches.sort(key=key)
            total = len(matches)
            lo, hi, nxt = self._search_window(qkey, after, limit, total)
            page = matches[lo:hi]
            results = [store.record_json(otype, rec, names) for rec in page]
        out = {"total": total, "results": results}
        if nxt is not None:
            out["paging"] = {"next": {"after": str(nxt)}}
        return Response(200, dumps(out))

    def _search_window(self, qkey, after, limit, total):
        """(lo, hi, next offset or None): the page at offset `after` holds results[lo:hi] of the query's `total`
        results. Without search quirks (qkey None) that is [after, after + limit)."""
        if qkey is None:
            return after, after + limit, (after + limit if after + limit < total else None)
        lo, hi, nxt, events = self.quirks.search_window(qkey, after, limit, total)
        for kind in events:
            self._count_quirk(kind)
        return lo, hi, nxt

    # -------------------------------------------------------------- keyset search, cached
    def _keyset_query(self, schema, groups, sorts, query, lag_ms):
        """(filters without the keyset, last id, descending) for the common queries 'these filters AND hs_object_id GT
        x, sorted by hs_object_id ascending' and 'these filters [AND hs_object_id LT x], sorted by hs_object_id
        descending', whose answers are slices of one cached, id-ordered match list. None otherwise."""
        id_spec = schema.by_name.get("hs_object_id")
        if lag_ms or query or len(groups) > 1 or id_spec is None or sorts not in ([(id_spec, False)], [(id_spec, True)]):
            return None
        descending = sorts[0][1]
        filters = ((groups or [{}])[0] or {}).get("filters") or []
        keys = [f for f in filters if isinstance(f, dict) and f.get("propertyName") == "hs_object_id"
                and f.get("operator") == ("LT" if descending else "GT")]
        if len(keys) > 1 or (not keys and not descending):
            return None
        try:
            last_id = int(keys[0].get("value")) if keys else None
        except (TypeError, ValueError):
            return None
        return [f for f in filters if not keys or f is not keys[0]], last_id, descending

    def _keyset_search(self, otype, keyset, after, limit, names, qkey=None):
        rest, last_id, descending = keyset
        store = self.store
        cache_key = (otype, dumps(rest))
        with store.lock:
            hit = self.search_cache.get(cache_key)
            if hit is None:
                compiled = [self._compile_filter(store.schemas[otype], f) for f in rest]
                ostore = store.objects[otype]
                recs = ostore.recs
                matched = [recs[rid] for rid in ostore.ids
                           if not recs[rid].archived and all(f(recs[rid]) for f in compiled)]
                hit = (matched, [rec.id for rec in matched])  # ostore.ids ascend: so do these
                if len(self.search_cache) >= 64:
                    self.search_cache.pop(next(iter(self.search_cache)))
                self.search_cache[cache_key] = hit
            matched, ids = hit
            if descending:
                end = bisect.bisect_left(ids, last_id) if last_id is not None else len(ids)
                total = end
                lo, hi, nxt = self._search_window(qkey, after, limit, total)
                page = matched[max(0, end - hi):max(0, end - lo)][::-1]
            else:
                start = bisect.bisect_right(ids, last_id)
                total = len(ids) - start
                lo, hi, nxt = self._search_window(qkey, after, limit, total)
                page = matched[start + lo:start + hi]
            results = [store.record_json(otype, rec, names) for rec in page]
        out = {"total": total, "results": results}
        if nxt is not None:
            out["paging"] = {"next": {"after": str(nxt)}}
        return Response(200, dumps(out))

    # -------------------------------------------------------------- analyst tables (sandbox/analyst.py)
    def analyst_route(self, method, path, query):
        """Owners, pipelines and association labels; None when the path is none of them."""
        if method != "GET":
            return None
        q = parse_qs(query, keep_blank_values=True)
        if path == "/crm/v3/owners":
            self.require_scopes("owners")
            return self.list_owners(q)
        m = PIPELINES_RE.match(path)
        if m:
            otype = self._type(m.group(1), 404)
            if otype not in self.analyst.pipelines:
                raise ApiError(404, err_body(f"Unable to infer object type from: {m.group(1)}", "OBJECT_NOT_FOUND"))
            self.require_scopes(otype)
            return Response(200, dumps({"results": self.analyst.pipelines[otype]}))
        m = LABELS_RE.match(path)
        if m:
            a, b = self._type(m.group(1)), self._type(m.group(2))
            self.require_scopes(a, b)
            return Response(200, dumps({"results": self.analyst.association_labels(a, b)}))
        return None

    def list_owners(self, q):
        limit = self._int(q.get("limit", [None])[0], "limit", 100)
        if limit < 1 or limit > A.OWNERS_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {A.OWNERS_MAX_LIMIT}, got {limit}")
        after = q.get("after", [None])[0]
        start = decode_cursor(after) if after else 0
        archived = (q.get("archived", ["false"])[0] or "false").lower() == "true"
        owners = self.analyst.list_owners(archived, q.get("email", [None])[0])
        out = {"results": owners[start:start + limit]}
        if start + limit < len(owners):
            cur = encode_cursor(start + limit)
            out["paging"] = {"next": {"after": cur, "link": f"{self.base_url}/crm/v3/owners?after={cur}"}}
        return Response(200, dumps(out))

    def _history_names(self, otype, requested, inputs):
        """The known properties asked for with history; HubSpot reads at most 50 records with history at once."""
        if isinstance(requested, str):
            requested = [p for p in requested.split(",") if p]
        if not requested:
            return []
        if inputs > A.HISTORY_MAX_INPUTS:
            raise validation_error(f"propertiesWithHistory can be read for at most {A.HISTORY_MAX_INPUTS} records at "
                                   f"a time, got {inputs}")
        schema = self.store.schemas[otype]
        return [n for n in dict.fromkeys(requested) if n in schema.by_name]

    def _with_history(self, otype, rec, d, names):
        if names:
            d["propertiesWithHistory"] = {n: self.analyst.history(otype, rec, n) for n in names}
        return d

    def analyst_control(self, method, sub, q, body):
        an = self.analyst
        try:
            if sub == "owners" and method == "GET":
                return Response(200, dumps({"results": an.list_owners(False) + an.list_owners(True)}))
            if sub == "owners" and method == "POST":
                return Response(200, dumps(an.change_owner(self._json(body))))
            if sub == "links" and method == "GET":
                a, b = self._type(q.get("from", [""])[0]), self._type(q.get("to", [""])[0])
                return Response(200, dumps({"results": an.links(a, b)}))
            if sub == "links" and method == "POST":
                b = self._json(body)
                return Response(200, dumps(an.add_link(self._type(b.get("type")), b.get("from"),
                                                       self._type(b.get("toType")), b.get("to"), b.get("label"),
                                                       bool(b.get("primary")))))
            if sub == "history" and method == "GET":
                otype = self._type(q.get("type", [""])[0])
                names = self._csv(q, "properties")
                with self.store.lock:
                    ostore = self.store.objects[otype]
                    recs = [ostore.recs[i] for i in ostore.ids if not ostore.recs[i].archived]
                    out = {r.sid: {n: an.history(otype, r, n) for n in names} for r in recs}
                return Response(200, dumps({"results": out}))
            if sub == "property" and method == "POST":
                b = self._json(body)
                return Response(200, dumps(an.write_property(self._type(b.get("type")), b.get("id"), b.get("property"),
                                                             b.get("value"), b.get("sourceType") or "API",
                                                             b.get("sourceId") or "2874601")))
            if sub == "merges" and method == "GET":
                return Response(200, dumps({"results": an.merges()}))
            if sub == "merges" and method == "POST":
                b = self._json(body)
                return Response(200, dumps(an.merge(self._type(b.get("type")), b.get("into"), b.get("from"))))
        except (ValueError, TypeError) as e:
            raise ApiError(400, {"status": "error", "message": str(e)})
        raise ApiError(404, {"status": "error", "message": f"unknown control endpoint {method} /_sandbox/analyst/{sub}"})

    # -------------------------------------------------------------- control plane
    def control(self, method, path, q, body):
        store = self.store
        if path == "/_sandbox/health":
            return Response(200, dumps({"ok": True}))
        if path.startswith("/_sandbox/objects/") and method == "GET":
            rest = path[len("/_sandbox/objects/"):].split("/")
            otype = self._type(rest[0], 404)
            mode = q.get("archived", ["include"])[0]
            with store.lock:
                ostore = store.objects[otype]
                if len(rest) > 1:
                    rec = ostore.recs.get(int(rest[1])) if rest[1].isdigit() else None
                    if rec is None:
                        raise ApiError(404, {"status": "error", "message": "no such record"})
                    return Response(200, dumps(store.full_record(otype, rec)))
                if mode == "only":
                    recs = [ostore.recs[i] for i in ostore.archived_ids]
                elif mode == "exclude":
                    recs = [r for r in (ostore.recs[i] for i in ostore.ids) if not r.archived]
                else:
                    recs = [ostore.recs[i] for i in ostore.ids]
                out = {"ids": [r.sid for r in recs]}
                if q.get("fields", [""])[0] != "ids":
                    out["records"] = {r.sid: store.full_record(otype, r) for r in recs}
            return Response(200, dumps(out))
        if path == "/_sandbox/mutate" and method == "POST":
            b = self._json(body)
            otype = self._type(b.get("type"))
            try:
                res = store.mutate(otype, update=int(b.get("update", 0) or 0), create=int(b.get("create", 0) or 0),
                                   archive=int(b.get("archive", 0) or 0), seed=b.get("seed"),
                                   associate=b.get("associate"),
                                   future_updated=int(b.get("future_updated", 0) or 0))
            except ValueError as e:
                raise ApiError(400, {"status": "error", "message": str(e)})
            return Response(200, dumps(res))
        if path.startswith("/_sandbox/analyst/"):
            return self.analyst_control(method, path[len("/_sandbox/analyst/"):], q, body)
        if path == "/_sandbox/config":
            if method == "POST":
                self.apply_config(self._json(body))
            return Response(200, dumps(self.config_json()))
        if path == "/_sandbox/stats" and method == "GET":
            with self.state_lock:
                return Response(200, dumps(self.stats))
        if path == "/_sandbox/stats/reset" and method == "POST":
            self.reset_stats()
            return Response(200, dumps({"ok": True}))
        raise ApiError(404, {"status": "error", "message": f"unknown control endpoint {method} {path}"})

    LIVE_KEYS = ("search_rate", "general_rate", "daily_limit", "latency_ms", "search_lag_seconds", "token_ttl",
                 "scopes", "max_url_length", "assoc_page_size", "inline_assoc_limit", "rotate_refresh_token",
                 "list_order")

    def apply_config(self, b):
        cfg = self.cfg
        with self.state_lock:
            for k in self.LIVE_KEYS:
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
                    else:
                        conv = float if k in ("latency_ms", "search_lag_seconds", "token_ttl") else int
                        setattr(cfg, k, conv(v) if v is not None else 0)
            if "general_rate" in b:
                self.general_window = RollingWindow()
            if "search_rate" in b:
                self.search_window = RollingWindow()
            if "daily_limit" in b or b.get("reset_rate_limits"):
                self.daily_count = 0
            if b.get("reset_rate_limits"):
                self.general_window = RollingWindow()
                self.search_window = RollingWindow()
            if b.get("revoke_refresh_tokens"):
                self.refresh_tokens = set()
            if b.get("revoke_access_tokens"):
                self.access_tokens = {}
            if "add_refresh_token" in b:
                self.refresh_tokens.add(str(b["add_refresh_token"]))
        if "faults" in b:
            self.faults = Faults(b["faults"])
        if "quirks" in b:
            try:
                self.quirks = Quirks(b["quirks"])
            except (TypeError, ValueError) as e:
                raise ApiError(400, {"status": "error", "message": f"bad quirks: {e}"})

    def config_json(self):
        d = {k: getattr(self.cfg, k) for k in self.LIVE_KEYS}
        d["faults"] = self.faults.spec
        d["quirks"] = self.quirks.spec
        d["daily_count"] = self.daily_count
        d["refresh_tokens"] = len(self.refresh_tokens)
        return d


# ------------------------------------------------------------------ HTTP layer
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox/1.0"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def version_string(self):
        return self.server_version

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self, method):
        body = self._read_body()
        app = self.server.app
        try:
            resp = app.dispatch(method, self.path, self.headers, body)
        except Exception as e:  # pragma: no cover
            resp = Response(500, dumps({"status": "error", "message": repr(e), "category": "INTERNAL_ERROR"}))
        if resp is RESET:
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(resp.body)))
        if resp.ctype.startswith("application/json"):
            self.send_header("X-HubSpot-Correlation-Id", cid())
        for k, v in resp.headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(resp.body)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):  # quiet
        pass


class RunningSandbox:
    def __init__(self, httpd, app, thread=None):
        self.httpd, self.app, self.thread = httpd, app, thread
        self.port = httpd.server_address[1]
        self.url = f"http://{app.cfg.host}:{self.port}"

    def shutdown(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_server(config: SandboxConfig, background: bool = False):
    """Build the data, bind, announce and serve.

    background=False: blocks forever (serve_forever).  background=True: serves in a daemon thread and
    returns a RunningSandbox (``.url``, ``.port``, ``.app``, ``.shutdown()``).
    """
    if config.host not in ("127.0.0.1", "localhost"):
        raise ValueError("the sandbox only binds to 127.0.0.1")
    config.host = "127.0.0.1"
    app = SandboxApp(config)
    httpd = SandboxHTTPServer((config.host, config.port), Handler)
    httpd.app = app
    port = httpd.server_address[1]
    app.base_url = f"http://{config.host}:{port}"
    if config.port_file:
        tmp = config.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(port))
        import os
        os.replace(tmp, config.port_file)
    if background:
        t = threading.Thread(target=httpd.serve_forever, name="sandbox-http", daemon=True)
        t.start()
        return RunningSandbox(httpd, app, t)
    sys.stdout.write(f"sandbox listening on http://{config.host}:{port}\n")
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return None


def build_arg_parser():
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Fake HubSpot API server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--seed", type=int, default=42)
    for t, n in (("contacts", 1000), ("companies", 300), ("deals", 300), ("tickets", 200), ("calls", 100),
                 ("emails", 100), ("meetings", 100), ("notes", 100), ("tasks", 100)):
        p.add_argument(f"--{t}", type=int, default=n)
    p.add_argument("--custom-properties", type=int, default=20)
    p.add_argument("--private-app-token", default="sandbox-private-app-token")
    p.add_argument("--client-id", default="sandbox-client-id")
    p.add_argument("--client-secret", default="sandbox-client-secret")
    p.add_argument("--refresh-token", default="sandbox-refresh-token")
    p.add_argument("--token-ttl", type=float, default=1800)
    p.add_argument("--rotate-refresh-token", action="store_true")
    p.add_argument("--scopes", default="all", help="comma list of granted scopes, or 'all'")
    p.add_argument("--search-rate", type=int, default=5, help="search requests per rolling second (0 = off)")
    p.add_argument("--general-rate", type=int, default=0, help="requests per rolling 10 s (0 = off)")
    p.add_argument("--daily-limit", type=int, default=0)
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--search-lag-seconds", type=float, default=0)
    p.add_argument("--max-url-length", type=int, default=8000)
    p.add_argument("--same-timestamp", type=int, default=0)
    p.add_argument("--archived", type=int, default=None, help="archived records per object (default 2%%)")
    p.add_argument("--assoc-page-size", type=int, default=ASSOC_PAGE_SIZE)
    p.add_argument("--inline-assoc-limit", type=int, default=INLINE_ASSOC_LIMIT)
    p.add_argument("--owners", type=int, default=10, help="active owners (at least the 5 owner ids records use)")
    p.add_argument("--archived-owners", type=int, default=3)
    p.add_argument("--list-order", choices=("ascending", "scrambled"), default="ascending",
                   help="the order of list pages: by id (HubSpot's) or a fixed scrambled order")
    p.add_argument("--quirks", type=std_json.loads, default=None,
                   help='JSON of hostile-but-legal answers to give (sandbox/quirks.py), e.g. \'{"empty_pages": 0.2}\'')
    p.add_argument("--fault-rate", type=float, default=0.0, help="shorthand for faults.error_rate")
    p.add_argument("--fault-seed", type=int, default=1)
    return p


def config_from_args(argv=None) -> SandboxConfig:
    a = build_arg_parser().parse_args(argv)
    kw = {f.name: getattr(a, f.name) for f in dataclasses.fields(SandboxConfig)
          if f.name not in ("scopes", "faults", "portal_id") and hasattr(a, f.name)}
    cfg = SandboxConfig(**kw)
    cfg.scopes = None if a.scopes.strip().lower() == "all" else [s.strip() for s in a.scopes.split(",") if s.strip()]
    if a.fault_rate:
        cfg.faults = {"error_rate": a.fault_rate, "seed": a.fault_seed}
    return cfg


def main(argv=None):
    run_server(config_from_args(argv))


if __name__ == "__main__":
    main()
