"""The connector's process-wide state, forgotten in one place.

One connector run is one process, so the connector keeps some things for the life of the process: data read once
per run, tokens, rate budgets, what the run refused or skipped, the counts of the sync report. Tests that run the
connector in-process stand for one process each and call reset_run_state() before and after.

unit_tests/test_run_state.py fails when a class of source_hubspot gains a class-level registry that this reset
does not empty.
"""

from __future__ import annotations



def reset_run_state() -> None:
    """Forgets everything one connector process has kept, as if the next test were a new process: what a run keeps
    (source_hubspot/run_state.py, which a new SourceHubspot forgets too) and what the process keeps across runs."""
    # Imported here, not at the top: importing testkit (the sandbox harness, the benchmarks) must not load the
    # connector.
    from source_hubspot.budget import forget_budgets
    from source_hubspot.components.auth import HubspotOAuthAuthenticator
    from source_hubspot.run_state import begin_run

    begin_run()
    HubspotOAuthAuthenticator.forget_tokens()  # access tokens and rotated refresh tokens
    forget_budgets()  # the general and search rate budgets per HubSpot host
