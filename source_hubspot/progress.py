"""Live progress and the sync report of a `read`, printed as Airbyte LOG lines (level INFO).

Two sides feed it. The HTTP side (`ApiCalls`) counts every answer HubSpot gives, per stream, from the error
handler, which the CDK consults once per attempt on every worker thread. A call belongs to the stream its requester
is named after; the manifest's helper requesters (properties, association reads, archived listings) have no stream
name of their own, and their calls belong to the stream whose page the calling thread is reading, because all of a
partition's calls run on the thread that reads the partition (`ApiCalls.belong_to`). The printing side (`SyncProgress`)
counts the RECORD and STREAM_STATUS lines the main loop of `run.py` prints, and a timer thread logs a progress line
per active stream every few seconds, also while every worker is waiting on a rate limit and no line is printed.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Optional, Tuple

import orjson
import requests
from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, AirbyteMessageSerializer, Level, Type
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_hubspot.budget import GENERAL_INTERVAL_SECONDS
from source_hubspot.paths import family_of
from source_hubspot.run_state import RunRegistry

INTERVAL_VARIABLE = "SOURCE_HUBSPOT_PROGRESS_SECONDS"
DEFAULT_INTERVAL_SECONDS = 5.0
# Calls made by no stream's reading thread (none are expected during a read): counted in the total only.
UNATTRIBUTED = ""

_TRACE = '{"type":"TRACE"'
_ATTEMPTED = "_hubspot_attempted"


def interval_seconds() -> float:
    """Seconds between progress lines: SOURCE_HUBSPOT_PROGRESS_SECONDS, 5 by default; 0 turns them off."""
    text = os.environ.get(INTERVAL_VARIABLE, "")
    try:
        return max(0.0, float(text)) if text.strip() else DEFAULT_INTERVAL_SECONDS
    except ValueError:
        return DEFAULT_INTERVAL_SECONDS


# --------------------------------------------------------------------------------------------------------------
# The HTTP side (worker threads)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CallCounts:
    calls: int = 0
    pages: int = 0
    retries: int = 0
    rate_limited: int = 0

    def add(self, other: "CallCounts") -> None:
        self.calls += other.calls
        self.pages += other.pages
        self.retries += other.retries
        self.rate_limited += other.rate_limited


class ApiCalls(RunRegistry):
    """HubSpot's answers of this process per stream, and the last rate-limit headers seen.

    An answer is a response or a failed attempt (reset, timeout); a retry is every attempt of a request after its
    first; a page is a 2xx answer to a search or an object listing. Each answer costs one dict lookup and a few
    increments under a lock.
    """

    _by_stream: ClassVar[Dict[str, CallCounts]] = {}
    _rate_limit: ClassVar[Optional[Tuple[int, int, int]]] = None  # remaining, max, interval in ms
    _fresh = {"_rate_limit": None}
    _thread: ClassVar[threading.local] = threading.local()

    @classmethod
    def belong_to(cls, stream: str) -> None:
        """The calls this thread makes from now on are `stream`'s."""
        cls._thread.stream = stream

    @classmethod
    def count(cls, answer: Any, stream: Optional[str] = None) -> None:
        """Counts one answer for `stream`, which then owns this thread's next calls; else for this thread's stream."""
        if stream:
            cls._thread.stream = stream
        else:
            stream = getattr(cls._thread, "stream", UNATTRIBUTED)
        if isinstance(answer, requests.Response):
            request, status = answer.request, answer.status_code
        else:
            request, status = getattr(answer, "request", None), 0
        retry = False
        if request is not None:
            retry = getattr(request, _ATTEMPTED, False)
            if not retry:
                try:
                    setattr(request, _ATTEMPTED, True)
                except AttributeError:
                    pass
        page = 200 <= status < 300 and request is not None and _is_page(request)
        limits = _rate_limit_headers(answer) if status else None
        with cls._lock:
            counts = cls._by_stream.get(stream)
            if counts is None:
                counts = cls._by_stream[stream] = CallCounts()
            counts.calls += 1
            counts.pages += page
            counts.retries += retry
            counts.rate_limited += status == 429
            if limits is not None:
                cls._rate_limit = limits

    @classmethod
    def snapshot(cls) -> Dict[str, CallCounts]:
        with cls._lock:
            return {name: CallCounts(c.calls, c.pages, c.retries, c.rate_limited) for name, c in cls._by_stream.items()}

    @classmethod
    def rate_limit(cls) -> Optional[Tuple[int, int, int]]:
        return cls._rate_limit

    @classmethod
    def clear(cls) -> None:
        super().clear()
        cls._thread.stream = UNATTRIBUTED


