"""Progress lines during a read and the sync report after it, against the sandbox.

The progress test reads the connector's stdout as it is written, so it can measure the time between progress
lines; the interval is shortened to 1 s through SOURCE_HUBSPOT_PROGRESS_SECONDS (5 s by default).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

from testkit.harness import REPO, Sandbox, configured_catalog, run_connector, source_command

INTERVAL = 1.0
PROGRESS = re.compile(
    r"^progress (\w+): ([\d,]+) records? \(([\d,]+)/s\), ([\d,]+) API calls?, (budget [^,]+), ([\d,]+) retr"
)
REPORT = re.compile(
    r"^sync report (\w+): (completed|failed|skipped)(?: \((.*)\))?, ([\d,]+) records? \(([\d,]+) archived\), "
    r"([\d,]+) pages?, ([\d,]+) API calls?, ([\d,]+) retr(?:y|ies), ([\d,]+) rate-limited \(429\), ([\d.]+) s, "
    r"([\d,]+) records/s(?:; (.*))?$"
)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _read_live(config: Dict[str, Any], catalog: Dict[str, Any]) -> Tuple[int, List[Tuple[float, Dict[str, Any]]]]:
    """Runs `read` and returns its exit code and every stdout line as (seconds since start, parsed message)."""
    workdir = Path(tempfile.mkdtemp(prefix="source-hubspot-progress-"))
    config_path, catalog_path = workdir / "config.json", workdir / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(catalog))
    args = [*source_command(), "read", "--config", str(config_path), "--catalog", str(catalog_path)]
    env = {**os.environ, "SOURCE_HUBSPOT_PROGRESS_SECONDS": str(INTERVAL)}
    started = time.monotonic()
    lines: List[Tuple[float, Dict[str, Any]]] = []
    output = {"stdout": subprocess.PIPE, "stderr": subprocess.DEVNULL, "text": True}
    with subprocess.Popen(args, env=env, cwd=str(REPO), **output) as proc:
        for line in proc.stdout:
            # Every line must be one whole JSON message: a progress line written into another would break this.
            lines.append((time.monotonic() - started, json.loads(line)))
        returncode = proc.wait(timeout=120)
    return returncode, lines


def _logs(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["log"]["message"] for m in messages if m.get("type") == "LOG"]


def test_given_a_rate_limited_read_when_no_records_flow_then_progress_is_still_logged_every_interval():
    # Three general calls per 10 s. The properties call and the association reads of contacts (three types) make at
    # least four, so the read waits about 10 s for the window (the connector's own budget holds the call back), and
    # the records waiting for those association ids cannot be printed meanwhile.
    with Sandbox("--seed", "41", "--contacts", "400", "--general-rate", "3", "--archived", "0") as sandbox:
        config = sandbox.private_app_config(
            start_date="2021-06-01T00:00:00Z", window_days=3650, calls_per_10_seconds=3
        )
        returncode, lines = _read_live(config, configured_catalog(["contacts"]))

    assert returncode == 0
    progress = []
    records_seen = 0
    for at, message in lines:
        if message["type"] == "RECORD":
            records_seen += 1
        elif message["type"] == "LOG" and (match := PROGRESS.match(message["log"]["message"])):
            progress.append((at, _number(match.group(2)), records_seen, match.group(5)))
    assert records_seen == 400
    seconds = lines[-1][0] - progress[0][0]
    assert seconds >= 6, f"the read was meant to be throttled for a while: {seconds:.1f} s"
    gaps = [later[0] - earlier[0] for earlier, later in zip(progress, progress[1:])]
    assert gaps and max(gaps) <= 2 * INTERVAL, gaps
    # While the read waits, progress lines keep coming with the count unchanged and no record printed in between.
    stalled = [b for a, b in zip(progress, progress[1:]) if a[1] == b[1] and a[2] == b[2] and b[1] < 400]
    assert len(stalled) >= 3, [(round(p[0], 1), p[1]) for p in progress]
    assert any(p[3].startswith("budget ") and p[3].endswith("/3 per 10 s") for p in progress), {p[3] for p in progress}


def test_given_archived_records_a_failing_and_a_skipped_stream_when_read_then_the_report_matches_what_was_emitted():
    # No tickets scope: tickets is skipped. A URL limit of 109 characters refuses the archived listing of companies
    # only (110 characters; contacts' and deals' are 106, at v3's paths), so companies fails and the others complete.
    with Sandbox("--seed", "43", "--contacts", "250", "--companies", "40", "--deals", "60", "--tickets", "20",
                 "--archived", "3", "--max-url-length", "109",
                 "--scopes", "crm.objects.contacts.read,crm.objects.companies.read,crm.objects.deals.read") as sandbox:
        config = sandbox.private_app_config(start_date="2021-06-01T00:00:00Z", include_archived=True, api_version="v3")
        run = run_connector("read", config, configured_catalog(["contacts", "companies", "deals", "tickets"]),
                            extra_env={"SOURCE_HUBSPOT_PROGRESS_SECONDS": str(INTERVAL)})
        stats = sandbox.stats()

    assert run.returncode == 1 and run.errors, "companies failed, so the sync fails"
    report = {m.group(1): m for m in map(REPORT.match, _logs(run.messages)) if m}
    total = report.pop("total")
    assert set(report) == {"contacts", "companies", "deals", "tickets"}
    assert total.group(2, 3) == ("failed", "2 completed, 1 failed, 1 skipped of 4 streams")

    for stream in ("contacts", "deals"):
        records = run.records[stream]
        assert len(records) == len({r["id"] for r in records})
        assert report[stream].group(2) == "completed"
        assert _number(report[stream].group(4)) == len(records)
        assert _number(report[stream].group(5)) == sum(1 for r in records if r.get("archived") is True) == 3
    assert report["companies"].group(2) == "failed" and "HTTP 414" in report["companies"].group(3)
    assert _number(report["companies"].group(4)) == len(run.records.get("companies", []))
    assert report["tickets"].group(2, 3) == ("skipped", "the token lacks the scope(s) tickets")
    assert _number(report["tickets"].group(4)) == 0

    # Calls per stream equal what the sandbox saw for the stream's object type (each stream reads its own here):
    # its properties, search pages, archived listing and the association reads from it.
    by_object: Dict[str, int] = {}
    searches: Dict[str, int] = {}
    for key, count in stats["requests"].items():
        method, path = key.split(" ", 1)
        parts = path.strip("/").split("/")
        object_type = parts[3]
        by_object[object_type] = by_object.get(object_type, 0) + count
        if method == "POST" and path.endswith("/search"):
            searches[object_type] = count
    for stream in ("contacts", "companies", "deals", "tickets"):
        assert _number(report[stream].group(7)) == by_object.get(stream, 0), stream
    # Pages are the search pages and the archived listing (refused for companies).
    for stream in ("contacts", "deals"):
        assert _number(report[stream].group(6)) == searches[stream] + 1
    assert _number(report["companies"].group(6)) == searches["companies"]
    # Every call is in the total, which is the sandbox's count (a private-app token makes no OAuth token calls).
    assert _number(total.group(7)) == stats["total"]
    assert _number(total.group(4)) == sum(len(records) for records in run.records.values())
    assert _number(total.group(5)) == 6
