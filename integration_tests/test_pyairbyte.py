"""PyAirbyte runs the connector: examples/pyairbyte_read.py reads every stream from the sandbox through PyAirbyte's
`local_executable` into its default DuckDB cache, and the row counts it prints are the sandbox's record counts.

PyAirbyte lives in its own virtualenv (.venv-pyairbyte, `make pyairbyte`); when it is missing this test installs it
from PyPI once (a minute or two), and skips only if that install fails. The example runs with every PyAirbyte
directory (cache, logs, temp files, project dir, HOME) inside the test's tmp dir, with telemetry and the connector
registry lookup turned off, so it talks to nothing but the sandbox on 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Dict

import pytest

from testkit.harness import ALL_STREAMS, REPO, STREAM_OBJECTS, Sandbox, run_connector, source_command

PYAIRBYTE_VENV = REPO / ".venv-pyairbyte"
PYAIRBYTE_PYTHON = PYAIRBYTE_VENV / "bin" / "python"
PYAIRBYTE_STAMP = PYAIRBYTE_VENV / ".installed"  # written by `make pyairbyte` once the install succeeded
EXAMPLE = REPO / "examples" / "pyairbyte_read.py"

SANDBOX_ARGS = (
    "--seed", "5",
    "--contacts", "90", "--companies", "25", "--deals", "25", "--tickets", "15",
    "--calls", "8", "--emails", "8", "--meetings", "8", "--notes", "8", "--tasks", "8",
    "--custom-properties", "5",
)  # fmt: skip
START_DATE = "2021-06-01T00:00:00Z"  # the example's default; the sandbox's data starts then
# Merged over the example's defaults (sandbox token, START_DATE): one search window per stream, so the read is not
# spent waiting for the 5-per-second search budget.
EXTRA_CONFIG = {"window_days": 3650}

COUNT_LINE = re.compile(r"^(\w+)\s+(\d+)$")


@pytest.fixture(scope="module")
def pyairbyte_python() -> Path:
    """.venv-pyairbyte's Python, installed by `make pyairbyte` if needed. Test sessions running at the same time in
    this checkout take turns (a lock file in the temp dir), so only one of them installs."""
    checkout = hashlib.sha1(bytes(REPO)).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"source-hubspot-pyairbyte-{checkout}.lock"
    problem = ""
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not PYAIRBYTE_STAMP.exists():
            try:
                install = subprocess.run(
                    ["make", "pyairbyte"], cwd=str(REPO), capture_output=True, text=True, timeout=1200
                )
                if install.returncode != 0:
                    problem = (install.stdout + install.stderr).strip()[-1500:]
            except (OSError, subprocess.TimeoutExpired) as error:
                problem = str(error)
    if problem:
        pytest.skip(f"PyAirbyte could not be installed from PyPI into {PYAIRBYTE_VENV} (`make pyairbyte`): {problem}")
    return PYAIRBYTE_PYTHON


def parse_counts(stdout: str) -> Dict[str, int]:
    counts = {}
    for line in stdout.splitlines():
        match = COUNT_LINE.match(line.strip())
        if match:
            counts[match.group(1)] = int(match.group(2))
    return counts


def test_pyairbyte_example_reads_every_stream_into_duckdb_with_the_sandbox_counts(pyairbyte_python, tmp_path):
    executable = Path(source_command()[0])
    assert executable.name == "source-hubspot", f"the connector is not installed as an executable: {executable}"
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(EXTRA_CONFIG))
    temp_dir = tmp_path / "tmp"
    temp_dir.mkdir()
    env = dict(
        os.environ,
        DO_NOT_TRACK="1",
        AIRBYTE_OFFLINE_MODE="1",
        AIRBYTE_PROJECT_DIR=str(tmp_path),
        AIRBYTE_INSTALL_DIR=str(tmp_path / "install"),
        AIRBYTE_CACHE_ROOT=str(tmp_path / "cache"),
        AIRBYTE_LOGGING_ROOT=str(tmp_path / "logs"),
        AIRBYTE_TEMP_DIR=str(temp_dir),
        HOME=str(tmp_path / "home"),
        NO_LIVE_PROGRESS="1",
    )
    repo_cache_existed = (REPO / ".cache").exists()

    with Sandbox(*SANDBOX_ARGS) as sandbox:
        discover = run_connector("discover", sandbox.private_app_config(**{"start_date": START_DATE, **EXTRA_CONFIG}))
        assert discover.returncode == 0 and not discover.errors, discover.stderr[-3000:]
        discovered = [stream["name"] for stream in discover.of_type("CATALOG")[0]["catalog"]["streams"]]
        run = subprocess.run(
            [str(pyairbyte_python), str(EXAMPLE), "--url", sandbox.url, "--config", str(config_file),
             "--executable", str(executable)],
            cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr[-5000:]}"
        expected = {stream: sum(len(sandbox.ids(obj)) for obj in STREAM_OBJECTS[stream]) for stream in ALL_STREAMS}

    counts = parse_counts(run.stdout)
    total = counts.pop("total", None)
    # Every discovered stream was read and printed; the CRM and activity streams hold exactly the sandbox's records
    # (the other streams have no record count in the sandbox's control API; the standard suite reads them).
    assert sorted(counts) == sorted(discovered), f"printed:\n{run.stdout}"
    assert {stream: counts.get(stream) for stream in expected} == expected, f"printed:\n{run.stdout}"
    assert all(expected.values()), expected  # every stream has records, so a stream read as empty would show
    assert total == sum(counts.values())

    cache_file = tmp_path / "cache" / "default_cache" / "default_cache.duckdb"
    assert f"cache: {cache_file}" in run.stdout
    assert cache_file.stat().st_size > 0
    assert (REPO / ".cache").exists() == repo_cache_existed, "PyAirbyte wrote its cache into the repository"
    assert not (tmp_path / "home" / ".airbyte").exists(), "PyAirbyte set up usage telemetry"
