"""When the read's output cannot be written (a full disk, a closed pipe), the connector says so and exits 1."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from testkit.harness import REPO, Sandbox, configured_catalog, source_command


def test_given_stdout_on_a_full_device_when_read_then_stderr_says_the_output_is_incomplete_and_the_exit_code_is_1():
    with Sandbox("--seed", "3", "--contacts", "300", "--search-rate", "0") as sandbox:
        with tempfile.TemporaryDirectory() as work:
            config, catalog = Path(work) / "config.json", Path(work) / "catalog.json"
            config.write_text(json.dumps(sandbox.private_app_config()))
            catalog.write_text(json.dumps(configured_catalog(["contacts"])))
            with open("/dev/full", "wb") as full:  # every write fails with ENOSPC
                run = subprocess.run([*source_command(), "read", "--config", str(config), "--catalog", str(catalog)],
                                     stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, cwd=str(REPO))
    said = [line for line in run.stderr.splitlines() if line.startswith("source-hubspot: ")]
    assert run.returncode == 1, run.stderr[-2000:]
    assert len(said) == 1, run.stderr[-2000:]
    for words in ("No space left on device", "output is incomplete", "run the sync again"):
        assert words in said[0], said[0]