def _is_page(request: Any) -> bool:
    """A search page (POST {objects}/{type}/search) or a listing page (GET {objects}/{type}?archived=true), at
    either form of the objects path (paths.py)."""
    family = family_of((getattr(request, "path_url", "") or "").split("?", 1)[0])
    if family is None or family[0] != "objects":
        return False
    tail = family[2]
    if request.method == "POST":
        return tail.count("/") == 1 and tail.endswith("/search")
    return request.method == "GET" and "/" not in tail


def _rate_limit_headers(response: requests.Response) -> Optional[Tuple[int, int, int]]:
    headers = response.headers
    remaining = headers.get("X-HubSpot-RateLimit-Remaining")
    if remaining is None:
        return None
    try:
        return (
            int(remaining),
            int(headers.get("X-HubSpot-RateLimit-Max") or 0),
            int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds") or GENERAL_INTERVAL_SECONDS * 1000),
        )
    except ValueError:
        return None


class UncastValues(RunRegistry):
    """Property values of this run that could not be cast to their HubSpot type (emitted as null), per stream and
    property: the caster logs the first of each pair and the sync report gives the count per stream."""

    _counts: ClassVar[Dict[Tuple[str, str], int]] = {}

    @classmethod
    def add(cls, stream: str, prop: str, count: int = 1) -> bool:
        """Counts `count` values; True the first time this (stream, property) pair is seen in the run."""
        with cls._lock:
            before = cls._counts.get((stream, prop))
            cls._counts[(stream, prop)] = (before or 0) + count
            return before is None

    @classmethod
    def by_stream(cls) -> Dict[str, int]:
        with cls._lock:
            totals: Dict[str, int] = {}
            for (stream, _), count in cls._counts.items():
                totals[stream] = totals.get(stream, 0) + count
            return totals


class Completeness(RunRegistry):
    """Per stream, what the completeness check found: the records emitted in the checked part of each window and
    HubSpot's own count of them (source_hubspot/completeness.py), or why a window could not be checked."""

    _checked: ClassVar[Dict[str, Tuple[int, int, int]]] = {}  # stream -> (windows, emitted, counted)
    _unchecked: ClassVar[Dict[str, str]] = {}  # stream -> why a window was not checked (the first reason)

    @classmethod
    def checked(cls, stream: str, emitted: int, counted: int) -> None:
        with cls._lock:
            windows, total_emitted, total_counted = cls._checked.get(stream, (0, 0, 0))
            cls._checked[stream] = (windows + 1, total_emitted + emitted, total_counted + counted)

    @classmethod
    def unchecked(cls, stream: str, reason: str) -> None:
        with cls._lock:
            cls._unchecked.setdefault(stream, reason)

    @classmethod
    def text(cls, stream: str) -> Optional[str]:
        """The sync report's words for the stream, or None where it has no HubSpot count (the analyst tables)."""
        with cls._lock:
            checked, reason = cls._checked.get(stream), cls._unchecked.get(stream)
        if checked is not None:
            windows, emitted, counted = checked
            text = f"verified: {emitted:,} emitted, HubSpot counts {counted:,}"
            if windows > 1:
                text += f" ({windows:,} windows)"
            return text
        return f"not verified ({reason})" if reason else None


class SkippedStreams(RunRegistry):
    """Configured streams the source leaves out of this read, with the reason (e.g. the scope the token lacks)."""

    _reasons: ClassVar[Dict[str, str]] = {}

    @classmethod
    def skip(cls, stream: str, reason: str) -> None:
        with cls._lock:
            cls._reasons[stream] = reason

    @classmethod
    def reasons(cls) -> Dict[str, str]:
        with cls._lock:
            return dict(cls._reasons)


# --------------------------------------------------------------------------------------------------------------
# The printing side (run.py's main loop and a timer thread)
# --------------------------------------------------------------------------------------------------------------

COMPLETED, FAILED, SKIPPED = "completed", "failed", "skipped"


class StreamProgress:
    """What the main loop printed for one stream. Written by the main thread only; the timer thread reads it."""

    __slots__ = ("name", "records", "archived", "started", "ended", "outcome", "reason", "shown_records", "shown_at")

    def __init__(self, name: str) -> None:
        self.name = name
        self.records = 0
        self.archived = 0
        self.started: Optional[float] = None
        self.ended: Optional[float] = None
        self.outcome: Optional[str] = None
        self.reason = ""
        self.shown_records = 0
        self.shown_at: Optional[float] = None


