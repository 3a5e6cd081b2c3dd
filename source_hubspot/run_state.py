"""What one run of the connector learns and keeps, forgotten in one place when a run begins.

A run (spec, check, discover or read) shares a few things across its streams, partitions and threads: data read
once (property definitions, archived records, an object's earliest modification, association labels: the
ProcessMemo subclasses), what HubSpot refused (association types, analyst reads, a spent daily limit), and the sync
report's counts. They live on their classes; `begin_run` empties them all, and `SourceHubspot` calls it when it is
built, so a Python pipeline that runs the connector twice in one process reads fresh property definitions and
deletes the second time.

Kept across runs on purpose: OAuth access tokens (and a refresh token HubSpot rotated), and the rate budgets per
HubSpot host (another run in the same process spends the same account's calls).
"""

from __future__ import annotations

from typing import Iterator, Type


def begin_run() -> None:
    from source_hubspot import run
    from source_hubspot.components.analyst_scopes import Unreadable
    from source_hubspot.components.analyst_tables import MergesExtractor
    from source_hubspot.components.associations import DeniedAssociations
    from source_hubspot.components.auth import DailyLimit
    from source_hubspot.components.memos import ProcessMemo
    from source_hubspot.progress import ApiCalls, Completeness, SkippedStreams, UncastValues

    for memo in _subclasses(ProcessMemo):  # property definitions, archived records, earliest modification, labels
        memo.clear()
    DailyLimit.reset()  # a spent daily limit stops every later request of the run
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
