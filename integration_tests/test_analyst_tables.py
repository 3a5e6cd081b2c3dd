"""The analyst tables against the sandbox: owners, pipeline stages, association links, property history, merges and
deal splits.

Each table is read on its own first, so the sandbox's request counts belong to one stream: they give the calls per
1,000 records, printed next to the page-size minimum. Then the sandbox changes an owner, links a record with a
label, writes a property value and merges two contacts, and one incremental sync of every table must bring each
change.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime
from typing import Any, Dict, List, Tuple

import pytest

from source_hubspot.paths import api_paths
from testkit import analyst_truth as truth
from testkit.analyst_truth import HISTORY_DEFAULTS as HISTORY
from testkit.analyst_truth import LINK_TARGETS
from testkit.harness import (
    ANALYST_STREAMS,
    Sandbox,
    configured_catalog,
    run_connector,
)

# One modification-date window per partition (the sandbox's data starts in 2022): a sync's calls are then those
# the page sizes require, which is what the calls-per-1,000 figures compare against.
CONFIG = {"start_date": "2021-06-01T00:00:00Z", "window_days": 3650}
INCREMENTAL_STREAMS = [s for s in ANALYST_STREAMS if s not in ("owners", "deal_pipelines", "ticket_pipelines",
                                                                 "deal_splits")]
SEARCH_PAGE, ASSOCIATION_BATCH, HISTORY_BATCH, OWNERS_PAGE, SPLITS_BATCH = 200, 1000, 50, 500, 100
ASSOCIATION_PAGE = 500  # the sandbox's `to` entries per input per v4 batch answer (its default)


@pytest.fixture(scope="module")
def sandbox():
    # 900 contacts: the first company holds 650 of them, more than one page of v4 associations. 620 owners: two
    # pages of active owners.
    with Sandbox("--seed", "23", "--contacts", "900", "--companies", "40", "--deals", "60", "--tickets", "30",
                 "--calls", "20", "--emails", "20", "--meetings", "20", "--notes", "20", "--tasks", "20",
                 "--custom-properties", "3", "--owners", "620", "--archived-owners", "4", "--search-rate", "5") as sb:
        yield sb


# Tables read together in one sync whose endpoints do not overlap, so each call belongs to one table: the owners
# and pipelines endpoints, and the search and batch read of each history object.
READ_TOGETHER = [
    ["owners", "deal_pipelines", "ticket_pipelines", "contacts_property_history", "companies_property_history",
     "deals_property_history", "tickets_property_history"],
    ["association_links"],
    ["merges"],
    ["deal_splits"],
]
# The paths at the default api_version (the sandbox configs set none).
API = api_paths({})
ENDPOINTS = {
    "owners": API["owners"],
    "deal_pipelines": f"{API['pipelines']}/deals",
    "ticket_pipelines": f"{API['pipelines']}/tickets",
    **{f"{t}_property_history": f"{API['objects']}/{t}/" for t in HISTORY},
}


@pytest.fixture(scope="module")
def first_reads(sandbox):
    """Every table's first sync (incremental mode, no state): (the run that read it, the calls it made)."""
    reads = {}
    for streams in READ_TOGETHER:
        sandbox.reset_stats()
        run = run_connector("read", sandbox.private_app_config(**CONFIG), configured_catalog(streams, incremental=True))
        assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors] or run.stderr[-3000:]
        stats = sandbox.stats()
        for stream in streams:
            prefix = ENDPOINTS.get(stream, "")
            calls = {k: v for k, v in stats["requests"].items() if prefix in k}
            limited = {k: v for k, v in (stats.get("rate_limited") or {}).items() if prefix in k}
            reads[stream] = (run, {"requests": calls, "rate_limited": limited})
    assert sum(reads[s][1]["requests"] and 1 or 0 for s in ANALYST_STREAMS) == len(ANALYST_STREAMS)
    return reads


