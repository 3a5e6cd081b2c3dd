"""HubSpot's two request budgets, kept on our side so that 429s stay rare.

HubSpot limits an app to N calls per rolling 10 s (N by plan) and, separately, search calls to a few per second
(the numbers below, each with its source). The general bucket starts from `calls_per_10_seconds` and is corrected by the
`X-HubSpot-RateLimit-Max` / `-Remaining` headers of each answer: a lower Max than configured is adopted, and calls
that HubSpot counted but we did not send (another sync with the same app) are booked here too. Search answers
carry no such headers, so its bucket keeps a small safety margin that grows after each search 429.

One budget per process and API host: every stream and partition draws from the same buckets.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import requests
from airbyte_cdk.sources.streams.call_rate import APIBudget

from source_hubspot.api import as_number

logger = logging.getLogger("airbyte")

# HubSpot's usage guidelines: an app gets 100 calls per rolling 10 s on Free and Starter (110 for public OAuth apps,
# 190 on Professional and Enterprise, 250 with the API limit increase). The budget starts at 100 unless the config
# sets calls_per_10_seconds, and follows X-HubSpot-RateLimit-Max. (This is these numbers' one home: the manifest
# does not use them.)
DEFAULT_CALLS_PER_10_SECONDS = 100
GENERAL_INTERVAL_SECONDS = 10.0
# HubSpot's search guide: 5 search requests per second per account, answered without rate-limit headers.
SEARCH_CALLS_PER_SECOND = 5
SEARCH_INTERVAL_SECONDS = 1.0
# How much later than its interval a slot is given back: the time a call spends between leaving our budget and
# reaching HubSpot varies (thread scheduling, connection set-up), and HubSpot counts arrivals.
GENERAL_MARGIN_SECONDS = 0.3
# HubSpot's general limit is a burst limit (so many calls in any 10 s): while the window holds fewer than this share
# of it, calls leave as soon as they are made; past it, evenly spaced, so that whoever waits with the highest
# priority gets each slot. A discover's or check's few dozen calls then take a round trip or two, not 54 ms each
# (190 / 10 s); a long read is paced as before once its first calls fill half the window. Search keeps its even
# spacing: its limit is per second, and a burst arrives with the latency's spread (see below).
GENERAL_BURST_SHARE = 0.5
# Spaced slots follow a schedule, not the last departure: a caller that wakes a few ms late (thread scheduling, the
# GIL on a busy process) does not push every later slot back. Spacing from the last departure lost that lateness on
# every call: 12 % of both budgets in the contacts-heavy reads (16.3 general calls a second of 18.4, 3.9 searches of
# 4.5). A window that fell behind its schedule by up to this many slots catches up; the window's cap (so many calls
# in any interval + margin) still holds every call.
GENERAL_CATCH_UP_SLOTS = 4
SEARCH_CATCH_UP_SLOTS = 1
# Search's starts at the spread of a call's latency (100 ms at 50-150 ms): with 60 ms, calls that left evenly spaced
# arrived six in a second and each 429 cost a second of search (measured: 7 429s a read at 0.06, 1 at 0.12).
SEARCH_MARGIN_SECONDS = 0.12
SEARCH_MARGIN_STEP = 0.04
SEARCH_MARGIN_MAX = 0.3
# After this many searches in a row without a 429, the margin shrinks by half a step, down to half a step above the
# last margin that met a 429 (at first SEARCH_MARGIN_SECONDS): a margin grown by a burst of latency does not hold
# search below its budget for the rest of the sync, and one too small for the latency is not tried again.
SEARCH_CALM_CALLS = 25
_MARK = "_hubspot_budget_mark"


class RollingWindow:
    """At most `limit` calls in any `interval` (+ margin) seconds, by the moment each call left."""

    def __init__(self, name: str, limit: int, interval: float, margin: float, burst_share: float = 0.0,
                 catch_up_slots: int = 0) -> None:
        self.name = name
        self.limit = max(1, int(limit))
        self.interval = interval
        self.margin = margin
        self.burst_share = burst_share  # calls leave unspaced while the window holds fewer than this share of limit
        self.catch_up_slots = catch_up_slots
        self.next_slot = 0.0  # when the next spaced call is due, by the schedule
        self.sent: deque = deque()
        self.blocked_until = 0.0
        self.lock = threading.Lock()
        self.waiting: Counter = Counter()  # priority -> callers waiting for a slot

    def _expire(self, now: float) -> None:
        horizon = now - self.interval - self.margin
        sent = self.sent
        while sent and sent[0] <= horizon:
            sent.popleft()

    def acquire(self, priority: int = 0) -> int:
        """Blocks until a call may leave, callers of a higher priority first; returns how many calls the window
        holds with this one. Past the burst share, calls leave at least (interval + margin) / limit apart."""
        with self.lock:
            self.waiting[priority] += 1
        try:
            while True:
                with self.lock:
                    now = time.monotonic()
                    self._expire(now)
                    wait = self.blocked_until - now
                    if wait <= 0:
                        # Past the burst share, slots are handed out evenly spaced on a schedule (next_slot):
                        # whoever waits with the highest priority when the next one is due gets it.
                        spacing = (self.interval + self.margin) / self.limit
                        spaced = bool(self.sent) and len(self.sent) >= self.limit * self.burst_share
                        due = (self.next_slot - now) if spaced else 0.0
                        if len(self.sent) >= self.limit:
                            wait = self.sent[0] + self.interval + self.margin - now
                        elif due > 0:
                            wait = due
                        elif priority >= max(self.waiting):
                            self.sent.append(now)
                            self.next_slot = max(self.next_slot, now - spacing * self.catch_up_slots) + spacing
                            return len(self.sent)
                time.sleep(min(max(wait, 0.002), 1.0))
        finally:
            with self.lock:
                self.waiting[priority] -= 1
                if not self.waiting[priority]:
                    del self.waiting[priority]

    def book(self, extra: int) -> None:
        """Counts `extra` calls that HubSpot saw and we did not send, as sent now."""
        with self.lock:
            now = time.monotonic()
            self._expire(now)
            room = self.limit - len(self.sent)
            for _ in range(max(0, min(extra, room))):
                self.sent.append(now)

    def block(self, seconds: float) -> None:
        with self.lock:
            self.blocked_until = max(self.blocked_until, time.monotonic() + seconds)

    def remaining(self) -> int:
        with self.lock:
            self._expire(time.monotonic())
            return self.limit - len(self.sent)


_PRIORITY = threading.local()


def set_priority(value: int) -> None:
    """This thread's calls wait for a slot behind callers of a higher priority only. A first sync gives its readers
    the records their object has left to read: the largest object, the sync's longest part, goes first, and the
    other objects' calls fill in the rest of the budget."""
    _PRIORITY.value = int(value)


