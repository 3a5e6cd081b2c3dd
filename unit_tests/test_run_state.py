"""testkit.reset_run_state() knows every class-level registry of source_hubspot: a test that runs the connector
in-process stands for one connector process, and a registry the reset misses would carry one test's run into the
next."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from typing import Any, Dict, Iterator, List, Tuple

import source_hubspot
from testkit import reset_run_state

# Class attributes that hold no run's facts, and why.
NOT_RUN_STATE = {
    ("ScopeProbes", "_depth"): "the nesting depth of discover's context manager, back to 0 when each discover ends",
    ("ApiCalls", "_thread"): "a threading.local, each thread's current stream (ApiCalls.clear() points it at none)",
    ("RunClock", "started_ms"): "set to the moment a run begins, not back to a start value (its own test below)",
}
_MUTABLE = (dict, list, set)
_SENTINEL = object()


def _classes() -> Iterator[type]:
    """Every class defined in source_hubspot and its submodules (each once, in the module that defines it)."""
    modules = [source_hubspot] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(source_hubspot.__path__, prefix="source_hubspot.")
    ]
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def _is_class_var(cls: type, name: str) -> bool:
    annotation = cls.__dict__.get("__annotations__", {}).get(name)
    return annotation is not None and "ClassVar" in str(annotation)


def _registries() -> List[Tuple[type, str]]:
    """Class-level state: mutable containers held by a class, and attributes annotated ClassVar, locks and a
    registry's `_fresh` (the values it starts a run with) left out."""
    found = []
    for cls in _classes():
        for name, value in vars(cls).items():
            if name.startswith("__") or name == "_fresh" or isinstance(value, (type(threading.Lock()), type(threading.RLock()))):
                continue
            if isinstance(value, _MUTABLE) or _is_class_var(cls, name):
                found.append((cls, name))
    return found


def _dirty(value: Any) -> Any:
    """The registry with one entry a run could have left (a container), or a value a run could have set."""
    if isinstance(value, dict):
        value[_SENTINEL] = _SENTINEL
    elif isinstance(value, list):
        value.append(_SENTINEL)
    elif isinstance(value, set):
        value.add(_SENTINEL)
    else:
        return _SENTINEL
    return value


def _clean(value: Any) -> None:
    if isinstance(value, dict):
        value.pop(_SENTINEL, None)
    elif isinstance(value, list):
        value.remove(_SENTINEL)
    else:
        value.discard(_SENTINEL)


def test_the_registries_found_include_the_known_ones():
    names = {f"{cls.__name__}.{name}" for cls, name in _registries()}
    assert {"PropertyDefinitions._by_key", "PropertyDefinitions._names", "DeniedAssociations._denied",
            "DailyLimit._spent_message", "HubspotOAuthAuthenticator._shared_tokens", "SkippedStreams._reasons",
            "Once._said"} <= names, sorted(names)


def test_given_every_class_level_registry_holds_something_when_reset_then_each_is_back_to_its_start():
    registries = [(cls, name) for cls, name in _registries() if (cls.__name__, name) not in NOT_RUN_STATE]
    defaults: Dict[Tuple[type, str], Any] = {}
    for cls, name in registries:
        value = vars(cls)[name]
        if not isinstance(value, _MUTABLE):
            defaults[(cls, name)] = value
        setattr(cls, name, _dirty(value))

    reset_run_state()

    kept = []
    for cls, name in registries:
        value = vars(cls)[name]
        if isinstance(value, _MUTABLE) and _SENTINEL in value:
            _clean(value)
            kept.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
        elif (cls, name) in defaults and value is _SENTINEL:
            setattr(cls, name, defaults[(cls, name)])
            kept.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert not kept, (
        f"reset_run_state() (testkit/run_state.py) does not reset {kept}: add each there, or to NOT_RUN_STATE in "
        "this file with the reason it holds no run's facts"
    )


def test_given_two_runs_in_one_process_when_a_record_is_deleted_between_them_then_the_second_emits_the_delete(requests_mock):
    # A Python pipeline that builds the source twice in one process: the second run begins afresh
    # (source_hubspot/run_state.py) and lists the archived records again, rather than the first run's list.
    from testkit.connector import ONE_WINDOW, catalog, private_app_config, run_read
    from testkit.mock_server import contact, list_page, mock_contacts

    config = private_app_config(include_archived=True, **ONE_WINDOW)
    mock_contacts(requests_mock)
    archived = {**contact(7), "archived": True, "archivedAt": "2024-05-02T10:00:00.000Z"}
    requests_mock.get("https://api.hubapi.com/crm/v3/objects/contacts?archived=true",
                      [{"json": list_page([])}, {"json": list_page([archived])}])

    first = run_read(config, catalog("contacts"))
    second = run_read(config, catalog("contacts"))

    assert [m.record.data["id"] for m in first.records] == ["1"]
    assert sorted(m.record.data["id"] for m in second.records) == ["1", "7"]


def test_given_a_new_run_then_its_last_window_is_told_by_the_runs_start_not_the_processs():
    import time

    from source_hubspot.run_state import RunClock, begin_run
    from source_hubspot.search import is_last_window_end

    before = int(time.time() * 1000)
    begin_run()
    assert before <= RunClock.started_ms <= int(time.time() * 1000)
    assert is_last_window_end(RunClock.started_ms + 1) and not is_last_window_end(RunClock.started_ms - 60_000)