def _no_duplicates(rows: List[Tuple]) -> None:
    repeated = [row for row, count in Counter(rows).items() if count > 1]
    assert not repeated, f"{len(repeated)} rows emitted twice, e.g. {repeated[:3]}"


def _without_nulls(record: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}  # the CDK drops top-level nulls


# ----------------------------------------------------------------------------------------------------------------
# Full reads: every table equals what the sandbox holds
# ----------------------------------------------------------------------------------------------------------------


def test_given_active_and_archived_owners_when_read_then_each_owner_once_with_teams(sandbox, first_reads):
    records = first_reads["owners"][0].records["owners"]
    held = {o["id"]: o for o in truth.owners(sandbox)}
    _no_duplicates([r["id"] for r in records])
    assert {r["id"]: r for r in records} == {i: _without_nulls(o) for i, o in held.items()}
    assert sum(r["archived"] for r in records) == 4 and len(records) == 624
    assert any(r["teams"] for r in records)


@pytest.mark.parametrize("stream, object_type", [("deal_pipelines", "deals"), ("ticket_pipelines", "tickets")])
def test_given_pipelines_when_read_then_one_row_per_stage_with_its_pipeline(sandbox, first_reads, stream, object_type):
    rows = first_reads[stream][0].records[stream]
    _no_duplicates([(r["pipelineId"], r["stageId"]) for r in rows])
    expected = truth.pipeline_stages(sandbox, object_type)
    got = {(r["pipelineId"], r["stageId"]): (r["pipelineLabel"], r["stageLabel"], r["stageDisplayOrder"], r["isClosed"],
                                             r.get("probability"), r.get("ticketState")) for r in rows}
    assert got == expected
    # every stage a record holds can be looked up
    stage_property = "dealstage" if object_type == "deals" else "hs_pipeline_stage"
    used = {rec["properties"][stage_property] for rec in sandbox.records(object_type).values()}
    assert used <= {stage for _, stage in got}


def _link_rows(records) -> List[Tuple]:
    return [(r["fromObjectType"], r["fromObjectId"], r["toObjectType"], r["toObjectId"], r["associationTypeId"],
             r["associationCategory"], r.get("associationLabel")) for r in records]


def test_given_labelled_links_when_read_then_every_link_once_including_a_company_past_one_page(sandbox, first_reads):
    rows = _link_rows(first_reads["association_links"][0].records["association_links"])
    _no_duplicates(rows)
    assert sorted(rows) == sorted(truth.all_links(sandbox))
    per_company = Counter(r[1] for r in rows if r[0] == "companies" and r[4] == 280)  # unlabelled company->contact
    assert max(per_company.values()) > ASSOCIATION_PAGE
    assert any(r[6] == "Decision maker" and r[5] == "USER_DEFINED" for r in rows)
    assert any(r[6] == "Primary" for r in rows)


@pytest.mark.parametrize("object_type", ["contacts", "companies", "deals", "tickets"])
def test_given_property_history_when_read_then_every_version_of_the_default_properties_once(
    sandbox, first_reads, object_type
):
    stream = f"{object_type}_property_history"
    rows = [(r["objectId"], r["property"], r["value"], r["timestamp"], r["sourceType"], r.get("sourceId"))
            for r in first_reads[stream][0].records[stream]]
    _no_duplicates(rows)
    assert sorted(rows) == sorted(truth.history(sandbox, object_type, HISTORY[object_type]))
    assert len({r[1] for r in rows}) == len(HISTORY[object_type])
    assert any(count > 1 for count in Counter((r[0], r[1]) for r in rows).values())  # real histories, not one value


