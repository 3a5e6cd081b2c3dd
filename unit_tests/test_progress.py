"""Progress lines and the sync report: what they count and how they say it, without a server."""

from __future__ import annotations

import json
import threading
from typing import List

import pytest
import requests

from source_hubspot.progress import ApiCalls, SkippedStreams, SyncProgress, interval_seconds
from testkit.connector import ONE_WINDOW, catalog, private_app_config, run_read
from testkit.mock_server import API, missing_scopes, mock_contacts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _answer(method: str, path: str, status: int, headers=None, request=None) -> requests.Response:
    if request is None:
        request = requests.Request(method, f"https://api.hubapi.com{path}").prepare()
    response = requests.Response()
    response.status_code = status
    response.request = request
    response.headers.update(headers or {})
    return response


def _line(message) -> str:
    return json.dumps(message, separators=(",", ":"))


def _status(stream: str, status: str) -> str:
    stream_status = {"stream_descriptor": {"name": stream}, "status": status}
    return _line({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1, "stream_status": stream_status}})


def _error(stream: str, message: str) -> str:
    error = {"message": message, "failure_type": "system_error", "stream_descriptor": {"name": stream}}
    return _line({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1, "error": error}})


def _messages(lines: List[str]) -> List[str]:
    return [json.loads(line)["log"]["message"] for line in lines]


def test_given_a_retried_search_page_when_counted_then_calls_pages_retries_and_429s_are_the_streams():
    ApiCalls.belong_to("contacts")
    page = requests.Request("POST", "https://api.hubapi.com/crm/v3/objects/contacts/search").prepare()
    ApiCalls.count(_answer("POST", "", 429, request=page))
    ApiCalls.count(requests.exceptions.ConnectionError("reset", request=page))
    ApiCalls.count(_answer("POST", "", 200, request=page))
    ApiCalls.count(_answer("POST", "/crm/v4/associations/contacts/deals/batch/read", 207))
    ApiCalls.count(_answer("GET", "/crm/v3/objects/contacts?archived=true&limit=100", 200))
    ApiCalls.count(_answer("GET", "/crm/v3/properties/contacts", 200))

    counts = ApiCalls.snapshot()["contacts"]
    assert (counts.calls, counts.pages, counts.retries, counts.rate_limited) == (6, 2, 2, 1)