class SyncProgress:
    """Counts what a `read` prints, logs progress every `interval` seconds and the sync report at the end.

    `write` receives a batch of complete lines and must print them under the lock of the main loop's printing, so
    a progress line never splits another line. Use as a context manager around the loop that prints the messages;
    before printing, call `observe_record` with each record's stream (and whether it is archived) and `observe`
    with every other line; leaving the context logs the report.
    """

    def __init__(
        self,
        write: Callable[[List[str]], None],
        streams: Iterable[str] = (),
        interval: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._interval = interval_seconds() if interval is None else interval
        self._clock = clock
        self._began = clock()
        self._lock = threading.Lock()
        self._streams: Dict[str, StreamProgress] = {}
        for name in streams:
            self._stream(name)
        self._sync_errors: List[str] = []
        self._stop = threading.Event()
        self._timer: Optional[threading.Thread] = None

    # The main loop ------------------------------------------------------------------------------------------
    def __enter__(self) -> "SyncProgress":
        ApiCalls.clear()
        SkippedStreams.clear()
        UncastValues.clear()
        Completeness.clear()
        if self._interval > 0:
            self._timer = threading.Thread(target=self._tick_until_stopped, name="hubspot-progress", daemon=True)
            self._timer.start()
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], traceback: Any) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        if exc is not None:
            self._sync_errors.append(str(getattr(exc, "message", None) or exc))
        self._write(self.report_lines())

    def observe(self, line: str) -> None:
        """Takes one printed line other than a record's: stream statuses and errors."""
        if line.startswith(_TRACE):
            self._observe_trace(line)

    def observe_record(self, name: str, archived: bool) -> None:
        """Counts one record of stream `name` as it is printed."""
        stream = self._streams.get(name) or self._stream(name)
        stream.records += 1
        if archived:
            stream.archived += 1

    def _observe_trace(self, line: str) -> None:
        try:
            trace = orjson.loads(line).get("trace") or {}
        except orjson.JSONDecodeError:
            return
        if trace.get("type") == "STREAM_STATUS":
            status = trace.get("stream_status") or {}
            name = (status.get("stream_descriptor") or {}).get("name")
            if name:
                self._status(self._streams.get(name) or self._stream(name), str(status.get("status")))
        elif trace.get("type") == "ERROR":
            error = trace.get("error") or {}
            name = (error.get("stream_descriptor") or {}).get("name")
            message = str(error.get("message") or "")
            if name:
                stream = self._streams.get(name) or self._stream(name)
                stream.reason = stream.reason or message
            else:
                self._sync_errors.append(message)

    def _status(self, stream: StreamProgress, status: str) -> None:
        now = self._clock()
        if status in ("STARTED", "RUNNING") and stream.started is None:
            stream.started = stream.shown_at = now
        elif status == "COMPLETE":
            stream.outcome, stream.ended = COMPLETED, now
        elif status == "INCOMPLETE":
            stream.outcome, stream.ended = (FAILED if stream.started is not None else SKIPPED), now

    def _stream(self, name: str) -> StreamProgress:
        with self._lock:
            return self._streams.setdefault(name, StreamProgress(name))

    # The timer thread ---------------------------------------------------------------------------------------
    def _tick_until_stopped(self) -> None:
        while not self._stop.wait(self._interval):
            lines = self.progress_lines()
            if lines and not self._stop.is_set():
                self._write(lines)

    def progress_lines(self) -> List[str]:
        now = self._clock()
        calls = ApiCalls.snapshot()
        budget = _budget_text(ApiCalls.rate_limit())
        with self._lock:
            streams = list(self._streams.values())
        active = [s for s in streams if s.started is not None and s.ended is None]
        if not active:
            if any(s.started is not None for s in streams):
                return []  # every stream has ended; the report follows
            total = _total_calls(calls.values())
            return [
                log_line(
                    f"progress: preparing {len(streams)} stream{'s' if len(streams) != 1 else ''}, "
                    f"{_count(total.calls, 'API call')}, {budget}, {_count(total.retries, 'retry', 'retries')}"
                )
            ]
        lines = []
        for stream in active:
            records = stream.records
            seconds = max(now - (stream.shown_at or now), 1e-6)
            rate = (records - stream.shown_records) / seconds
            stream.shown_records, stream.shown_at = records, now
            counts = calls.get(stream.name) or CallCounts()
            lines.append(
                log_line(
                    f"progress {stream.name}: {_count(records, 'record')} ({rate:,.0f}/s), "
                    f"{_count(counts.calls, 'API call')}, {budget}, {_count(counts.retries, 'retry', 'retries')}"
                )
            )
        return lines

    # The report ---------------------------------------------------------------------------------------------
    def report_lines(self) -> List[str]:
        now = self._clock()
        calls = ApiCalls.snapshot()
        skipped = SkippedStreams.reasons()
        uncast = UncastValues.by_stream()
        with self._lock:
            streams = list(self._streams.values())
        outcomes: Dict[str, int] = {COMPLETED: 0, FAILED: 0, SKIPPED: 0}
        lines = []
        for stream in streams:
            outcome, reason = stream.outcome, stream.reason
            if stream.name in skipped and stream.started is None:
                outcome, reason = SKIPPED, skipped[stream.name]
            elif outcome is None and stream.started is not None:
                stopped = f"the sync stopped: {self._sync_errors[0]}" if self._sync_errors else "the sync stopped"
                outcome, reason = FAILED, reason or f"{_first_sentence(stopped)} before this stream finished"
            elif outcome is None:
                outcome, reason = SKIPPED, "the sync stopped before this stream started"
            elif outcome == SKIPPED and not reason:
                reason = "the source has no stream of this name; refresh the source schema"
            outcomes[outcome] += 1
            seconds = ((stream.ended or now) - stream.started) if stream.started is not None else 0.0
            status = f"{outcome} ({_first_sentence(reason)})" if reason and outcome != COMPLETED else outcome
            figures = _figures(stream.records, stream.archived, calls.get(stream.name), seconds)
            checks = [text for text in (Completeness.text(stream.name),) if text]
            if uncast.get(stream.name):
                checks.append(f"{_count(uncast[stream.name], 'value')} not castable to its type (emitted as null)")
            lines.append(log_line(f"sync report {stream.name}: {status}, {figures}" + "".join(f"; {c}" for c in checks)))
        parts = f"{outcomes[COMPLETED]} completed, {outcomes[FAILED]} failed, {outcomes[SKIPPED]} skipped"
        parts += f" of {_count(len(streams), 'stream')}"
        if self._sync_errors and not outcomes[FAILED]:  # else the failed streams' lines say why
            summary = f"failed ({_first_sentence(self._sync_errors[0])}; {parts})"
        else:
            summary = f"{'failed' if outcomes[FAILED] else 'completed'} ({parts})"
        records, archived = sum(s.records for s in streams), sum(s.archived for s in streams)
        figures = _figures(records, archived, _total_calls(calls.values()), now - self._began)
        lines.append(log_line(f"sync report total: {summary}, {figures}"))
        return lines