def test_given_deal_splits_when_read_then_every_split_of_every_deal_once_with_its_deal(sandbox, first_reads):
    records = first_reads["deal_splits"][0].records["deal_splits"]
    rows = [(r["id"], r["dealId"], r["properties_hs_deal_split_percentage"], r["properties_hubspot_owner_id"],
             r["createdAt"], r["updatedAt"]) for r in records]
    _no_duplicates([r[0] for r in rows])
    assert sorted(rows) == sorted(truth.deal_splits(sandbox))
    shares = Counter()
    for row in rows:
        shares[row[1]] += row[2]
    assert shares and all(abs(total - 1.0) < 1e-9 for total in shares.values())  # each deal's splits add up to 1
    assert all(r["properties"]["hs_deal_split_percentage"] for r in records) and not any(r["archived"] for r in records)


def test_given_merged_records_when_read_then_each_merged_id_points_to_its_survivor(sandbox, first_reads):
    records = first_reads["merges"][0].records["merges"]
    rows = [(r["objectType"], r["mergedId"], r["survivingId"], r.get("mergedAt")) for r in records]
    _no_duplicates([(r[0], r[1]) for r in rows])
    assert sorted(rows) == sorted(truth.merges(sandbox))
    assert {r[0] for r in rows} == {"contacts", "companies", "deals", "tickets"}
    assert all(r[3] for r in rows if r[0] == "contacts")  # contacts say when (hs_calculated_merged_vids)


# ----------------------------------------------------------------------------------------------------------------
# API economy
# ----------------------------------------------------------------------------------------------------------------


def _minimum_calls(sandbox: Sandbox, stream: str, records: List[Dict[str, Any]]) -> int:
    """The calls the page sizes require: HubSpot's page and batch limits, nothing per record."""
    if stream == "owners":
        owners = truth.owners(sandbox)
        archived = sum(o["archived"] for o in owners)
        return math.ceil((len(owners) - archived) / OWNERS_PAGE) + max(1, math.ceil(archived / OWNERS_PAGE))
    if stream.endswith("_pipelines"):
        return 1
    if stream == "association_links":
        total = 0
        for from_type, targets in LINK_TARGETS.items():
            active = len(sandbox.ids(from_type))
            total += max(1, math.ceil(active / SEARCH_PAGE))
            for to_type in targets:
                linked = {(row[1], row[3]) for row in truth.links(sandbox, from_type, to_type)}
                per_record = Counter(from_id for from_id, _ in linked)
                extra_pages = sum(math.ceil(n / ASSOCIATION_PAGE) - 1 for n in per_record.values())
                total += math.ceil(active / ASSOCIATION_BATCH) + extra_pages
        return total
    if stream.endswith("_property_history"):
        active = len(sandbox.ids(stream.split("_")[0]))
        return math.ceil(active / SEARCH_PAGE) + math.ceil(active / HISTORY_BATCH)
    if stream == "deal_splits":
        deals = len(sandbox.ids("deals"))
        return math.ceil(deals / SEARCH_PAGE) + math.ceil(deals / SPLITS_BATCH)
    if stream == "merges":
        survivors = Counter(r["objectType"] for r in {(r["objectType"], r["survivingId"]): r for r in records}.values())
        return sum(max(1, math.ceil(survivors.get(t, 0) / SEARCH_PAGE)) for t in ("contacts", "companies", "deals", "tickets"))
    raise AssertionError(stream)


def test_given_each_table_read_alone_then_calls_per_1000_records_are_near_the_page_size_minimum(sandbox, first_reads):
    report = {}
    for stream in ANALYST_STREAMS:
        run, stats = first_reads[stream]
        records = run.records.get(stream, [])
        calls = sum(stats["requests"].values())
        minimum = _minimum_calls(sandbox, stream, records)
        report[stream] = {
            "records": len(records), "calls": calls, "calls_per_1000": round(1000 * calls / len(records), 1),
            "minimum_calls": minimum, "ratio_to_minimum": round(calls / minimum, 2),
            "http_429": sum(stats["rate_limited"].values()), "by_endpoint": stats["requests"],
        }
    print("analyst tables, calls per 1,000 records (first sync; 429s are counted as calls):")
    for stream, numbers in report.items():
        print(f"  {stream}: {json.dumps({k: v for k, v in numbers.items() if k != 'by_endpoint'})}")
        print(f"    {json.dumps(numbers['by_endpoint'])}")
    for stream, numbers in report.items():
        assert numbers["calls"] - numbers["http_429"] <= math.ceil(1.1 * numbers["minimum_calls"]), (stream, numbers)


