"""Association reads: v4 batch reads (POST /crm/v4/associations/{from}/{to}/batch/read, with their quirks), one
record's associations in v4 and v3 (GET .../{type}/{id}/associations/{to}), and the associations v3 object reads
inline (`associations=` on list and get)."""
from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from sandbox.association_types import AssocDir
from sandbox.records import Rec
from sandbox.responses import (ApiError, Query, Response, batch_response, csv_param, decode_cursor, encode_cursor,
                               err_body, first_param, int_param, internal_batch_error, ok, validation_error)
from sandbox.values import iso_now

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

ASSOC_BATCH_MAX = 1000
V4_RECORD_PAGE = 500  # max associations per page of one record's v4 read

Links = List[Tuple[int, int]]  # (to id, association bits), ascending


class AssociationsApi:
    def __init__(self, app: "SandboxApp") -> None:
        self.app = app
        self.store = app.store

    def requested_types(self, otype: str, q: Query) -> List[str]:
        """The types an object read's `associations=` names that `otype` is associated with, once each."""
        types: List[str] = []
        for a in csv_param(q, "associations"):
            t = self.store.catalog.normalize(a)
            if t and (otype, t) in self.store.directions and t not in types:
                types.append(t)
        return types

    def inline(self, otype: str, rec: Rec, assoc_types: List[str]) -> Dict[str, Any]:
        """A v3 object read's `associations`: up to `inline_assoc_limit` ids per type, then a link to the rest."""
        cap = self.app.cfg.inline_assoc_limit
        out = {}
        for t in assoc_types:
            lst = self.store.associations_of(otype, rec.id, t)
            if not lst:
                continue
            names = self.store.directions[(otype, t)].v3_names
            res = []
            for tid, bits in lst[:cap]:
                s = str(tid)
                for bit, name in names:
                    if bits & bit:
                        res.append({"id": s, "type": name})
            entry: Dict[str, Any] = {"results": res}
            if len(lst) > cap:
                after = encode_cursor(lst[cap][0])
                entry["paging"] = {"next": {"after": after,
                                            "link": f"{self.app.base_url}/crm/v3/objects/{otype}/{rec.id}/"
                                                    f"associations/{t}?after={after}"}}
            out[t] = entry
        return out

    @staticmethod
    def _v4_to(direction: AssocDir, lst: Links) -> List[Dict[str, Any]]:
        types = direction.v4_types
        return [{"toObjectId": tid, "associationTypes": [t for bit, t in types if bits & bit]} for tid, bits in lst]

    def v4_batch(self, a: str, b: str, body: Dict[str, Any]) -> Response:
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation_error("Invalid input JSON: 'inputs' is required")
        if len(inputs) > ASSOC_BATCH_MAX:
            raise validation_error(f"Batch input must not exceed {ASSOC_BATCH_MAX} inputs, got {len(inputs)}")
        started = iso_now()
        store = self.store
        direction = store.directions.get((a, b))
        page = self.app.cfg.assoc_page_size
        results: List[Dict[str, Any]] = []
        errors: List[Dict[str, Any]] = []
        failed: List[str] = []
        qk = self.app.quirks
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
                rec = self.app.objects.record_by_id(a, sid)
                lst = store.associations_of(a, rec.id, b) if (rec is not None and direction) else []
                if start:
                    lst = lst[bisect.bisect_left([x[0] for x in lst], start):]
                if not lst:
                    errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                                   "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                                   "context": {"fromObjectId": [sid]}, "links": {},
                                   "message": f"No {b} is associated with {store.catalog.singular[a]} {sid}."})
                    continue
                r: Dict[str, Any] = {"from": {"id": sid}, "to": self._v4_to(direction, lst[:page])}
                nxt = encode_cursor(lst[page][0]) if len(lst) > page else None
                if qk.on("repeat_cursor", "associations") and (after or nxt):
                    nxt, looped = qk.next_cursor(("associations", a, b), ("associations", a, b, sid), bool(after), nxt)
                    if looped:
                        self.app.count_quirk("repeat_cursor")
                if nxt is not None:
                    r["paging"] = {"next": {"after": nxt, "link": None}}
                results.append(r)
        if failed:
            self.app.count_quirk("partial_batch_errors", len(failed))
            errors.append(internal_batch_error(failed))
        return batch_response(results, errors, started, iso_now())

    def _record_assoc_page(self, a: str, sid: str, b: str, q: Query, cap: int) -> Tuple[Links, Optional[str]]:
        limit = int_param(first_param(q, "limit"), "limit", cap)
        if limit < 1 or limit > cap:
            raise validation_error(f"limit must be between 1 and {cap}")
        after = first_param(q, "after")
        start = decode_cursor(after) if after else 0
        with self.store.lock:
            rec = self.app.objects.record_by_id(a, sid)
            if rec is None:
                raise ApiError(404, err_body("Object not found.", "OBJECT_NOT_FOUND"))
            lst = self.store.associations_of(a, rec.id, b) if (a, b) in self.store.directions else []
        lst = [x for x in lst if x[0] >= start]
        nxt = encode_cursor(lst[limit][0]) if len(lst) > limit else None
        return lst[:limit], nxt

    def v4_record_associations(self, a: str, sid: str, b: str, q: Query) -> Response:
        lst, nxt = self._record_assoc_page(a, sid, b, q, V4_RECORD_PAGE)
        out: Dict[str, Any] = {"results": self._v4_to(self.store.directions[(a, b)], lst) if lst else []}
        if nxt:
            out["paging"] = {"next": {"after": nxt, "link": f"{self.app.base_url}/crm/v4/objects/{a}/{sid}/"
                                                            f"associations/{b}?after={nxt}"}}
        return ok(out)

    def v3_record_associations(self, a: str, sid: str, b_name: str, q: Query) -> Response:
        b = self.app.object_type(b_name)
        self.app.require_scopes(b)
        lst, nxt = self._record_assoc_page(a, sid, b, q, self.app.cfg.inline_assoc_limit)
        res = []
        if lst:
            names = self.store.directions[(a, b)].v3_names
            for tid, bits in lst:
                for bit, name in names:
                    if bits & bit:
                        res.append({"id": str(tid), "type": name})
        out: Dict[str, Any] = {"results": res}
        if nxt:
            out["paging"] = {"next": {"after": nxt, "link": f"{self.app.base_url}/crm/v3/objects/{a}/{sid}/"
                                                            f"associations/{b}?after={nxt}"}}
        return ok(out)
