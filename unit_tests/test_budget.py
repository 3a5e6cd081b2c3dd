"""The rate budget: HubSpot's general bucket follows its headers, search keeps its own pace, 429s make it wait."""

from __future__ import annotations

import time

import requests

from source_hubspot.budget import (
    DEFAULT_CALLS_PER_10_SECONDS,
    SEARCH_MARGIN_SECONDS,
    HubspotRateBudget,
    budget_for,
)


def _request(method: str, url: str) -> requests.PreparedRequest:
    return requests.Request(method, url).prepare()


def _answer(status: int = 200, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


def _limit_headers(most: int, left: int) -> dict:
    return {"X-HubSpot-RateLimit-Max": str(most), "X-HubSpot-RateLimit-Remaining": str(left),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}


SEARCH = "https://api.hubapi.com/crm/v3/objects/contacts/search"
LIST = "https://api.hubapi.com/crm/v3/properties/contacts"
TOKEN = "https://api.hubapi.com/oauth/v1/token"


def test_given_requests_when_classified_then_search_general_and_token_calls_use_their_own_buckets():
    budget = HubspotRateBudget()
    assert budget.bucket_for(_request("POST", SEARCH)) is budget.search
    assert budget.bucket_for(_request("GET", LIST)) is budget.general
    assert budget.bucket_for(_request("POST", "https://api.hubapi.com/crm/v4/associations/contacts/companies/batch/read")) is budget.general
    assert budget.bucket_for(_request("POST", TOKEN)) is None


def test_given_no_plan_setting_when_hubspot_reports_a_higher_limit_then_it_is_adopted():
    budget = HubspotRateBudget()
    assert budget.general.limit == DEFAULT_CALLS_PER_10_SECONDS
    request = _request("GET", LIST)
    budget.acquire_call(request)
    budget.update_from_response(request, _answer(200, **_limit_headers(190, 189)))
    assert budget.general.limit == 190


def test_given_a_plan_setting_when_hubspot_reports_more_then_the_setting_stays_a_ceiling():
    budget = HubspotRateBudget(60)
    request = _request("GET", LIST)
    budget.acquire_call(request)
    budget.update_from_response(request, _answer(200, **_limit_headers(190, 189)))
    assert budget.general.limit == 60
    budget.acquire_call(request)
    budget.update_from_response(request, _answer(200, **_limit_headers(40, 38)))
    assert budget.general.limit == 40


def test_given_another_sync_using_the_app_when_headers_show_it_then_its_calls_are_booked():
    budget = HubspotRateBudget(100)
    request = _request("GET", LIST)
    budget.acquire_call(request)
    assert budget.general.remaining() == 99
    # HubSpot counted 31 calls in the window, we sent 1: 30 came from elsewhere.
    budget.update_from_response(request, _answer(200, **_limit_headers(100, 69)))
    assert budget.general.remaining() == 69


def test_given_a_search_429_when_answered_then_search_waits_and_keeps_a_wider_margin():
    budget = HubspotRateBudget()
    request = _request("POST", SEARCH)
    budget.acquire_call(request)
    before = time.monotonic()
    budget.update_from_response(request, _answer(429))
    assert budget.search.blocked_until >= before + 0.9
    assert budget.search.margin > SEARCH_MARGIN_SECONDS
    assert budget.general.blocked_until == 0.0
    assert budget.general.remaining() == budget.general.limit  # a search 429 costs the general bucket nothing


def test_given_a_general_429_with_retry_after_when_answered_then_general_calls_wait_that_long():
    budget = HubspotRateBudget()
    request = _request("GET", LIST)
    budget.acquire_call(request)
    before = time.monotonic()
    budget.update_from_response(request, _answer(429, **{"Retry-After": "3", **_limit_headers(100, 0)}))
    assert before + 2.9 <= budget.general.blocked_until <= time.monotonic() + 3.1
    assert budget.search.blocked_until == 0.0


def test_given_a_full_window_when_acquiring_then_the_call_waits_for_the_oldest_to_leave(monkeypatch):
    budget = HubspotRateBudget(3)
    budget.general.interval = 0.3
    budget.general.margin = 0.0
    request = _request("GET", LIST)
    started = time.monotonic()
    for _ in range(4):
        budget.acquire_call(request)
    assert time.monotonic() - started >= 0.29


def test_given_one_config_when_budget_asked_twice_then_every_stream_shares_one_budget():
    config = {"api_base_url": "http://127.0.0.1:1", "calls_per_10_seconds": 50}
    assert budget_for(config) is budget_for(dict(config))
    assert budget_for(config) is not budget_for({**config, "calls_per_10_seconds": 60})


def test_given_callers_waiting_for_a_full_window_then_the_higher_priority_goes_first():
    import threading

    from source_hubspot.budget import RollingWindow

    window = RollingWindow("search", limit=1, interval=0.3, margin=0.0)
    window.acquire()  # the window is full for 0.3 s
    order = []

    def caller(name: str, priority: int) -> None:
        window.acquire(priority)
        order.append(name)

    low = threading.Thread(target=caller, args=("small object", 10))
    low.start()
    threading.Event().wait(0.05)  # the low-priority caller waits first (time.sleep is a no-op in these tests)
    high = threading.Thread(target=caller, args=("large object", 1000))
    high.start()
    low.join(timeout=5)
    high.join(timeout=5)
    assert order == ["large object", "small object"]
    assert not window.waiting


def test_given_a_window_with_room_then_calls_leave_evenly_spaced_not_in_a_burst():
    from source_hubspot.budget import RollingWindow

    window = RollingWindow("search", limit=5, interval=0.5, margin=0.0)
    started = time.monotonic()
    moments = []
    for _ in range(5):
        window.acquire()
        moments.append(time.monotonic() - started)
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    assert all(gap >= 0.09 for gap in gaps), gaps  # 0.5 s / 5 calls
    assert moments[-1] < 0.5


def test_given_the_general_window_less_than_half_full_then_calls_leave_at_once_and_past_it_evenly_spaced():
    from source_hubspot.budget import GENERAL_BURST_SHARE, HubspotRateBudget

    window = HubspotRateBudget(calls_per_10_seconds=10).general  # 10 calls per 10.3 s: 1.03 s apart when spaced
    assert GENERAL_BURST_SHARE == 0.5
    started = time.monotonic()
    for _ in range(5):
        window.acquire()
    burst = time.monotonic() - started
    assert burst < 0.2, burst  # a discover's properties calls go out at once
    window.acquire()
    assert time.monotonic() - started >= 1.0  # the sixth call is spaced from the fifth
    assert len(window.sent) == 6


def test_given_a_caller_late_for_its_slot_then_the_later_slots_keep_their_schedule():
    import threading

    from source_hubspot.budget import RollingWindow

    # 0.1 s apart; up to 4 slots a late window catches up.
    window = RollingWindow("general", limit=10, interval=1.0, margin=0.0, catch_up_slots=4)
    window.acquire()
    started = time.monotonic()
    threading.Event().wait(0.35)  # the next caller comes 0.25 s after its slot was due
    moments = []
    for _ in range(4):
        window.acquire()
        moments.append(time.monotonic() - started)
    # The slots due at 0.1 and 0.2 are caught up at once; then 0.3 and 0.4 by the schedule. Spaced from the last
    # departure instead, the four would have left at 0.35, 0.45, 0.55 and 0.65.
    assert moments[2] - moments[0] < 0.05, moments
    assert moments[3] < 0.5, moments
    assert len(window.sent) == 5
