"""HubSpot's hostile-but-legal answers ("quirks"), switched on at run time and off by default.

Switched with ``POST /_sandbox/config {"quirks": {...}}`` (``{"quirks": null}`` or ``{}`` switches all off; each POST
replaces the whole set and starts its counters afresh). Every option is either a dict of its settings, a number
(its main setting) or ``true`` (its defaults). Decisions are deterministic: a page's or an id's fate is a hash of
``seed`` and what the request asked for (query, cursor, id), so the same request gets the same answer; only the
"at most n times" and "once" counters remember requests.

``{"seed": 1,``

``"empty_pages": {"rate": 0.2, "size": null, "on": ["search", "list"]}``
    Answers ``200`` with ``results: []`` and a ``paging.next.after``, and following that cursor gives the rest.
    *list* (GET /crm/v3/objects/{type}, also ``archived=true``): a page is empty with probability ``rate`` (by its
    cursor); its next cursor is a new cursor for the same place, which is never empty.
    *search* (POST .../search): the offset space of a query (its filters, sorts and text query; for keyset paging
    the ``hs_object_id GT x`` is part of it) holds blocks of ``size`` phantom slots (default 200, the largest search
    limit), one before real result 0, size, 2*size, ... each with probability ``rate``. A page whose
    ``[after, after+limit)`` falls on phantoms is empty (or short); its ``next.after`` is ``after + limit``, the
    offset at which that same query continues with exactly the records the empty page hid. ``total`` stays the
    number of matching records.

``"short_pages": {"rate": 0.2, "on": ["search", "list"]}``
    A page that would have at least two records and a next page is cut, with probability ``rate``, to a seeded
    ``1..n-1`` records; ``paging.next.after`` points right after the last record given (search: that record's
    offset + 1; list: a cursor at the next record).

``"partial_batch_errors": {"rate": 0.1, "failures": 1, "on": ["objects", "associations"]}``
    POST /crm/v3/objects/{type}/batch/read (*objects*) and POST /crm/v4/associations/{from}/{to}/batch/read
    (*associations*) leave out a seeded ``rate`` of their inputs and answer ``207`` with
    ``{"status": "COMPLETE", "results": [...], "numErrors": N, "errors": [{"status": "error", "category":
    "INTERNAL_ERROR", "message": ..., "context": {"ids": [...]}}], "startedAt": ..., "completedAt": ...}``. Each
    chosen id fails on its first ``failures`` reads and is answered normally afterwards, so a retry of the failed
    ids gets them (``failures`` very large: it always fails). v4's other errors (NO_ASSOCIATIONS_FOUND, context
    ``fromObjectId``) are unchanged.

``"repeat_cursor": {"after_pages": 3, "back": 1, "on": ["list", "associations"]}``
    Once per listing (object type and archived flag; for v4 batch reads: per from/to pair, counting the results
    that page), after ``after_pages`` pages were served, the next page that was asked for with a cursor and has a
    next page gets, as its ``paging.next.after``, a cursor given before: ``back`` = 1 is the cursor this very
    request carried (a loop of one page), 2 the one before it, and so on (the first one given if there are fewer).
    It happens once: asking again gives the right cursor. v4's cursors are remembered per input id.

``"list_disorder_block": {"share": 0.03}``
    GET /crm/v3/objects/{type} (ascending ``list_order``, with and without ``archived=true``): a contiguous run of
    ids (``share`` of the listing's ids, at least one, at a seeded place in the lower half, fixed at its first use)
    is left out of its place and served after all the other records, on pages of its own. Every page is still
    ascending.
``}``

Related: POST /_sandbox/mutate ``{"type": "contacts", "future_updated": 3, "seed": 1}`` moves three records'
``updatedAt`` and modification date into 2099 (see ``Store.mutate``).
"""
from __future__ import annotations

import hashlib
import threading
from typing import Any, Callable, Dict, Hashable, List, Optional, Set, Tuple

SEARCH_PHANTOM_SIZE = 200
HISTORY_CAP = 1000