@pytest.mark.parametrize("stream", ["association_links", "merges"])
def test_given_short_windows_when_a_first_sync_then_it_reads_in_one_window_as_with_long_ones(sandbox, first_reads, stream):
    """A first sync of these tables is one window per object type whatever window_days says (each window would end in
    a part-filled search page and part-filled batch reads)."""
    sandbox.reset_stats()
    run = run_connector("read", sandbox.private_app_config(start_date=CONFIG["start_date"], window_days=30),
                        configured_catalog([stream], incremental=True))
    assert run.returncode == 0 and not run.errors, [e["message"] for e in run.errors] or run.stderr[-3000:]
    one_window_run, one_window = first_reads[stream]
    calls = sum(v for k, v in sandbox.stats()["requests"].items())
    assert calls == sum(one_window["requests"].values())
    assert len(run.records[stream]) == len(one_window_run.records[stream])
    assert run.states  # the first sync still ends with a state to go on from


# ----------------------------------------------------------------------------------------------------------------
# Incremental: changes made in HubSpot arrive with the next sync
# ----------------------------------------------------------------------------------------------------------------


def test_given_changes_when_next_incremental_sync_then_new_owner_link_history_version_and_merge_arrive(
    sandbox, first_reads
):
    runs = {id(run): run for run, _ in first_reads.values()}.values()
    state = [s for run in runs for s in run.final_state()]
    assert {s["stream"]["stream_descriptor"]["name"] for s in state} >= set(INCREMENTAL_STREAMS)

    owner = sandbox.control("POST", "analyst/owners", json={"id": "23456789", "lastName": "Renamed",
                                                           "teams": [{"id": "1104", "name": "Renewals", "primary": True}]})
    companies, contacts, deals = sandbox.ids("companies"), sandbox.ids("contacts"), sandbox.ids("deals")
    linked = {row[3] for row in truth.links(sandbox, "companies", "contacts") if row[1] == companies[-1]}
    contact = next(c for c in reversed(contacts) if c not in linked)
    link = sandbox.control("POST", "analyst/links", json={"type": "companies", "from": companies[-1], "toType": "contacts",
                                                         "to": contact, "label": "Decision maker"})
    version = sandbox.control("POST", "analyst/property", json={"type": "deals", "id": deals[3], "property": "dealstage",
                                                               "value": "contractsent"})
    merge = sandbox.control("POST", "analyst/merges", json={"type": "contacts", "into": contacts[10], "from": contacts[11]})

    sandbox.reset_stats()
    second = run_connector("read", sandbox.private_app_config(**CONFIG),
                           configured_catalog(ANALYST_STREAMS, incremental=True), state=state)
    assert second.returncode == 0 and not second.errors, [e["message"] for e in second.errors] or second.stderr[-3000:]
    calls = sandbox.stats()["requests"]
    print(f"second sync: {second.seconds:.1f} s, {sum(calls.values())} calls: {json.dumps(calls)}")

    owners = {r["id"]: r for r in second.records["owners"]}
    assert owners["23456789"] == _without_nulls(owner)

    links = second.records.get("association_links", [])
    _no_duplicates(_link_rows(links))
    new = [r for r in links if (r["fromObjectId"], r["toObjectId"]) == (companies[-1], contact)]
    assert {(r["associationTypeId"], r["associationCategory"], r.get("associationLabel")) for r in new} == {
        (280, "HUBSPOT_DEFINED", None), (102, "USER_DEFINED", "Decision maker")}
    assert all(r["updatedAt"] == link["updatedAt"] for r in new)
    # Read again: the changed company, and in each partition the records changed within the lookback (10 minutes)
    # before its saved cursor. Nothing else.
    again = {companies[-1]}
    for partition in _partition_cursors(state, "association_links"):
        since = _millis(partition["cursor"]["updatedAt"]) - 10 * 60 * 1000
        again |= {i for i, r in sandbox.records(partition["partition"]["object_type"]).items() if _millis(r["updatedAt"]) >= since}
    assert {r["fromObjectId"] for r in links} <= again

    history = second.records.get("deals_property_history", [])
    written = [r for r in history if r["objectId"] == deals[3] and r["timestamp"] == version["version"]["timestamp"]]
    assert [(r["property"], r["value"], r["sourceType"]) for r in written] == [("dealstage", "contractsent", "API")]
    earlier = {(r["objectId"], r["property"], r["timestamp"]) for r in first_reads["deals_property_history"][0].records["deals_property_history"]}
    assert {(r["objectId"], r["property"], r["timestamp"]) for r in history if r["objectId"] == deals[3]} > {
        e for e in earlier if e[0] == deals[3]}

    merges = second.records.get("merges", [])
    assert ("contacts", merge["merged"], merge["id"]) in {(r["objectType"], r["mergedId"], r["survivingId"]) for r in merges}
    assert [r for r in merges if r["mergedId"] == merge["merged"]][0]["mergedAt"] == merge["updatedAt"]


