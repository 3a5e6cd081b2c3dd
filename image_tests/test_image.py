"""The built image against the sandbox: spec, check (good and bad token), discover and read, compared with the
same commands run by the installed package. Run by `make image-test` (scripts/image_test.sh), which builds the
image and sets SOURCE_HUBSPOT_IMAGE; `make test` does not collect this directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from testkit.harness import (
    ALL_STREAMS,
    CRM_STREAMS,
    STREAM_OBJECTS,
    Run,
    Sandbox,
    configured_catalog,
    run_connector,
    stdout_messages,
)

IMAGE = os.environ.get("SOURCE_HUBSPOT_IMAGE", "")
PODMAN = os.environ.get("PODMAN", "podman")

pytestmark = [
    pytest.mark.skipif(not IMAGE, reason="SOURCE_HUBSPOT_IMAGE is not set: run `make image-test`"),
    pytest.mark.timeout(600),
]

# Small enough that a read takes seconds; every stream has records.
SANDBOX_ARGS = [
    "--contacts", "200", "--companies", "50", "--deals", "50", "--tickets", "50",
    "--calls", "20", "--emails", "20", "--meetings", "20", "--notes", "20", "--tasks", "20",
    "--custom-properties", "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def sandbox():
    """The sandbox the container reads."""
    with Sandbox(*SANDBOX_ARGS) as box:
        yield box


@pytest.fixture(scope="module")
def twin_sandbox():
    """A second sandbox with the same arguments, hence the same data, for the installed package's runs, so both
    runs go at once without sharing the sandbox's search rate limit."""
    with Sandbox(*SANDBOX_ARGS) as box:
        yield box


# One window covers all of the sandbox's history, so each stream needs few (rate-paced) searches.
WINDOW = {"window_days": 3650}


@pytest.fixture(scope="module")
def good_config(sandbox) -> dict[str, Any]:
    return sandbox.private_app_config(**WINDOW)


@pytest.fixture(scope="module")
def twin_config(twin_sandbox) -> dict[str, Any]:
    return twin_sandbox.private_app_config(**WINDOW)


