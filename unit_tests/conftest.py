"""Every unit test is one connector process that never really sleeps. The builders, matchers and configs the tests
use are in testkit/ (mock_server.py, connector.py)."""

from __future__ import annotations

import time

import pytest

from testkit import reset_run_state


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    """No real sleeping in unit tests: retries back off for 0 s."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


@pytest.fixture(autouse=True)
def _fresh_process():
    """Nothing kept by an earlier test's connector run (memos, tokens, budgets, counts) carries over."""
    reset_run_state()
    yield
    reset_run_state()