# Behind every other caller: reads that have another way (a first sync's search reader, which the list could replace)
# and, further behind, the many readers of a large object's ranges (id_ranges.py). Chains of calls that each wait
# for the one before (analyst tables, windows, small objects' lists) get a slot when they ask; the ranges take every
# slot left, so the budget stays busy and no chain is left for the end.
HELPER_PRIORITY = -1
BULK_PRIORITY = -2
# Ahead of every reader: a call that closes a window (its completeness count), so the window's worker is freed at once.
CLOSING_PRIORITY = 2**62


@contextmanager
def closing_call() -> Iterator[None]:
    """This thread's calls inside go ahead of every reader's, then its own priority is back."""
    before = getattr(_PRIORITY, "value", 0)
    _PRIORITY.value = CLOSING_PRIORITY
    try:
        yield
    finally:
        _PRIORITY.value = before


class HubspotRateBudget(APIBudget):
    """An `APIBudget` the CDK's HTTP client calls before each send and after each answer."""

    def __init__(self, calls_per_10_seconds: Optional[int] = None) -> None:
        super().__init__(policies=[])
        self.configured = calls_per_10_seconds
        self.general = RollingWindow("general", calls_per_10_seconds or DEFAULT_CALLS_PER_10_SECONDS,
                                     GENERAL_INTERVAL_SECONDS, GENERAL_MARGIN_SECONDS, GENERAL_BURST_SHARE,
                                     catch_up_slots=GENERAL_CATCH_UP_SLOTS)
        self.search = RollingWindow("search", SEARCH_CALLS_PER_SECOND, SEARCH_INTERVAL_SECONDS, SEARCH_MARGIN_SECONDS,
                                    catch_up_slots=SEARCH_CATCH_UP_SLOTS)
        self._told_limit: Optional[int] = None
        self._calm_searches = 0  # searches answered without a 429 since the margin last changed
        self._search_margin_floor = SEARCH_MARGIN_SECONDS

    # The CDK's interface ------------------------------------------------------------------------------------
    def get_matching_policy(self, request: Any) -> Optional[Any]:
        return None

    def acquire_call(self, request: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        bucket = self.bucket_for(request)
        if bucket is None:
            return
        held = bucket.acquire(getattr(_PRIORITY, "value", 0))
        try:
            setattr(request, _MARK, held)
        except AttributeError:
            pass

    def update_from_response(self, request: Any, response: Any) -> None:
        if not isinstance(response, requests.Response):
            return
        bucket = self.bucket_for(request)
        if bucket is None:
            return
        if bucket is self.general and response.status_code != 429:
            self._correct_general(request, response)
        if response.status_code == 429:
            self._after_rate_limit(bucket, response)
        elif bucket is self.search:
            self._search_calm()

    # HubSpot's rules ----------------------------------------------------------------------------------------
    def bucket_for(self, request: Any) -> Optional[RollingWindow]:
        url = getattr(request, "path_url", None) or getattr(request, "url", "") or ""
        path = url.split("?", 1)[0]
        if "/oauth/" in path or path.startswith("/_sandbox"):
            return None  # the token endpoint has no share of the API budget
        if getattr(request, "method", "GET") == "POST" and path.endswith("/search"):
            return self.search
        return self.general

    def _correct_general(self, request: Any, response: requests.Response) -> None:
        headers = response.headers
        most = _int(headers.get("X-HubSpot-RateLimit-Max"))
        left = _int(headers.get("X-HubSpot-RateLimit-Remaining"))
        if most is None or left is None:
            return
        bucket = self.general
        interval = _int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"))
        if interval and abs(interval / 1000.0 - bucket.interval) > 0.01:
            bucket.interval = interval / 1000.0
        if most != bucket.limit and (self.configured is None or most < bucket.limit):
            # HubSpot's figure for this app wins over the default, and over a configured figure that is higher.
            if self._told_limit != most:
                logger.info(
                    f"HubSpot allows this app {most} calls per {bucket.interval:g} s (X-HubSpot-RateLimit-Max); "
                    f"the connector now paces itself to that instead of {bucket.limit}."
                )
                self._told_limit = most
            with bucket.lock:
                bucket.limit = most
        held = getattr(request, _MARK, None)
        if held is None:
            return
        # HubSpot counted (most - left) calls in its window when this call arrived; we had sent `held`.
        unseen = (most - left) - held
        if unseen > 2:
            bucket.book(unseen)

    def _search_calm(self) -> None:
        bucket = self.search
        with bucket.lock:
            self._calm_searches += 1
            if self._calm_searches >= SEARCH_CALM_CALLS:
                self._calm_searches = 0
                bucket.margin = max(self._search_margin_floor, bucket.margin - SEARCH_MARGIN_STEP / 2)

    def _after_rate_limit(self, bucket: RollingWindow, response: requests.Response) -> None:
        retry_after = as_number(response.headers.get("Retry-After"))
        if bucket is self.search:
            with bucket.lock:
                self._calm_searches = 0
                self._search_margin_floor = min(SEARCH_MARGIN_MAX, bucket.margin + SEARCH_MARGIN_STEP / 2)
                bucket.margin = min(SEARCH_MARGIN_MAX, bucket.margin + SEARCH_MARGIN_STEP)
            bucket.block(retry_after if retry_after is not None else bucket.interval)
            return
        if retry_after is None:
            # HubSpot's window is full: wait until the oldest call we know of leaves it (the policy's interval at most).
            with bucket.lock:
                now = time.monotonic()
                oldest = bucket.sent[0] if bucket.sent else now
                retry_after = min(bucket.interval, max(1.0, oldest + bucket.interval + bucket.margin - now))
        bucket.block(retry_after)


def _int(value: Any) -> Optional[int]:
    number = as_number(value)
    return int(number) if number is not None and math.isfinite(number) else None


_BUDGETS: Dict[Tuple[str, Optional[int]], HubspotRateBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def budget_for(config: Mapping[str, Any]) -> HubspotRateBudget:
    """The process's budget for this HubSpot host and plan setting."""
    configured = config.get("calls_per_10_seconds")
    try:
        configured = int(configured) if configured not in (None, "") else None
    except (TypeError, ValueError):
        configured = None
    key = (str(config.get("api_base_url") or "https://api.hubapi.com"), configured)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = HubspotRateBudget(configured)
        return _BUDGETS[key]


def forget_budgets() -> None:
    with _BUDGETS_LOCK:
        _BUDGETS.clear()