def _total_calls(counts: Iterable[CallCounts]) -> CallCounts:
    total = CallCounts()
    for each in counts:
        total.add(each)
    return total


def _figures(records: int, archived: int, calls: Optional[CallCounts], seconds: float) -> str:
    calls = calls or CallCounts()
    rate = records / seconds if seconds > 0 else 0.0
    return (
        f"{_count(records, 'record')} ({archived:,} archived), {_count(calls.pages, 'page')}, "
        f"{_count(calls.calls, 'API call')}, {_count(calls.retries, 'retry', 'retries')}, "
        f"{calls.rate_limited:,} rate-limited (429), {seconds:.1f} s, {rate:,.0f} records/s"
    )


def _budget_text(limits: Optional[Tuple[int, int, int]]) -> str:
    if limits is None:
        return "budget unknown"
    remaining, most, interval_ms = limits
    return f"budget {remaining:,}/{most:,} per {interval_ms / 1000:g} s"


def _count(number: int, singular: str, plural: Optional[str] = None) -> str:
    return f"{number:,} {singular if number == 1 else (plural or singular + 's')}"


def _first_sentence(text: str, limit: int = 160) -> str:
    """The first sentence of an error, at most `limit` characters, with secrets masked BEFORE it is cut: a secret
    cut in two no longer matches the mask, and its first half would be printed."""
    text = " ".join(filter_secrets(text).split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = (match.group(1) if match else text).rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 3] + "..."


def log_line(message: str) -> str:
    """One Airbyte LOG message (level INFO), serialized as the CDK serializes its own."""
    log = AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message=message))
    return orjson.dumps(AirbyteMessageSerializer.dump(log)).decode()
