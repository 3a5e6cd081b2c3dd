"""The connector's process-wide state, forgotten in one place.

One connector run is one process, so the connector keeps some things for the life of the process: data read once
per run, tokens, rate budgets, what the run refused or skipped, the counts of the sync report. Tests that run the
connector in-process stand for one process each and call reset_run_state() before and after.

unit_tests/test_run_state.py fails when a class of source_hubspot gains a class-level registry that this reset
does not empty.
"""

from __future__ import annotations

from typing import Iterator, Type


def reset_run_state() -> None:
    """Forgets everything one connector process has kept, as if the next test were a new process."""
    # Imported here, not at the top: importing testkit (the sandbox harness, the benchmarks) must not load the
    # connector, and these lines are the one place to change when a registry moves to another module.
    from source_hubspot import run
    from source_hubspot.budget import forget_budgets
    from source_hubspot.components.analyst_scopes import Unreadable
    from source_hubspot.components.analyst_tables import MergesExtractor
    from source_hubspot.components.associations import DeniedAssociations
    from source_hubspot.components.auth import DailyLimit, HubspotOAuthAuthenticator
    from source_hubspot.components.memos import ProcessMemo
    from source_hubspot.progress import ApiCalls, Completeness, SkippedStreams, UncastValues

    # Data read once per run: property definitions (and their name lists), archived records, the earliest
    # modification, association labels; every ProcessMemo, present and future.
    for memo in _subclasses(ProcessMemo):
        memo.clear()
    HubspotOAuthAuthenticator.forget_tokens()  # access tokens and rotated refresh tokens
    forget_budgets()  # the general and search rate budgets per HubSpot host
    DailyLimit.reset()  # a spent daily limit stops every later request
    DeniedAssociations.clear()  # association types the token may not read; list ids trusted or not
    Unreadable.clear()  # object types and link pairs the analyst tables skip after a 403
    MergesExtractor.forget_warning()  # the one warning per run about an unreadable merge time
    ApiCalls.clear()  # calls per stream and the last rate-limit headers
    Completeness.clear()  # the completeness check's findings per stream
    SkippedStreams.clear()  # streams left out of the read, with the reason
    UncastValues.clear()  # values that could not be cast, per stream and property
    run.OUTPUT_FAILED.clear()  # a failed write to stdout ends the run


def _subclasses(cls: Type) -> Iterator[Type]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)
