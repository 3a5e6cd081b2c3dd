"""Object reads: list pages (GET /crm/v3/objects/{type}, with the list quirks and the scrambled order), one record
(GET .../{type}/{id}) and batch reads (POST .../{type}/batch/read)."""
from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from sandbox.analyst import HISTORY_MAX_INPUTS
from sandbox.data import ObjectStore
from sandbox.records import Rec
from sandbox.responses import (ApiError, Query, Response, archived_param, batch_response, csv_param,
                               decode_list_cursor, encode_cursor, encode_list_cursor, err_body, first_param, int_param,
                               internal_batch_error, names_param, ok, validation_error)
from sandbox.values import iso_now, mix64

if TYPE_CHECKING:
    from sandbox.app import SandboxApp

LIST_MAX_LIMIT = 100
BATCH_READ_MAX = 100

Page = Tuple[List[Rec], Optional[int]]  # records, and where the next page starts (None: no next page)


class ObjectsApi:
    def __init__(self, app: "SandboxApp") -> None:
        self.app = app
        self.store = app.store

    def record_by_id(self, otype: str, sid: Any, archived: bool = False) -> Optional[Rec]:
        try:
            rid = int(sid)
        except (TypeError, ValueError):
            return None
        rec = self.store.objects[otype].recs.get(rid)
        if rec is None or rec.archived != archived:
            return None
        return rec

    # -------------------------------------------------------------- list
    def list_objects(self, otype: str, q: Query, path: str) -> Response:
        app = self.app
        limit = int_param(first_param(q, "limit"), "limit", 10)
        if limit < 1 or limit > LIST_MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {LIST_MAX_LIMIT}, got {limit}",
                                   errors=[{"message": f"limit must be between 1 and {LIST_MAX_LIMIT}",
                                            "code": "INVALID_LIMIT"}])
        after = first_param(q, "after")
        archived = archived_param(q)
        store = self.store
        start, tags = self._list_start(otype, archived, after) if after else (0, "")
        names = store.resolve_property_names(otype, csv_param(q, "properties"))
        with_history = self.history_names(otype, csv_param(q, "propertiesWithHistory"), limit)
        assoc_types = app.associations.requested_types(otype, q)
        with store.lock:
            ostore = store.objects[otype]
            ids = ostore.archived_ids if archived else ostore.ids
            recs = ostore.recs
            if app.quirks.list_active:
                page, cur = self._quirky_list_page(otype, ostore, archived, start, tags, limit, after)
            else:
                if app.cfg.list_order == "scrambled":
                    page, next_id = self._scrambled_page(ostore, archived, start, limit)
                else:
                    page, next_id = self._id_ordered_page(ids, recs, archived, start, limit)
                cur = encode_cursor(next_id) if next_id is not None else None
            results = []
            for rec in page:
                d = self.with_history(otype, rec, store.record_json(otype, rec, names), with_history)
                if assoc_types:
                    a = app.associations.inline(otype, rec, assoc_types)
                    if a:
                        d["associations"] = a
                results.append(d)
        out: Dict[str, Any] = {"results": results}
        if cur is not None:
            params = [(k, v) for k, vals in q.items() if k != "after" for v in vals]
            params.append(("after", cur))
            out["paging"] = {"next": {"after": cur, "link": f"{app.base_url}{path}?{urlencode(params)}"}}
        return ok(out)

    def _list_start(self, otype: str, archived: bool, after: str) -> Tuple[int, str]:
        """Where a list page starts (the cursor's position and tags): the sandbox's own cursor, or digits read as
        `list_after` says (HubSpot's list cursors are the next record's id in digits)."""
        if not after.isdigit() or self.app.cfg.list_order != "ascending":
            return decode_list_cursor(after)
        mode = self.app.cfg.list_after
        if mode == "rejected":
            raise validation_error(f"Invalid paging cursor: {after!r}. Use the value of paging.next.after from the "
                                   f"previous response.")
        if mode == "ignored":
            return 0, ""
        if mode == "exclusive":
            return int(after) + 1, ""
        if mode == "offset":
            with self.store.lock:
                ids = self.store.objects[otype].archived_ids if archived else self.store.objects[otype].ids
                n = int(after)
                return (ids[n] if n < len(ids) else (ids[-1] + 1 if ids else 0)), ""
        return int(after), ""

    @staticmethod
    def _id_ordered_page(ids: List[int], recs: Dict[int, Rec], archived: bool, start: int, limit: int) -> Page:
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

    def _quirky_list_page(self, otype: str, ostore: ObjectStore, archived: bool, start: int, tags: str, limit: int,
                          after: Optional[str]) -> Tuple[List[Rec], Optional[str]]:
        """A list page with the list quirks that are on (sandbox/quirks.py): (records, next cursor or None)."""
        qk = self.app.quirks
        given_empty, tags = "e" in tags, tags.replace("e", "")
        if self.app.cfg.list_order == "scrambled":
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
            self.app.count_quirk("empty_pages")
            page, nxt = [], encode_list_cursor(start, tags + "e")
        else:
            keep = qk.list_short(otype, archived, start, tags, len(page)) if nexts[-1] is not None else None
            if keep is not None:
                self.app.count_quirk("short_pages")
                page = page[:keep]
            nxt = nexts[len(page)]
        if qk.on("repeat_cursor", "list"):
            nxt, looped = qk.next_cursor(("list", otype, archived), ("list", otype, archived), bool(after), nxt)
            if looped:
                self.app.count_quirk("repeat_cursor")
        return page, nxt

    @staticmethod
    def _id_page_with_block(ostore: ObjectStore, archived: bool, start: int, tags: str, limit: int,
                            block: Optional[Tuple[int, int]]) -> Tuple[List[Rec], List[Optional[str]]]:
        """An id-ordered page of a listing whose ids in `block` (first id, last id; or None) come after all the
        others ('b' in tags: the block's part). -> (records, cursors): cursors[k] is the cursor of the page that
        starts after the first k records (None: nothing more)."""
        ids, recs = (ostore.archived_ids if archived else ostore.ids), ostore.recs
        lo, hi = block if block else (None, None)

        def records_from(first_id: int, in_block: bool) -> Any:
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

        def take(first_id: int, in_block: bool) -> List[Rec]:
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
        cursors: List[Optional[str]] = [encode_list_cursor(rec.id, phase) for rec in page]
        if len(found) > limit:
            cursors.append(encode_list_cursor(found[limit].id, phase))
        elif not in_block and block is not None and take(lo, True):
            cursors.append(encode_list_cursor(lo, "b"))
        else:
            cursors.append(None)
        return page, cursors

    @staticmethod
    def _scrambled_page(ostore: ObjectStore, archived: bool, start: int, limit: int) -> Page:
        """A fixed order that is not by id (`list_order: scrambled`); the cursor is a position in that order."""
        order = sorted((rid for rid in (ostore.archived_ids if archived else ostore.ids)
                        if ostore.recs[rid].archived == archived), key=lambda rid: mix64(rid))
        page = [ostore.recs[rid] for rid in order[start:start + limit]]
        return page, (start + limit if start + limit < len(order) else None)

    # -------------------------------------------------------------- one record, batch read
    def get_object(self, otype: str, sid: str, q: Query) -> Response:
        archived = archived_param(q)
        store = self.store
        with store.lock:
            rec = self.record_by_id(otype, sid, archived)
            if rec is None:
                raise ApiError(404, err_body("Object not found.  objectId are usually numeric.",
                                             "OBJECT_NOT_FOUND", context={"id": [sid]}))
            names = store.resolve_property_names(otype, csv_param(q, "properties"))
            d = store.record_json(otype, rec, names)
            assoc_types = self.app.associations.requested_types(otype, q)
            if assoc_types:
                a = self.app.associations.inline(otype, rec, assoc_types)
                if a:
                    d["associations"] = a
        return ok(d)

    def batch_read(self, otype: str, body: Dict[str, Any], q: Query) -> Response:
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation_error("Invalid input JSON: 'inputs' is required")
        if len(inputs) > BATCH_READ_MAX:
            raise validation_error(f"Batch input must not exceed {BATCH_READ_MAX} inputs, got {len(inputs)}",
                                   context={"inputs": [str(len(inputs))]})
        with_history = self.history_names(otype, body.get("propertiesWithHistory"), len(inputs))
        props = names_param(body.get("properties") or [])
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
                if self.app.quirks.batch_fails("objects", (otype, archived), sid):
                    failed.append(sid)
                    continue
                rec = self.record_by_id(otype, sid, archived)
                if rec is None:
                    missing.append(sid)
                else:
                    results.append(self.with_history(otype, rec, store.record_json(otype, rec, names),
                                                     with_history))
        errors = []
        if missing:
            errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                           "message": f"Could not get some {store.catalog.singular[otype].upper()} objects, they "
                                      f"may be deleted or not exist. Check that ids are valid.",
                           "context": {"ids": missing}})
        if failed:
            self.app.count_quirk("partial_batch_errors", len(failed))
            errors.append(internal_batch_error(failed))
        return batch_response(results, errors, started, iso_now())

    # -------------------------------------------------------------- property history
    def history_names(self, otype: str, requested: Any, inputs: int) -> List[str]:
        """The known properties asked for with history; HubSpot reads at most 50 records with history at once."""
        requested = names_param(requested)
        if not requested:
            return []
        if inputs > HISTORY_MAX_INPUTS:
            raise validation_error(f"propertiesWithHistory can be read for at most {HISTORY_MAX_INPUTS} records at "
                                   f"a time, got {inputs}")
        schema = self.store.schemas[otype]
        return [n for n in dict.fromkeys(requested) if n in schema.by_name]

    def with_history(self, otype: str, rec: Rec, d: Dict[str, Any], names: List[str]) -> Dict[str, Any]:
        if names:
            d["propertiesWithHistory"] = {n: self.app.analyst.history(otype, rec, n) for n in names}
        return d
