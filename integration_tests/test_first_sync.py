"""First syncs read by list and search at once (source_hubspot/first_sync.py), against the sandbox.

Each case compares the records with a first sync read by search alone (`first_sync_list_reads: false`), on the same
portal: the two ways must emit the same records, with the same values, each once."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from source_hubspot.paths import api_paths
from testkit.harness import Run, Sandbox, configured_catalog, run_connector

# The contacts path at the default api_version (the sandbox configs set none).
CONTACTS = f"{api_paths({})['objects']}/contacts"

STREAMS = ["contacts", "companies", "deals", "engagements"]
PORTAL = ("--seed", "31", "--contacts", "2400", "--companies", "600", "--deals", "300", "--tickets", "30",
          "--calls", "250", "--emails", "250", "--meetings", "40", "--notes", "40", "--tasks", "40",
          "--custom-properties", "12")


def _read(sandbox: Sandbox, streams: List[str] = STREAMS, **config: Any) -> Run:
    run = run_connector("read", sandbox.private_app_config(**config), configured_catalog(streams, incremental=True))
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors]
    return run


def _by_id(run: Run, stream: str) -> Dict[str, Dict[str, Any]]:
    records = run.records.get(stream, [])
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), f"{stream}: {len(ids) - len(set(ids))} records emitted twice"
    return {r["id"]: r for r in records}


def _logs(run: Run) -> str:
    return "\n".join(m["log"]["message"] for m in run.of_type("LOG"))


def _calls(sandbox: Sandbox, method_path: str) -> int:
    return sum(n for key, n in sandbox.stats()["requests"].items() if key.startswith(method_path))


def _same_records(sandbox: Sandbox, both: Run, search_only: Run, streams: List[str] = STREAMS) -> None:
    for stream in streams:
        got, want = _by_id(both, stream), _by_id(search_only, stream)
        assert set(got) == set(want), f"{stream}: {len(set(want) - set(got))} missing, {len(set(got) - set(want))} extra"
        differing = [i for i in want if got[i] != want[i]]
        assert not differing, f"{stream}: {len(differing)} records differ, e.g. {differing[0]}"


def test_given_a_first_sync_then_list_and_search_share_the_read_and_emit_what_search_alone_emits():
    # Five inline association ids per type at most: records with more are completed by v4 batch reads.
    with Sandbox(*PORTAL, "--inline-assoc-limit", "5") as sandbox:
        both = _read(sandbox)
        search_only = _read(sandbox, first_sync_list_reads=False)
        _same_records(sandbox, both, search_only)
        assert sorted(_by_id(both, "contacts")) == sorted(sandbox.ids("contacts"))
        # Which reader takes how much of an object depends on timing: with eight objects waiting for search slots,
        # an unthrottled list can read all of one before its search's first page is back. Read alone, both start
        # at once, and both work on contacts; together they need fewer calls than the list alone would.
        sandbox.reset_stats()
        alone = _read(sandbox, ["contacts"])
        list_calls = _calls(sandbox, f"GET {CONTACTS}")
        search_calls = _calls(sandbox, f"POST {CONTACTS}/search")
        assert list_calls >= 2 and search_calls >= 2, (list_calls, search_calls)
        assert list_calls + search_calls < 2400 / 100 + 3
        assert _by_id(alone, "contacts") == _by_id(both, "contacts")
        said = _logs(both)
        read = re.findall(r"(\w+) read: \d+ records by list \(\d+ calls\), \d+ by search", said)
        assert sorted(read) == ["calls", "companies", "contacts", "deals", "emails", "meetings", "notes", "tasks"], read
        assert "contacts: contacts read:" in _logs(alone) and "search read down to id" in _logs(alone)
        assert any(len(r["companies"]) > 5 for r in both.records["contacts"]) or any(
            len(r["contacts"]) > 5 for r in both.records["companies"]
        ), "no record with more inline associations than the cap: the test does not cover the completion"
        # The state is the latest modification read, never past the window's end (the sync's start).
        state = both.final_state()
        assert {s["stream"]["stream_descriptor"]["name"] for s in state} == set(STREAMS)


def test_given_a_list_out_of_id_order_then_the_list_reads_to_its_end_and_nothing_is_lost_or_doubled():
    with Sandbox(*PORTAL, "--list-order", "scrambled") as sandbox:
        both = _read(sandbox, ["contacts", "companies"])
        search_only = _read(sandbox, ["contacts", "companies"], first_sync_list_reads=False)
        _same_records(sandbox, both, search_only, ["contacts", "companies"])
        assert "out of ascending order" in _logs(both)


def test_given_the_list_url_is_refused_then_search_reads_everything_and_says_why():
    # The sandbox answers 414 above 300 characters: every list request is refused, search requests are POSTs.
    with Sandbox(*PORTAL, "--max-url-length", "300") as sandbox:
        both = _read(sandbox, ["contacts", "deals"])
        search_only = _read(sandbox, ["contacts", "deals"], first_sync_list_reads=False)
        _same_records(sandbox, both, search_only, ["contacts", "deals"])
        said = _logs(both)
        assert "the list reader of contacts stopped" in said and "414" in said and "search reads the rest" in said


def test_given_records_changed_during_the_first_sync_then_the_next_sync_has_them():
    with Sandbox(*PORTAL) as sandbox:
        first = _read(sandbox, ["contacts"])
        changed = set(sandbox.mutate(type="contacts", update=40, create=15)["updated"])
        second = run_connector("read", sandbox.private_app_config(), configured_catalog(["contacts"], incremental=True),
                               state=first.final_state())
        assert second.returncode == 0 and not second.errors
        assert changed <= set(_by_id(second, "contacts"))
        # An incremental sync reads by search alone, window by window.
        assert "first sync of contacts" not in _logs(second)


def test_given_records_changed_while_a_full_refresh_runs_then_every_record_is_in_it():
    """A full refresh replaces the destination's table: records changed during the read must not drop out of it."""
    import json
    import subprocess
    import tempfile
    from pathlib import Path

    from testkit.harness import source_command

    with Sandbox(*PORTAL, "--latency-ms", "120") as sandbox:
        work = Path(tempfile.mkdtemp())
        (work / "config.json").write_text(json.dumps(sandbox.private_app_config()))
        (work / "catalog.json").write_text(json.dumps(configured_catalog(["contacts"])))
        proc = subprocess.Popen([*source_command(), "read", "--config", str(work / "config.json"), "--catalog",
                                 str(work / "catalog.json")], stdout=subprocess.PIPE, text=True)
        ids, changed = [], set()
        for line in proc.stdout:
            if line.startswith('{"type":"RECORD"'):
                ids.append(json.loads(line)["record"]["data"]["id"])
                if len(ids) == 100:  # the read is under way: change records it has not reached yet, and some it has
                    changed = set(sandbox.mutate(type="contacts", update=300)["updated"])
        assert proc.wait(timeout=120) == 0
        assert changed and len(ids) == len(set(ids))
        assert set(ids) == set(sandbox.ids("contacts")), f"{len(set(sandbox.ids('contacts')) - set(ids))} records missing"


def test_given_too_many_properties_for_a_list_url_then_the_list_reads_ids_and_batch_reads_the_rest():
    # 600 custom properties make a list URL of about 10,000 characters: over the connector's 7,000.
    with Sandbox("--seed", "32", "--contacts", "900", "--companies", "60", "--deals", "60", "--tickets", "30",
                 "--custom-properties", "600", "--inline-assoc-limit", "5") as sandbox:
        sandbox.reset_stats()
        both = _read(sandbox, ["contacts"])
        requests_made = sandbox.stats()["requests"]
        search_only = _read(sandbox, ["contacts"], first_sync_list_reads=False)
        _same_records(sandbox, both, search_only, ["contacts"])
        assert sorted(_by_id(both, "contacts")) == sorted(sandbox.ids("contacts"))
        lists, batch_reads = requests_made.get(f"GET {CONTACTS}", 0), requests_made.get(f"POST {CONTACTS}/batch/read", 0)
        assert 1 <= batch_reads <= lists, requests_made  # one per list page with records to complete
        said = _logs(both)
        assert "its list pages carry ids and associations" in said
        by_list = re.search(r"contacts read: (\d+) records by list", said)
        assert by_list and int(by_list.group(1)) > 0, said