def at_once(first, second):
    """Runs two callables in parallel; returns both results."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        return a.result(), b.result()


@pytest.fixture(scope="module")
def secrets_dir():
    """A directory the container's non-root user can read, mounted read-only at /secrets."""
    path = Path(tempfile.mkdtemp(prefix="source-hubspot-image-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write(directory: Path, name: str, payload: Any) -> str:
    target = directory / name
    target.write_text(json.dumps(payload))
    target.chmod(0o644)
    return f"/secrets/{name}"


def podman_run(args: list[str], mount: Path | None = None, timeout: float = 300) -> Run:
    command = [PODMAN, "run", "--rm", "--network", "host"]
    if mount is not None:
        command += ["-v", f"{mount}:/secrets:ro"]
    command += [IMAGE, *args]
    started = time.monotonic()
    proc = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    return Run(proc.returncode, stdout_messages(proc.stdout), proc.stdout, proc.stderr, seconds)


def explain(run: Run) -> str:
    return f"exit {run.returncode}\nstderr tail:\n{run.stderr[-3000:]}\nstdout tail:\n{run.stdout[-3000:]}"


def statuses(run: Run) -> list[dict[str, Any]]:
    return [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]


def test_image_metadata():
    proc = subprocess.run(
        [PODMAN, "image", "inspect", IMAGE, "--format", "{{json .Config}}"], check=False, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)
    name, tag = IMAGE.rsplit("/", 1)[-1].split(":")
    assert config["Labels"]["io.airbyte.name"] == name
    assert config["Labels"]["io.airbyte.version"] == tag
    assert config["Entrypoint"] == ["source-hubspot"]
    assert "AIRBYTE_ENTRYPOINT=source-hubspot" in config["Env"]
    assert config.get("User") not in (None, "", "root", "0")


def test_runs_as_non_root():
    proc = subprocess.run(
        [PODMAN, "run", "--rm", "--entrypoint", "id", IMAGE, "-u"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() not in ("", "0")


def test_spec_matches_installed_package():
    container, local = at_once(lambda: podman_run(["spec"]), lambda: run_connector("spec"))
    assert container.returncode == 0, explain(container)
    specs = container.of_type("SPEC")
    assert len(specs) == 1, explain(container)
    assert local.returncode == 0, local.stderr
    assert specs[0]["spec"] == local.of_type("SPEC")[0]["spec"]
    assert specs[0]["spec"]["connectionSpecification"]["required"] == ["credentials"]


def test_check_with_a_good_token(good_config, secrets_dir):
    config = write(secrets_dir, "config.json", good_config)
    container = podman_run(["check", "--config", config], mount=secrets_dir)
    assert container.returncode == 0, explain(container)
    assert statuses(container) == [{"status": "SUCCEEDED"}], explain(container)


def test_check_with_a_bad_token(sandbox, twin_sandbox, secrets_dir):
    wrong = {"credentials": {"credentials_title": "Private App Credentials", "access_token": "not-the-sandbox-token"}}
    config = write(secrets_dir, "bad_config.json", sandbox.private_app_config(**wrong))
    container, local = at_once(
        lambda: podman_run(["check", "--config", config], mount=secrets_dir),
        lambda: run_connector("check", twin_sandbox.private_app_config(**wrong)),
    )
    assert container.returncode == 0, explain(container)
    found = statuses(container)
    assert len(found) == 1 and found[0]["status"] == "FAILED", explain(container)
    assert "INVALID_AUTHENTICATION" in found[0]["message"]
    # The same answer as the installed package gives.
    assert statuses(local) == found
    assert "not-the-sandbox-token" not in container.stdout + container.stderr


def test_discover_matches_installed_package(good_config, twin_config, secrets_dir):
    config = write(secrets_dir, "config.json", good_config)
    container, local = at_once(
        lambda: podman_run(["discover", "--config", config], mount=secrets_dir),
        lambda: run_connector("discover", twin_config),
    )
    assert container.returncode == 0, explain(container)
    catalogs = container.of_type("CATALOG")
    assert len(catalogs) == 1, explain(container)
    assert local.returncode == 0, local.stderr
    assert catalogs[0]["catalog"] == local.of_type("CATALOG")[0]["catalog"]
    assert set(ALL_STREAMS) <= {s["name"] for s in catalogs[0]["catalog"]["streams"]}


def canonical(records: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    return {stream: sorted(json.dumps(r, sort_keys=True) for r in rows) for stream, rows in records.items()}


def test_read_matches_installed_package(sandbox, good_config, twin_config, secrets_dir):
    catalog = configured_catalog(ALL_STREAMS)
    config = write(secrets_dir, "config.json", good_config)
    catalog_path = write(secrets_dir, "catalog.json", catalog)
    container, local = at_once(
        lambda: podman_run(["read", "--config", config, "--catalog", catalog_path], mount=secrets_dir),
        lambda: run_connector("read", twin_config, catalog),
    )
    assert container.returncode == 0, explain(container)
    assert container.errors == [], explain(container)
    assert local.returncode == 0, local.stderr
    assert local.errors == []

    # Every stream has records, and each CRM stream has exactly the sandbox's live objects.
    assert set(container.records) == set(ALL_STREAMS)
    for stream in CRM_STREAMS:
        (object_type,) = STREAM_OBJECTS[stream]
        assert sorted(str(r["id"]) for r in container.records[stream]) == sorted(map(str, sandbox.ids(object_type)))
    # No record twice.
    for stream, rows in container.records.items():
        duplicates = [key for key, n in Counter(str(r["id"]) for r in rows).items() if n > 1]
        assert duplicates == [], f"{stream}: {duplicates[:5]}"

    # The container emits exactly the data the installed package emits, field for field.
    assert {s: len(r) for s, r in container.records.items()} == {s: len(r) for s, r in local.records.items()}
    assert canonical(container.records) == canonical(local.records)
    # Both end every stream with a STATE message.
    streams_with_state = {
        s["stream"]["stream_descriptor"]["name"] for s in container.states if s.get("type") == "STREAM"
    }
    assert streams_with_state == set(ALL_STREAMS)
    print(
        f"\nread: {sum(len(r) for r in container.records.values())} records in {container.seconds:.1f} s "
        f"(container) vs {local.seconds:.1f} s (installed package)"
    )
