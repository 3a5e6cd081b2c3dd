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

import threading
import time
from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Mapping, Set


class Registry:
    """Class-level containers shared by every stream, partition and thread, under one lock per class (`_lock`).

    `clear` empties every dict, list and set the class holds and puts back the values of `_fresh` (its scalars).
    A subclass says what it keeps; the clearing is written once, here."""

    _lock: ClassVar["threading.RLock"]
    _fresh: ClassVar[Mapping[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._lock = threading.RLock()

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            for name, value in list(vars(cls).items()):
                if isinstance(value, (dict, list, set)) and not name.startswith("__") and name != "_fresh":
                    value.clear()
            for name, value in cls._fresh.items():
                setattr(cls, name, value)


_RUN_REGISTRIES: List[type] = []


class RunRegistry(Registry):
    """A Registry of what one run learns: `begin_run` clears every one of them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _RUN_REGISTRIES.append(cls)


class Once(RunRegistry):
    """Things said once per run (a warning that would otherwise repeat for every record)."""

    _said: ClassVar[Dict[str, bool]] = {}

    @classmethod
    def first(cls, key: str) -> bool:
        """True the first time this run asks with `key`."""
        with cls._lock:
            if key in cls._said:
                return False
            cls._said[key] = True
            return True


class SelectedStreams(RunRegistry):
    """The streams this run's configured catalog names (none at spec, check and discover): what association_links
    reads the optional objects' pairs for (objects.link_targets)."""

    _names: ClassVar[Set[str]] = set()

    @classmethod
    def choose(cls, names: Iterable[str]) -> None:
        with cls._lock:
            cls._names.clear()
            cls._names.update(names)

    @classmethod
    def names(cls) -> FrozenSet[str]:
        with cls._lock:
            return frozenset(cls._names)


class RunClock(RunRegistry):
    """When this run began (epoch ms). A window that ends later is the run's last: its end was "now" when the run cut
    its windows (search.is_last_window_end)."""

    started_ms: ClassVar[int] = int(time.time() * 1000)

    @classmethod
    def clear(cls) -> None:
        super().clear()
        cls.started_ms = int(time.time() * 1000)


def begin_run() -> None:
    """Empties every RunRegistry (those of modules not imported yet are empty anyway)."""
    from source_hubspot import run

    for registry in list(_RUN_REGISTRIES):
        registry.clear()
    run.OUTPUT_FAILED.clear()  # a failed write to stdout ends the run