def _options(value: Any, main: str) -> Optional[Dict[str, Any]]:
    """None when switched off, else a dict of settings (a number is the main setting, true the defaults)."""
    if value is None or value is False or value == 0:
        return None
    if value is True:
        return {}
    if isinstance(value, (int, float)):
        return {main: value}
    if isinstance(value, dict):
        return dict(value)
    raise ValueError(f"quirk setting {value!r} must be a dict, a number or true")


class Quirks:
    """See the module docstring for the options."""

    def __init__(self, spec: Optional[dict] = None) -> None:
        spec = dict(spec or {})
        self.spec = spec
        self.seed = spec.get("seed", 1)
        empty = _options(spec.get("empty_pages"), "rate")
        self.empty_rate = float(empty.get("rate", 0.2)) if empty is not None else 0.0
        self.empty_size = int(empty.get("size") or SEARCH_PHANTOM_SIZE) if empty is not None else 0
        self.empty_on = set(empty.get("on", ["search", "list"])) if empty is not None else set()
        short = _options(spec.get("short_pages"), "rate")
        self.short_rate = float(short.get("rate", 0.2)) if short is not None else 0.0
        self.short_on = set(short.get("on", ["search", "list"])) if short is not None else set()
        batch = _options(spec.get("partial_batch_errors"), "rate")
        self.batch_rate = float(batch.get("rate", 0.1)) if batch is not None else 0.0
        self.batch_failures = int(batch.get("failures", 1)) if batch is not None else 0
        self.batch_on = set(batch.get("on", ["objects", "associations"])) if batch is not None else set()
        repeat = _options(spec.get("repeat_cursor"), "after_pages")
        self.repeat_after = max(1, int(repeat.get("after_pages", 3))) if repeat is not None else 0
        self.repeat_back = max(1, int(repeat.get("back", 1))) if repeat is not None else 1
        self.repeat_on = set(repeat.get("on", ["list", "associations"])) if repeat is not None else set()
        block = _options(spec.get("list_disorder_block"), "share")
        self.block_share = float(block.get("share", 0.03)) if block is not None else 0.0
        self.lock = threading.Lock()
        self.failed: Dict[Tuple[Any, ...], int] = {}  # (kind, ..., id) -> failures given
        self.pages: Dict[Hashable, int] = {}  # repeat_cursor: listing -> pages served with a cursor
        self.given: Dict[Hashable, List[str]] = {}  # repeat_cursor: listing (v4: pair and id) -> cursors given
        self.fired: Set[Hashable] = set()  # repeat_cursor: listings whose loop was given
        self.blocks: Dict[Tuple[str, bool], Tuple[int, int]] = {}  # list_disorder_block: (type, archived) -> ids

    # ------------------------------------------------------------ seeded draws
    def unit(self, *parts: Any) -> float:
        """A number in [0, 1) that only depends on the seed and `parts`."""
        h = hashlib.blake2b(repr((self.seed,) + parts).encode(), digest_size=8).digest()
        return int.from_bytes(h, "big") / 2.0 ** 64

    def pick(self, n: int, *parts: Any) -> int:
        return min(n - 1, int(self.unit("pick", *parts) * n))

    def on(self, quirk: str, where: str) -> bool:
        if quirk == "empty_pages":
            return bool(self.empty_rate) and where in self.empty_on
        if quirk == "short_pages":
            return bool(self.short_rate) and where in self.short_on
        if quirk == "partial_batch_errors":
            return bool(self.batch_rate) and where in self.batch_on
        if quirk == "repeat_cursor":
            return bool(self.repeat_after) and where in self.repeat_on
        if quirk == "list_disorder_block":
            return bool(self.block_share)
        return False

    @property
    def list_active(self) -> bool:
        return (self.on("empty_pages", "list") or self.on("short_pages", "list") or self.on("repeat_cursor", "list")
                or self.on("list_disorder_block", "list"))

    @property
    def search_active(self) -> bool:
        return self.on("empty_pages", "search") or self.on("short_pages", "search")

    # ------------------------------------------------------------ search: offsets with phantom slots
    def search_window(self, qkey: str, after: int, limit: int,
                      n: int) -> Tuple[int, int, Optional[int], List[str]]:
        """(lo, hi, next offset or None, events) for a search page at `after` of a query with `n` results: the
        page holds results[lo:hi]."""
        events: List[str] = []
        size = self.empty_size
        starts: List[int] = []  # offsets at which phantom blocks start, ascending
        if self.on("empty_pages", "search"):
            for g, r in enumerate(r for r in range(0, n, size) if self.unit("empty", qkey, r) < self.empty_rate):
                starts.append(r + g * size)

        def real_before(offset: int) -> int:
            phantoms = sum(min(size, max(0, offset - s)) for s in starts)
            return max(0, min(n, offset - phantoms))

        def offset_of(i: int) -> int:
            return i + size * sum(1 for g, s in enumerate(starts) if s - g * size <= i)

        lo, hi = real_before(after), real_before(after + limit)
        nxt = after + limit if hi < n else None
        if lo == hi and nxt is not None and limit:
            events.append("empty_pages")
        if (hi - lo >= 2 and nxt is not None and self.on("short_pages", "search")
                and self.unit("short", qkey, after) < self.short_rate):
            hi = lo + 1 + self.pick(hi - lo - 1, "short", qkey, after)
            nxt = offset_of(hi)
            events.append("short_pages")
        return lo, hi, nxt, events

    # ------------------------------------------------------------ list pages
    def list_empty(self, otype: str, archived: bool, position: int, tags: str) -> bool:
        return self.on("empty_pages", "list") and self.unit("empty", otype, archived, position, tags) < self.empty_rate

    def list_short(self, otype: str, archived: bool, position: int, tags: str, count: int) -> Optional[int]:
        """How many of `count` records a short list page keeps, or None."""
        if count < 2 or not self.on("short_pages", "list"):
            return None
        if self.unit("short", otype, archived, position, tags) >= self.short_rate:
            return None
        return 1 + self.pick(count - 1, "short", otype, archived, position, tags)

    def disorder_block(self, otype: str, archived: bool,
                       listing_ids: Callable[[], List[int]]) -> Optional[Tuple[int, int]]:
        """(first id, last id) of the run served last, chosen at first use from the listing's ids (a callable
        giving them, ascending)."""
        if not self.block_share:
            return None
        key = (otype, archived)
        with self.lock:
            if key not in self.blocks:
                eligible_ids = listing_ids()
                n = len(eligible_ids)
                if not n:
                    return None
                size = max(1, int(round(n * self.block_share)))
                first = self.pick(max(1, n // 2 - size + 1), "block", otype, archived) if size < n else 0
                run = eligible_ids[first:first + size]
                self.blocks[key] = (run[0], run[-1])
            return self.blocks[key]

    # ------------------------------------------------------------ repeat_cursor
    def next_cursor(self, listing: Hashable, history_key: Hashable, has_cursor: bool,
                    true_next: Optional[str]) -> Tuple[Optional[str], bool]:
        """The cursor to give for a page whose right next cursor is `true_next`; (cursor, looped)."""
        with self.lock:
            given = self.given.setdefault(history_key, [])
            served = self.pages[listing] = self.pages.get(listing, 0) + 1
            if (has_cursor and true_next is not None and served > self.repeat_after and listing not in self.fired
                    and given):
                self.fired.add(listing)
                return given[-min(self.repeat_back, len(given))], True
            if true_next is not None:
                given.append(true_next)
                if len(given) > HISTORY_CAP:
                    del given[0]
            return true_next, False

    # ------------------------------------------------------------ partial_batch_errors
    def batch_fails(self, where: str, key: Any, sid: str) -> bool:
        """Whether this read of input `sid` fails (counts the failure)."""
        if not self.on("partial_batch_errors", where):
            return False
        if self.unit("batch", where, key, sid) >= self.batch_rate:
            return False
        with self.lock:
            k = (where, key, sid)
            done = self.failed.get(k, 0)
            if done >= self.batch_failures:
                return False
            self.failed[k] = done + 1
            return True
