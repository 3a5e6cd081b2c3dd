"""Airbyte's standard connector tests (airbyte_cdk.test.standard_tests) against the local HubSpot sandbox.

The scenarios are the configs listed in acceptance-test-config.yml: both auth modes (private-app token, OAuth
refreshed at the sandbox's token endpoint) and two sets of wrong credentials. One sandbox with a few hundred
records serves the whole class; its port is only known once it runs, so the configs are written into a temporary
directory when the class starts, and the `$HUBSPOT_SANDBOX_CONFIGS/` paths of the acceptance config are pointed
there while the scenarios are collected.

The suite runs the connector in-process (SourceHubspot behind the CDK's AirbyteEntrypoint), as Airbyte's own
standard tests do; the connector's process-wide state (testkit.reset_run_state) is forgotten before and after each
test, since each test stands for a separate connector process.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from boltons.typeutils import classproperty

with warnings.catch_warnings():
    # The CDK marks its Docker image tests `image_tests`, a mark this project does not register; those tests are
    # left out below, so the unknown-mark warnings their import raises say nothing about this connector.
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

# Parametrizes every test that takes `scenario` with the scenarios of get_scenarios(); imported here rather than
# registered as a plugin, so it applies to this module only.
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: E402, F401

from source_hubspot.source import SourceHubspot
from testkit import reset_run_state
from testkit.harness import REPO, STANDARD_STREAM_OBJECT, Sandbox

START_DATE = "2021-06-01T00:00:00Z"  # the sandbox's data starts then
# One search window from START_DATE to now: the connector paces search to HubSpot's 5 requests per second, and a
# read of every stream at the default 365-day windows would spend most of its time waiting for that budget. The
# windowing itself is covered by the other integration tests.
SCENARIO_DEFAULTS: Dict[str, Any] = {"start_date": START_DATE, "window_days": 3650}

# A few hundred records in all: every stream has some, so the basic read can require records from each.
SANDBOX_ARGS = (
    "--seed", "11",
    "--contacts", "80", "--companies", "30", "--deals", "30", "--tickets", "20",
    "--calls", "10", "--emails", "10", "--meetings", "10", "--notes", "10", "--tasks", "10",
    "--custom-properties", "5",
    # HubSpot's other standard objects: a few records each, so every discovered stream returns some
    *(arg for name in STANDARD_STREAM_OBJECT.values() for arg in (f"--{name}", "4")),
)  # fmt: skip

CONFIG_DIR_PLACEHOLDER = "$HUBSPOT_SANDBOX_CONFIGS"
# Created when the class starts and removed when it ends; named per process so parallel sessions do not meet.
CONFIG_DIR = Path(tempfile.gettempdir()) / f"source-hubspot-standard-tests-{os.getpid()}"

SANDBOX_CONFIGS: Dict[str, Callable[[Sandbox], Dict[str, Any]]] = {
    "private_app.json": lambda sandbox: sandbox.private_app_config(**SCENARIO_DEFAULTS),
    "oauth.json": lambda sandbox: sandbox.oauth_config(**SCENARIO_DEFAULTS),
    "invalid_token.json": lambda sandbox: sandbox.private_app_config(
        **SCENARIO_DEFAULTS,
        credentials={"credentials_title": "Private App Credentials", "access_token": "not-the-sandbox-token"},
    ),
    "invalid_refresh_token.json": lambda sandbox: _with_credentials(
        sandbox.oauth_config(**SCENARIO_DEFAULTS), refresh_token="not-the-sandbox-refresh-token"
    ),
}


def _with_credentials(config: Dict[str, Any], **credentials: str) -> Dict[str, Any]:
    config["credentials"] = {**config["credentials"], **credentials}
    return config


def _sandbox_config_name(scenario: ConnectorTestScenario) -> Optional[str]:
    """The SANDBOX_CONFIGS file a scenario's config_path names, or None for a path relative to the repository."""
    path = str(scenario.config_path or "")
    prefix = CONFIG_DIR_PLACEHOLDER + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


class TestHubspotStandardSuite(SourceTestSuiteBase):
    """spec, check, discover, basic read, bad catalog and config-matches-spec for every sandbox scenario."""

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return REPO

    @classproperty
    def connector_name(cls) -> str:
        # The repository directory may have any name (the CDK would take it); the connector's name is fixed.
        return "source-hubspot"

    @classmethod
    def create_connector(cls, scenario: Optional[ConnectorTestScenario]) -> SourceHubspot:
        """The packaged manifest (not a manifest at the repository root), with the scenario's config."""
        config = scenario.get_config_dict(connector_root=REPO, empty_if_missing=True) if scenario else {}
        return SourceHubspot(config=config or None)

    @classmethod
    def get_scenarios(cls) -> List[ConnectorTestScenario]:
        """The acceptance config's scenarios, with `$HUBSPOT_SANDBOX_CONFIGS/` paths pointed at CONFIG_DIR."""
        scenarios = []
        for scenario in super().get_scenarios():
            name = _sandbox_config_name(scenario)
            if name is not None:
                if name not in SANDBOX_CONFIGS:
                    raise ValueError(
                        f"acceptance-test-config.yml names {scenario.config_path}, but SANDBOX_CONFIGS in "
                        f"{Path(__file__).name} has no config called {name!r} (it has {sorted(SANDBOX_CONFIGS)})."
                    )
                scenario = scenario.model_copy(update={"config_path": CONFIG_DIR / name})
            scenarios.append(scenario)
        return scenarios

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def sandbox(cls) -> Iterator[Sandbox]:
        """One sandbox for the class; every scenario config is written for its URL before the first test."""
        with Sandbox(*SANDBOX_ARGS) as sandbox:
            CONFIG_DIR.mkdir(parents=True, exist_ok=True)
            for name, build in SANDBOX_CONFIGS.items():
                (CONFIG_DIR / name).write_text(json.dumps(build(sandbox), indent=2))
            try:
                yield sandbox
            finally:
                shutil.rmtree(CONFIG_DIR, ignore_errors=True)

    @pytest.fixture(autouse=True)
    def fresh_process(self) -> Iterator[None]:
        """Each test is one connector process: nothing read or refreshed by an earlier test (or by another test file
        in this pytest worker) may carry over; an OAuth token cached by the valid OAuth scenario would otherwise let
        the bad refresh token pass."""
        reset_run_state()
        yield
        reset_run_state()

    # The Docker image tests of the base class are left out. They build the image with Docker (which pulls its base
    # image from Docker Hub), and the spec backward-compatibility test fetches the published spec from Airbyte's
    # connector registry; neither can run without network access beyond 127.0.0.1. `make image-test` tests the image.
    test_docker_image_build_and_spec = None
    test_docker_image_spec_backward_compatibility = None
    test_docker_image_build_and_check = None
    test_docker_image_build_and_config_matches_spec = None
    test_docker_image_build_and_discover = None
    test_docker_image_build_and_read = None