def _partition_cursors(state: List[Dict[str, Any]], stream: str) -> List[Dict[str, Any]]:
    blob = next(s["stream"]["stream_state"] for s in state if s["stream"]["stream_descriptor"]["name"] == stream)
    return blob["states"]


def _millis(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


# ----------------------------------------------------------------------------------------------------------------
# Scopes
# ----------------------------------------------------------------------------------------------------------------


def _warnings(run) -> List[str]:
    return [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] in ("WARN", "WARNING")]


def test_given_token_without_owners_deals_and_tickets_scopes_when_discover_and_read_then_readable_parts_only():
    with Sandbox("--seed", "29", "--contacts", "120", "--companies", "12", "--deals", "12", "--tickets", "12",
                 "--calls", "10", "--emails", "10", "--meetings", "10", "--notes", "10", "--tasks", "10",
                 "--custom-properties", "2", "--scopes", "crm.objects.contacts.read,crm.objects.companies.read") as sb:
        config = sb.private_app_config(**CONFIG)
        discover = run_connector("discover", config)
        assert discover.returncode == 0 and not discover.errors, [e["message"] for e in discover.errors]
        names = {s["name"] for s in discover.of_type("CATALOG")[0]["catalog"]["streams"]}
        assert names & set(ANALYST_STREAMS) == {"association_links", "contacts_property_history",
                                                "companies_property_history", "merges"}
        said = " ".join(_warnings(discover))
        for stream, scope in (("owners", "crm.objects.owners.read"), ("deal_pipelines", "crm.objects.deals.read"),
                              ("ticket_pipelines", "scope(s) tickets"), ("deals_property_history", "crm.objects.deals.read")):
            assert f"{stream}: " in said and scope in said, stream
        assert "these links are not read" in said and "deals->contacts" in said

        read = run_connector("read", config, configured_catalog(["association_links", "merges"], incremental=True))
        assert read.returncode == 0 and not read.errors, [e["message"] for e in read.errors]
        pairs = {(r["fromObjectType"], r["toObjectType"]) for r in read.records["association_links"]}
        assert pairs and all(a not in ("deals", "tickets") and b not in ("deals", "tickets") for a, b in pairs)
        assert {r["objectType"] for r in read.records["merges"]} == {"contacts", "companies"}
        said = " ".join(_warnings(read))
        assert "skipping deals" in said and "crm.objects.deals.read" in said
