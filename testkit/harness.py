"""Runs the sandbox and the real `source-hubspot` command for the integration tests, the demo and the benchmark."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import requests

from source_hubspot.objects import STANDARD_OBJECTS

REPO = Path(__file__).resolve().parents[1]
PRIVATE_APP_TOKEN = "sandbox-private-app-token"
CRM_STREAMS = ["contacts", "companies", "deals", "tickets"]
ENGAGEMENT_TYPES = ["calls", "emails", "meetings", "notes", "tasks"]
ENGAGEMENT_STREAMS = [f"engagements_{kind}" for kind in ENGAGEMENT_TYPES]
UNIFIED_ENGAGEMENTS = "engagements"
ALL_STREAMS = CRM_STREAMS + ENGAGEMENT_STREAMS + [UNIFIED_ENGAGEMENTS]
# HubSpot's other standard objects (source_hubspot/objects.py): stream -> object type. The sandbox generates none of
# them unless asked (sandbox/standard_objects.py, DEMO_COUNTS).
STANDARD_STREAM_OBJECT = {stream: name for name, _, _, stream, *_ in STANDARD_OBJECTS}
STANDARD_STREAMS = list(STANDARD_STREAM_OBJECT)
STREAM_OBJECT = {**{name: name for name in CRM_STREAMS}, **{f"engagements_{k}": k for k in ENGAGEMENT_TYPES},
                 **STANDARD_STREAM_OBJECT}
# The object types each stream reads.
STREAM_OBJECTS = {**{name: [obj] for name, obj in STREAM_OBJECT.items()}, UNIFIED_ENGAGEMENTS: ENGAGEMENT_TYPES}
# The analyst tables (source_hubspot/analyst.py): owners, pipeline stages, association links, property history, merges.
ANALYST_STREAMS = ["owners", "deal_pipelines", "ticket_pipelines", "association_links", "contacts_property_history",
                   "companies_property_history", "deals_property_history", "tickets_property_history", "merges",
                   "deal_splits"]


class Sandbox:
    """The fake HubSpot server in a subprocess on 127.0.0.1 (a free port)."""

    def __init__(self, *args: str) -> None:
        self.args = list(args)
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""

    def __enter__(self) -> "Sandbox":
        self._port_dir = Path(tempfile.mkdtemp(prefix="sandbox-"))
        port_file = self._port_dir / "port"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", "0", "--port-file", str(port_file), *self.args],
            cwd=str(REPO),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("sandbox listening on "):
            raise RuntimeError(f"sandbox did not start: {line}{self.proc.stderr.read()}")
        self.url = line.strip().rsplit(" ", 1)[-1]
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self._port_dir, ignore_errors=True)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox/{path}", timeout=120, **kwargs)
        response.raise_for_status()
        return response.json()

    def ids(self, object_type: str, archived: str = "exclude") -> List[str]:
        return self.control("GET", f"objects/{object_type}?archived={archived}&fields=ids")["ids"]

    def records(self, object_type: str, archived: str = "exclude") -> Dict[str, Any]:
        return self.control("GET", f"objects/{object_type}?archived={archived}")["records"]

    def mutate(self, **body: Any) -> Dict[str, Any]:
        return self.control("POST", "mutate", json=body)

    def configure(self, **body: Any) -> Dict[str, Any]:
        return self.control("POST", "config", json=body)

    def stats(self) -> Dict[str, Any]:
        return self.control("GET", "stats")

    def reset_stats(self) -> None:
        self.control("POST", "stats/reset")

    def private_app_config(self, **extra: Any) -> Dict[str, Any]:
        config = {
            "credentials": {"credentials_title": "Private App Credentials", "access_token": PRIVATE_APP_TOKEN},
            "api_base_url": self.url,
            "retry_backoff_factor": 0.05,
            # The sandbox has no general rate limit unless a test sets one; tests that do set this too.
            "calls_per_10_seconds": 1000,
        }
        config.update(extra)
        return config

    def oauth_config(self, **extra: Any) -> Dict[str, Any]:
        config = {
            "credentials": {
                "credentials_title": "OAuth Credentials",
                "client_id": "sandbox-client-id",
                "client_secret": "sandbox-client-secret",
                "refresh_token": "sandbox-refresh-token",
            },
            "api_base_url": self.url,
            "retry_backoff_factor": 0.05,
            "calls_per_10_seconds": 1000,
        }
        config.update(extra)
        return config


def configured_catalog(streams: Iterable[str], incremental: bool = False) -> Dict[str, Any]:
    mode = "incremental" if incremental else "full_refresh"
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True,
                    "default_cursor_field": ["updatedAt"],
                    "source_defined_primary_key": [["id"]],
                },
                "sync_mode": mode,
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                "cursor_field": ["updatedAt"],
                "primary_key": [["id"]],
            }
            for name in streams
        ]
    }


@dataclass
class Run:
    returncode: int
    messages: List[Dict[str, Any]]
    stdout: str
    stderr: str
    seconds: float
    records: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message.get("type") == "RECORD":
                self.records.setdefault(message["record"]["stream"], []).append(message["record"]["data"])

    def of_type(self, kind: str) -> List[Dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    @property
    def errors(self) -> List[Dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]

    @property
    def states(self) -> List[Dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def final_state(self) -> List[Dict[str, Any]]:
        """The last STATE message per stream, as a state file for the next run."""
        last: Dict[str, Dict[str, Any]] = {}
        for state in self.states:
            if state.get("type") == "STREAM":
                last[state["stream"]["stream_descriptor"]["name"]] = state
        return list(last.values())


def source_command() -> List[str]:
    executable = Path(sys.executable).with_name("source-hubspot")
    return [str(executable)] if executable.exists() else [sys.executable, "-m", "source_hubspot.run"]


def stdout_messages(text: str) -> List[Dict[str, Any]]:
    """The Airbyte messages a run printed straight to stdout (CONTROL messages are printed, not yielded)."""
    messages = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                messages.append(json.loads(line))
            except ValueError:
                continue
    return messages


def run_connector(
    command: str,
    config: Optional[Dict[str, Any]] = None,
    catalog: Optional[Dict[str, Any]] = None,
    state: Optional[List[Dict[str, Any]]] = None,
    timeout: float = 600,
    extra_env: Optional[Dict[str, str]] = None,
    keep_fields: Optional[Iterable[str]] = None,
    keep_full: int = 0,
) -> Run:
    """Runs one command. With keep_fields, records keep only those keys (except the first keep_full of each
    stream), so a test over a large portal does not hold gigabytes of parsed records. Its files (a wide read's
    output is up to a gigabyte) are removed afterwards; every stdout line that looks like JSON must be JSON."""
    with tempfile.TemporaryDirectory(prefix="source-hubspot-") as work:
        workdir = Path(work)
        args = [*source_command(), command]
        for flag, payload in (("--config", config), ("--catalog", catalog), ("--state", state)):
            if payload is not None:
                path = workdir / f"{flag[2:]}.json"
                path.write_text(json.dumps(payload))
                args += [flag, str(path)]
        started = time.monotonic()
        env = dict(os.environ, **(extra_env or {}))
        out_path, err_path = workdir / "stdout", workdir / "stderr"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            proc = subprocess.run(args, stdout=out, stderr=err, text=True, timeout=timeout, env=env, cwd=str(REPO))
        seconds = time.monotonic() - started
        keep = set(keep_fields) if keep_fields is not None else None
        kept_full: Dict[str, int] = {}
        messages = []
        with open(out_path) as out:
            for number, line in enumerate(out, 1):
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    message = json.loads(line)
                except ValueError as error:  # a torn or mixed line: output a destination could not read
                    raise AssertionError(f"stdout line {number} is not one JSON message ({error}): {line[:300]}") from None
                if keep is not None and message.get("type") == "RECORD":
                    stream = message["record"]["stream"]
                    if kept_full.get(stream, 0) < keep_full:
                        kept_full[stream] = kept_full.get(stream, 0) + 1
                    else:
                        data = message["record"]["data"]
                        message["record"]["data"] = {k: v for k, v in data.items() if k in keep}
                messages.append(message)
        stdout = "" if keep is not None else out_path.read_text()
        return Run(proc.returncode, messages, stdout, err_path.read_text(), seconds)
