"""Search: POST /crm/v3/objects/{type}/search (filters, sorts, text query, offsets up to 10,000, the search quirks),
with the keyset queries clients page with (by hs_object_id) answered from a cached, id-ordered match list."""
from __future__ import annotations

import bisect
import json as std_json
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from sandbox.records import Rec, convert_value, prop_value, typed_value
from sandbox.responses import Response, dumps, int_param, names_param, ok, validation_error
from sandbox.schema import PropSpec, Schema
from sandbox.values import now_ms

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18
SEARCH_CACHE_SIZE = 64

Filter = Callable[[Rec], bool]
Sort = Tuple[PropSpec, bool]  # property, descending
Keyset = Tuple[List[List[dict]], Optional[int], bool]  # each group's other filters, the last id, descending


class SearchApi:
    def __init__(self, app: "SandboxApp") -> None:
        self.app = app
        self.store = app.store

    def _compile_filter(self, schema: Schema, f: Any) -> Filter:
        if not isinstance(f, dict):
            raise validation_error("Invalid filter")
        pname = f.get("propertyName")
        op = str(f.get("operator", "EQ")).upper()
        spec = schema.by_name.get(pname)
        if spec is None:
            raise validation_error(f"There was a problem with the request. Property \"{pname}\" does not exist "
                                   f"for object type {schema.otype}.")

        def conv(v: Any) -> Any:
            if v is None:
                raise validation_error(f"Operator {op} requires a value for {pname}")
            t = convert_value(spec, v)
            if t is None:
                raise validation_error(f"Unable to convert filter value {v!r} for property {pname}")
            return t

        multi = spec.multi
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            want = op == "HAS_PROPERTY"
            return lambda rec: (prop_value(rec, spec) not in (None, "")) == want
        if op in ("IN", "NOT_IN"):
            vals = f.get("values")
            if not isinstance(vals, list):
                raise validation_error(f"Operator {op} requires 'values'")
            vs = {conv(v) for v in vals}
            if op == "IN":
                if multi:
                    return lambda rec: (lambda v: v is not None and bool(vs.intersection(v.split(";"))))(
                        typed_value(rec, spec))
                return lambda rec: typed_value(rec, spec) in vs
            return lambda rec: (lambda v: v is None or v not in vs)(typed_value(rec, spec))
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            tok = str(f.get("value", "")).lower().strip("*")
            want = op == "CONTAINS_TOKEN"
            return lambda rec: (tok in (prop_value(rec, spec) or "").lower()) == want
        if op == "BETWEEN":
            lo, hi = conv(f.get("value")), conv(f.get("highValue"))
            return lambda rec: (lambda v: v is not None and lo <= v <= hi)(typed_value(rec, spec))
        fv = conv(f.get("value"))
        if op == "EQ":
            if multi:
                return lambda rec: (lambda v: v is not None and fv in v.split(";"))(typed_value(rec, spec))
            return lambda rec: typed_value(rec, spec) == fv
        if op == "NEQ":
            return lambda rec: typed_value(rec, spec) != fv
        cmp = {"LT": lambda v: v < fv, "LTE": lambda v: v <= fv, "GT": lambda v: v > fv,
               "GTE": lambda v: v >= fv}.get(op)
        if cmp is None:
            raise validation_error(f"Unsupported operator {op}")
        return lambda rec: (lambda v: v is not None and cmp(v))(typed_value(rec, spec))

    def search(self, otype: str, body: Dict[str, Any]) -> Response:
        store = self.store
        schema = store.schemas[otype]
        limit = int_param(body.get("limit"), "limit", 10)
        if limit < 0 or limit > SEARCH_MAX_LIMIT:
            raise validation_error(f"There was a problem with the request. limit must be between 1 and "
                                   f"{SEARCH_MAX_LIMIT}")
        after = int_param(body.get("after"), "after", 0)
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
        sorts: List[Sort] = []
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
        requested = names_param(body.get("properties") or [])
        names = store.resolve_property_names(otype, requested)
        lag_ms = self.app.cfg.search_lag_seconds * 1000
        now = now_ms()
        qkey = None
        if self.app.quirks.search_active:  # what the query is, without its paging: the seed of its page quirks
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
                if query and not any(query in (prop_value(rec, sp) or "").lower() for sp in text_specs):
                    continue
                matches.append(rec)
            for spec, desc in reversed(sorts):
                def key(rec: Rec, spec: PropSpec = spec) -> Tuple[bool, Any]:
                    v = typed_value(rec, spec)
                    return (v is None, v if v is not None else 0)
                if desc:
                    # nulls last also for descending order
                    nn = [r for r in matches if typed_value(r, spec) is not None]
                    nulls = [r for r in matches if typed_value(r, spec) is None]
                    nn.sort(key=key, reverse=True)
                    matches = nn + nulls
                else:
                    matches.sort(key=key)
            total = len(matches)
            lo, hi, nxt = self._search_window(qkey, after, limit, total)
            page = matches[lo:hi]
            results = [store.record_json(otype, rec, names) for rec in page]
        return self._page(total, results, nxt)

    @staticmethod
    def _page(total: int, results: List[Dict[str, Any]], nxt: Optional[int]) -> Response:
        out: Dict[str, Any] = {"total": total, "results": results}
        if nxt is not None:
            out["paging"] = {"next": {"after": str(nxt)}}
        return ok(out)

    def _search_window(self, qkey: Optional[str], after: int, limit: int, total: int) -> Tuple[int, int, Optional[int]]:
        """(lo, hi, next offset or None): the page at offset `after` holds results[lo:hi] of the query's `total`
        results. Without search quirks (qkey None) that is [after, after + limit)."""
        if qkey is None:
            return after, after + limit, (after + limit if after + limit < total else None)
        lo, hi, nxt, events = self.app.quirks.search_window(qkey, after, limit, total)
        for kind in events:
            self.app.count_quirk(kind)
        return lo, hi, nxt

    # -------------------------------------------------------------- keyset search, cached
    def _keyset_query(self, schema: Schema, groups: List[Any], sorts: List[Sort], query: Optional[str],
                      lag_ms: float) -> Optional[Keyset]:
        """(each group's filters without the keyset, last id, descending) for the common queries 'these filters AND
        hs_object_id GT x, sorted by hs_object_id ascending' and 'these filters [AND hs_object_id LT x], sorted by
        hs_object_id descending', whose answers are slices of one cached, id-ordered match list. Several filter groups
        (OR) qualify when every one holds the same keyset filter (the merges table's contacts search has two). None
        otherwise."""
        id_spec = schema.by_name.get("hs_object_id")
        if lag_ms or query or id_spec is None or sorts not in ([(id_spec, False)], [(id_spec, True)]):
            return None
        descending = sorts[0][1]
        keyed = []
        for group in groups or [{}]:
            filters = (group or {}).get("filters") or []
            keys = [f for f in filters if isinstance(f, dict) and f.get("propertyName") == "hs_object_id"
                    and f.get("operator") == ("LT" if descending else "GT")]
            if len(keys) > 1:
                return None
            keyed.append((filters, keys[0] if keys else None))
        values = {None if key is None else str(key.get("value")) for _, key in keyed}
        if len(values) > 1:
            return None
        value = values.pop()
        if value is None and not descending:
            return None
        try:
            last_id = int(value) if value is not None else None
        except ValueError:
            return None
        return [[f for f in filters if f is not key] for filters, key in keyed], last_id, descending

    def _keyset_search(self, otype: str, keyset: Keyset, after: int, limit: int, names: List[str],
                       qkey: Optional[str] = None) -> Response:
        rest, last_id, descending = keyset
        store = self.store
        cache = self.app.search_cache
        cache_key = (otype, dumps(rest))
        with store.lock:
            hit = cache.get(cache_key)
            if hit is None:
                compiled = [[self._compile_filter(store.schemas[otype], f) for f in group] for group in rest]
                ostore = store.objects[otype]
                recs = ostore.recs
                matched = [recs[rid] for rid in ostore.ids
                           if not recs[rid].archived and any(all(f(recs[rid]) for f in group) for group in compiled)]
                hit = (matched, [rec.id for rec in matched])  # ostore.ids ascend: so do these
                if len(cache) >= SEARCH_CACHE_SIZE:
                    cache.pop(next(iter(cache)))
                cache[cache_key] = hit
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
        return self._page(total, results, nxt)