def test_given_two_threads_reading_two_streams_when_counted_then_each_call_is_its_threads_stream():
    def read(stream: str, calls: int) -> None:
        ApiCalls.belong_to(stream)
        for _ in range(calls):
            ApiCalls.count(_answer("POST", "/crm/v3/objects/calls/search", 200))

    threads = [threading.Thread(target=read, args=args) for args in (("engagements", 7), ("engagements_calls", 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snapshot = ApiCalls.snapshot()
    assert snapshot["engagements"].calls == 7 and snapshot["engagements_calls"].calls == 3


def test_given_a_requester_named_after_its_stream_when_it_answers_then_the_threads_helper_calls_follow():
    ApiCalls.belong_to("contacts")
    ApiCalls.count(_answer("GET", "/crm/v3/owners", 200), "owners")
    ApiCalls.count(_answer("GET", "/crm/v3/properties/owners", 200))
    snapshot = ApiCalls.snapshot()
    assert snapshot["owners"].calls == 2 and "contacts" not in snapshot


def test_given_rate_limit_headers_when_progress_then_the_budget_left_is_shown_else_unknown():
    clock = Clock()
    progress = SyncProgress(lambda lines: None, ["contacts"], interval=0, clock=clock)
    progress.observe(_status("contacts", "STARTED"))
    clock.now += 5
    assert "budget unknown" in _messages(progress.progress_lines())[0]

    ApiCalls.belong_to("contacts")
    headers = {
        "X-HubSpot-RateLimit-Max": "100",
        "X-HubSpot-RateLimit-Remaining": "71",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    ApiCalls.count(_answer("GET", "/crm/v3/properties/contacts", 200, headers))
    for number in range(1, 12401):
        progress.observe_record("contacts", False)
    clock.now += 5
    assert _messages(progress.progress_lines()) == [
        "progress contacts: 12,400 records (2,480/s), 1 API call, budget 71/100 per 10 s, 0 retries"
    ]


def test_given_completed_failed_and_skipped_streams_when_the_read_ends_then_the_report_says_which_and_why():
    # run.py counts each record as it prints it (observe_record) and hands the other lines over (observe).
    clock, written = Clock(), []
    streams = ["contacts", "companies", "tickets", "gone"]
    with SyncProgress(written.extend, streams, interval=0, clock=clock) as progress:
        SkippedStreams.skip("tickets", "the token lacks the scope(s) tickets")  # as the source does as the read starts
        for stream in ("contacts", "companies"):
            progress.observe(_status(stream, "STARTED"))
        for archived in (False, True, False):
            progress.observe_record("contacts", archived)
        progress.observe(_error("companies", "HubSpot refused a request whose URL is too long (HTTP 414). Report it."))
        progress.observe(_status("companies", "INCOMPLETE"))
        progress.observe(_status("gone", "INCOMPLETE"))
        clock.now += 2
        progress.observe(_status("contacts", "COMPLETE"))

    nothing = "0 records (0 archived), 0 pages, 0 API calls, 0 retries, 0 rate-limited (429), 0.0 s, 0 records/s"
    assert _messages(written) == [
        "sync report contacts: completed, 3 records (1 archived), 0 pages, 0 API calls, 0 retries, "
        "0 rate-limited (429), 2.0 s, 2 records/s",
        f"sync report companies: failed (HubSpot refused a request whose URL is too long (HTTP 414)), {nothing}",
        f"sync report tickets: skipped (the token lacks the scope(s) tickets), {nothing}",
        f"sync report gone: skipped (the source has no stream of this name; refresh the source schema), {nothing}",
        "sync report total: failed (1 completed, 1 failed, 2 skipped of 4 streams), 3 records (1 archived), 0 pages, "
        "0 API calls, 0 retries, 0 rate-limited (429), 2.0 s, 2 records/s",
    ]


def test_given_the_read_raises_when_reported_then_running_streams_failed_and_the_others_were_skipped():
    written: List[str] = []
    with pytest.raises(RuntimeError):
        with SyncProgress(written.extend, ["contacts", "deals"], interval=0) as progress:
            progress.observe(_status("contacts", "STARTED"))
            raise RuntimeError("the CDK stopped")
    report = _messages(written)
    assert report[0].startswith("sync report contacts: failed (the sync stopped: the CDK stopped before this stream")
    assert report[1].startswith("sync report deals: skipped (the sync stopped before this stream started)")
    assert report[2].startswith("sync report total: failed (0 completed, 1 failed, 1 skipped of 2 streams)")


def test_given_a_config_error_before_any_stream_when_the_report_is_written_then_the_total_says_why():
    written: List[str] = []
    with pytest.raises(RuntimeError):
        with SyncProgress(written.extend, ["contacts"], interval=0):
            raise RuntimeError("The config has a problem: start_date is not a date. Use 2024-01-01T00:00:00Z.")
    assert _messages(written)[-1].startswith(
        "sync report total: failed (The config has a problem: start_date is not a date; "
        "0 completed, 0 failed, 1 skipped of 1 stream)"
    )


def test_given_no_line_is_printed_when_time_passes_then_the_timer_still_logs_whole_lines():
    batches: List[List[str]] = []
    three_lines = threading.Event()

    def write(lines: List[str]) -> None:
        batches.append(lines)
        if sum("progress contacts" in line for batch in batches for line in batch) >= 3:
            three_lines.set()

    with SyncProgress(write, ["contacts"], interval=0.02) as progress:
        progress.observe(_status("contacts", "STARTED"))
        assert three_lines.wait(timeout=10), "the main loop observes nothing, the timer logs anyway"
    assert all(json.loads(line)["type"] == "LOG" for batch in batches for line in batch)
    assert "sync report total" in batches[-1][-1], "the report comes last, after the timer stopped"


def test_given_the_interval_variable_when_read_then_it_sets_the_seconds(monkeypatch):
    monkeypatch.delenv("SOURCE_HUBSPOT_PROGRESS_SECONDS", raising=False)
    assert interval_seconds() == 5.0
    monkeypatch.setenv("SOURCE_HUBSPOT_PROGRESS_SECONDS", "0.5")
    assert interval_seconds() == 0.5
    monkeypatch.setenv("SOURCE_HUBSPOT_PROGRESS_SECONDS", "soon")
    assert interval_seconds() == 5.0


def test_given_no_deals_scope_when_reading_contacts_and_deals_then_deals_is_skipped_with_its_scope(requests_mock):
    mock_contacts(requests_mock)
    requests_mock.get(f"{API}/crm/v3/properties/deals", status_code=403, json=missing_scopes("crm.objects.deals.read"))

    output = run_read(private_app_config(**ONE_WINDOW), catalog("contacts", "deals"))

    assert [r.record.stream for r in output.records] == ["contacts"]
    statuses = [
        (m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.name)
        for m in output.trace_messages
        if m.trace.stream_status is not None
    ]
    assert ("deals", "INCOMPLETE") in statuses and ("contacts", "COMPLETE") in statuses
    assert ("deals", "STARTED") not in statuses
    # The readable stream is read to its end; then the sync fails, naming the skipped stream and its scope.
    assert len(output.errors) == 1
    error = output.errors[0].trace.error
    assert error.failure_type.name == "config_error" and "deals (the token lacks the scope(s) crm.objects.deals.read)" in error.message
    warnings = [m.log.message for m in output.logs if m.log.message.startswith("Skipping stream deals")]
    assert warnings and "crm.objects.deals.read" in warnings[0]
    assert SkippedStreams.reasons() == {"deals": "the token lacks the scope(s) crm.objects.deals.read"}
