"""Self-test of the fake HubSpot server in /sandbox (starts it as a subprocess)."""
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[1]
TOKEN = "sandbox-private-app-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    port_file = tmp_path_factory.mktemp("sbx") / "port"
    cmd = [sys.executable, "-m", "sandbox", "--port", "0", "--port-file", str(port_file), "--seed", "7",
           "--contacts", "800", "--companies", "40", "--deals", "60", "--tickets", "40", "--calls", "20",
           "--emails", "20", "--meetings", "20", "--notes", "20", "--tasks", "20", "--custom-properties", "12",
           "--search-rate", "4", "--token-ttl", "1", "--rotate-refresh-token", "--same-timestamp", "5"]
    proc = subprocess.Popen(cmd, cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("sandbox listening on http://127.0.0.1:"), line + proc.stderr.read()
        port = int(port_file.read_text())
        assert line.strip() == f"sandbox listening on http://127.0.0.1:{port}"
        s = requests.Session()
        s.base = f"http://127.0.0.1:{port}"
        yield s
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(s, path, **kw):
    kw.setdefault("headers", AUTH)
    return s.get(s.base + path, **kw)


def post(s, path, json=None, **kw):
    kw.setdefault("headers", AUTH)
    return s.post(s.base + path, json=json, **kw)


def search(s, otype, body):
    for _ in range(50):
        r = post(s, f"/crm/v3/objects/{otype}/search", body)
        if r.status_code != 429:
            return r
        time.sleep(0.3)
    raise AssertionError("search kept returning 429")


def control_ids(s, otype, archived="exclude"):
    return s.get(f"{s.base}/_sandbox/objects/{otype}?archived={archived}&fields=ids").json()["ids"]


def control_records(s, otype, archived="exclude"):
    return s.get(f"{s.base}/_sandbox/objects/{otype}?archived={archived}").json()["records"]


def list_all(s, otype, **params):
    ids, after, pages = [], None, 0
    while True:
        p = dict(params, limit=100)
        if after:
            p["after"] = after
        r = get(s, f"/crm/v3/objects/{otype}", params=p)
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [x["id"] for x in body["results"]]
        pages += 1
        if "paging" not in body:
            return ids, pages
        after = body["paging"]["next"]["after"]
        assert body["paging"]["next"]["link"].startswith(s.base)


def test_health_and_account(sandbox):
    assert sandbox.get(sandbox.base + "/_sandbox/health").json() == {"ok": True}
    r = get(sandbox, "/account-info/v3/details")
    assert r.status_code == 200 and r.json()["portalId"] == 12345678
    r = sandbox.get(sandbox.base + "/crm/v3/objects/contacts")
    assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"


def test_list_paging_covers_all_ids_once(sandbox):
    ids, pages = list_all(sandbox, "contacts")
    expected = control_ids(sandbox, "contacts")
    assert len(ids) == len(set(ids))
    assert ids == expected
    assert pages == (len(expected) + 99) // 100
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    # cursor is opaque (not the plain id)
    r = get(sandbox, "/crm/v3/objects/contacts", params={"limit": 1}).json()
    assert r["paging"]["next"]["after"] not in expected
    # archived=true returns only archived records
    arch, _ = list_all(sandbox, "contacts", archived="true")
    assert arch and arch == control_ids(sandbox, "contacts", "only")
    r = get(sandbox, "/crm/v3/objects/contacts", params={"limit": 1, "archived": "true"}).json()
    assert r["results"][0]["archived"] is True and "archivedAt" in r["results"][0]
    assert get(sandbox, "/crm/v3/objects/contacts", params={"limit": 101}).status_code == 400


def test_properties_param_and_types(sandbox):
    props = get(sandbox, "/crm/v3/properties/contacts").json()["results"]
    names = [p["name"] for p in props]
    types = {p["type"] for p in props}
    assert {"firstname", "lastmodifieddate", "hs_object_id", "custom_prop_001"} <= set(names)
    assert {"string", "number", "date", "datetime", "enumeration", "bool"} <= types
    assert types & {"object_coordinates", "json"}
    assert get(sandbox, "/crm/v3/properties/nope").status_code == 404

    r = get(sandbox, "/crm/v3/objects/contacts",
            params={"limit": 100, "properties": "firstname,custom_prop_004,not_a_prop,num_notes"}).json()
    records = control_records(sandbox, "contacts")
    for rec in r["results"]:
        p = rec["properties"]
        assert set(p) == {"firstname", "custom_prop_004", "num_notes", "hs_object_id", "createdate",
                          "lastmodifieddate"}
        assert all(v is None or isinstance(v, str) for v in p.values())
        full = records[rec["id"]]
        for k, v in p.items():
            assert full["properties"][k] == v
        assert p["hs_object_id"] == rec["id"]
        assert p["lastmodifieddate"] == rec["updatedAt"] and p["createdate"] == rec["createdAt"]
    # default property set
    r = get(sandbox, "/crm/v3/objects/contacts", params={"limit": 1}).json()
    assert set(r["results"][0]["properties"]) == {"firstname", "lastname", "email", "createdate",
                                                  "lastmodifieddate", "hs_object_id"}
    # same-timestamp contacts
    first5 = [records[i] for i in control_ids(sandbox, "contacts")[:5]]
    assert len({x["updatedAt"] for x in first5}) == 1


def test_url_too_long(sandbox):
    props = ",".join(f"custom_prop_{i:03d}" for i in range(1, 800))
    r = get(sandbox, "/crm/v3/objects/contacts", params={"properties": props})
    assert r.status_code == 414
    assert r.headers["Content-Type"].startswith("text/html")
    assert "414 Request-URI Too Large" in r.text


def test_search_filters_sort_paging(sandbox):
    records = control_records(sandbox, "contacts")
    lo = "2024-01-01T00:00:00.000Z"
    hi_ms = 1735689600000  # 2025-01-01
    expected = sorted((r for r in records.values() if lo <= r["updatedAt"] < "2025-01-01T00:00:00.000Z"),
                      key=lambda r: (r["updatedAt"], int(r["id"])))
    got, after = [], None
    while True:
        body = {"filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": lo},
            {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(hi_ms)}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["email"], "limit": 100}
        if after:
            body["after"] = after
        r = search(sandbox, "contacts", body)
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["total"] == len(expected)
        got += j["results"]
        if "paging" not in j:
            break
        after = j["paging"]["next"]["after"]
    assert [g["id"] for g in got] == [e["id"] for e in expected]
    assert set(got[0]["properties"]) == {"email", "hs_object_id", "createdate", "lastmodifieddate"}
    # OR of groups, IN, HAS_PROPERTY, descending sort
    body = {"filterGroups": [
        {"filters": [{"propertyName": "hs_object_id", "operator": "IN", "values": ["100001", "100004"]}]},
        {"filters": [{"propertyName": "hs_object_id", "operator": "BETWEEN", "value": "100010",
                      "highValue": "100020"}, {"propertyName": "firstname", "operator": "HAS_PROPERTY"}]}],
        "sorts": ["-hs_object_id"], "limit": 200}
    j = search(sandbox, "contacts", body).json()
    ids = [int(x["id"]) for x in j["results"]]
    exp = [int(i) for i, r in records.items() if int(i) in (100001, 100004) or
           (100010 <= int(i) <= 100020 and r["properties"]["firstname"])]
    assert ids == sorted(exp, reverse=True)
    # the 10,000 result window
    r = search(sandbox, "contacts", {"after": "9950", "limit": 100})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert search(sandbox, "contacts", {"limit": 201}).status_code == 400
    too_many = {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "1"}]}] * 6}
    assert search(sandbox, "contacts", too_many).status_code == 400


@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_keyset_search_pages_in_either_direction_match_the_records(sandbox, direction):
    """The keyset queries the connector sends (answered from the sandbox's cache) return the records a filter over
    the control plane's truth selects, in id order, each once."""
    records = control_records(sandbox, "contacts")
    lo, hi = "2023-01-01T00:00:00.000Z", "2025-06-01T00:00:00.000Z"
    expected = sorted((int(i) for i, r in records.items() if lo <= r["updatedAt"] <= hi), reverse=direction == "DESCENDING")
    window = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": lo},
              {"propertyName": "lastmodifieddate", "operator": "LTE", "value": hi}]
    got, last = [], None
    while True:
        key = [] if last is None else [{"propertyName": "hs_object_id", "operator": "LT" if direction == "DESCENDING" else "GT",
                                        "value": str(last)}]
        body = {"filterGroups": [{"filters": window + key}], "sorts": [{"propertyName": "hs_object_id", "direction": direction}],
                "properties": ["email"], "limit": 70}
        j = search(sandbox, "contacts", body).json()
        got += [int(x["id"]) for x in j["results"]]
        if "paging" not in j:
            break
        last = got[-1]
    assert got == expected and len(expected) > 140


def test_keyset_search_with_several_filter_groups_pages_through_the_records_either_group_selects(sandbox):
    """Filter groups are ORed; with the same keyset filter in each (as the merges table's contacts search sends), the
    cached keyset answer pages through the records any group selects, in id order, each once."""
    records = control_records(sandbox, "contacts")
    early, late = "2022-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"
    expected = sorted(int(i) for i, r in records.items() if r["updatedAt"] < early or r["updatedAt"] > late)
    groups = [[{"propertyName": "lastmodifieddate", "operator": "LT", "value": early}],
              [{"propertyName": "lastmodifieddate", "operator": "GT", "value": late}]]
    got, last = [], 0
    while True:
        key = {"propertyName": "hs_object_id", "operator": "GT", "value": str(last)}
        body = {"filterGroups": [{"filters": [key, *group]} for group in groups], "limit": 60,
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "properties": ["email"]}
        j = search(sandbox, "contacts", body).json()
        got += [int(x["id"]) for x in j["results"]]
        if "paging" not in j:
            break
        last = got[-1]
    assert got == expected and 120 < len(expected) < len(records)


def test_search_rate_limit(sandbox):
    time.sleep(1.1)
    codes = []
    for _ in range(8):
        r = post(sandbox, "/crm/v3/objects/contacts/search", {"limit": 1})
        codes.append(r.status_code)
        if r.status_code == 429:
            j = r.json()
            assert j["policyName"] == "SECONDLY" and j["errorType"] == "RATE_LIMIT"
            assert j["message"] == "You have reached your secondly limit."
            assert not [h for h in r.headers if h.lower().startswith("x-hubspot-ratelimit")]
    assert 429 in codes and codes[:4] == [200] * 4
    time.sleep(1.1)


def test_batch_read(sandbox):
    ids = control_ids(sandbox, "deals")[:5]
    r = post(sandbox, "/crm/v3/objects/deals/batch/read",
             {"inputs": [{"id": i} for i in ids], "properties": ["amount", "dealname"]})
    assert r.status_code == 200
    j = r.json()
    assert j["status"] == "COMPLETE" and sorted(x["id"] for x in j["results"]) == sorted(ids)
    assert "amount" in j["results"][0]["properties"]
    r = post(sandbox, "/crm/v3/objects/deals/batch/read", {"inputs": [{"id": ids[0]}, {"id": "1"}]})
    assert r.status_code == 207 and r.json()["numErrors"] == 1
    assert post(sandbox, "/crm/v3/objects/deals/batch/read",
                {"inputs": [{"id": str(i)} for i in range(101)]}).status_code == 400


def test_v4_association_paging_big_company(sandbox):
    companies = control_records(sandbox, "companies")
    big_id, big = max(companies.items(), key=lambda kv: len(kv[1]["associations"].get("contacts", [])))
    expected = big["associations"]["contacts"]
    assert len(expected) > 600
    got, after, pages = [], None, 0
    while True:
        inp = {"id": big_id}
        if after:
            inp["after"] = after
        r = post(sandbox, "/crm/v4/associations/companies/contacts/batch/read", {"inputs": [inp]})
        assert r.status_code == 200
        res = r.json()["results"][0]
        assert len(res["to"]) <= 500
        got += [str(t["toObjectId"]) for t in res["to"]]
        pages += 1
        if "paging" not in res:
            break
        after = res["paging"]["next"]["after"]
    assert pages >= 2 and got == expected
    # symmetric: each contact sees the company
    contacts = control_records(sandbox, "contacts")
    assert all(big_id in contacts[c]["associations"]["companies"] for c in expected)
    # inputs without associations -> 207 NO_ASSOCIATIONS_FOUND
    r = post(sandbox, "/crm/v4/associations/companies/contacts/batch/read", {"inputs": [{"id": big_id}, {"id": "3"}]})
    assert r.status_code == 207 and r.json()["errors"][0]["context"]["fromObjectId"] == ["3"]
    # inline v3 associations capped at 500 with paging
    r = get(sandbox, f"/crm/v3/objects/companies/{big_id}", params={"associations": "contacts"}).json()
    assert r["associations"]["contacts"]["paging"]["next"]["after"]


def test_oauth_refresh_and_expiry(sandbox):
    form = {"grant_type": "refresh_token", "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret", "refresh_token": "sandbox-refresh-token"}
    r = sandbox.post(sandbox.base + "/oauth/v1/token", data=form)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 1
    assert tok["refresh_token"] != "sandbox-refresh-token"  # rotation on
    hdr = {"Authorization": f"Bearer {tok['access_token']}"}
    assert get(sandbox, "/crm/v3/objects/contacts", headers=hdr).status_code == 200
    # both old and new refresh tokens still work
    assert sandbox.post(sandbox.base + "/oauth/v1/token",
                        data=dict(form, refresh_token=tok["refresh_token"])).status_code == 200
    time.sleep(1.3)
    r = get(sandbox, "/crm/v3/objects/contacts", headers=hdr)
    assert r.status_code == 401
    j = r.json()
    assert j["category"] == "EXPIRED_AUTHENTICATION" and j["context"] == {}
    assert j["message"].startswith("The OAuth token used to make this call expired ")
    assert j["message"].endswith(" second(s) ago.")
    for field, status in (("client_id", "BAD_CLIENT_ID"), ("client_secret", "BAD_CLIENT_SECRET"),
                          ("refresh_token", "BAD_REFRESH_TOKEN")):
        r = sandbox.post(sandbox.base + "/oauth/v1/token", data=dict(form, **{field: "wrong"}))
        assert r.status_code == 400 and r.json()["status"] == status
    r = sandbox.post(sandbox.base + "/oauth/2026-03/token", data={k: v for k, v in form.items() if k != "grant_type"})
    assert r.status_code == 400 and r.json()["status"] == "BAD_GRANT_TYPE"


def test_missing_scopes(sandbox):
    sandbox.post(sandbox.base + "/_sandbox/config", json={"scopes": ["crm.objects.contacts.read"]})
    try:
        assert get(sandbox, "/crm/v3/objects/contacts").status_code == 200
        r = get(sandbox, "/crm/v3/objects/deals")
        assert r.status_code == 403
        j = r.json()
        assert j["category"] == "MISSING_SCOPES"
        assert j["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]
        r = post(sandbox, "/crm/v4/associations/contacts/deals/batch/read", {"inputs": [{"id": "100001"}]})
        assert r.status_code == 403
    finally:
        sandbox.post(sandbox.base + "/_sandbox/config", json={"scopes": None})
    assert get(sandbox, "/crm/v3/objects/deals").status_code == 200


def test_general_rate_limit_headers(sandbox):
    sandbox.post(sandbox.base + "/_sandbox/config", json={"general_rate": 3})
    try:
        rs = [get(sandbox, "/crm/v3/objects/tickets", params={"limit": 1}) for _ in range(4)]
        assert [r.status_code for r in rs] == [200, 200, 200, 429]
        assert rs[0].headers["X-HubSpot-RateLimit-Max"] == "3"
        assert rs[0].headers["X-HubSpot-RateLimit-Remaining"] == "2"
        assert rs[3].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    finally:
        sandbox.post(sandbox.base + "/_sandbox/config", json={"general_rate": 0})


def test_mutate_visible_in_list_and_search(sandbox):
    before = set(control_ids(sandbox, "contacts"))
    t0 = int(time.time() * 1000) - 1
    res = sandbox.post(sandbox.base + "/_sandbox/mutate",
                       json={"type": "contacts", "update": 3, "create": 2, "archive": 1}).json()
    assert len(res["updated"]) == 3 and len(res["created"]) == 2 and len(res["archived"]) == 1
    ids, _ = list_all(sandbox, "contacts")
    assert set(ids) == (before | set(res["created"])) - set(res["archived"])
    j = search(sandbox, "contacts", {"filterGroups": [{"filters": [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(t0)}]}], "limit": 100}).json()
    got = {x["id"] for x in j["results"]}
    assert got == (set(res["updated"]) | set(res["created"])) - set(res["archived"])
    rec = get(sandbox, f"/crm/v3/objects/contacts/{res['created'][0]}", params={"associations": "companies"}).json()
    assert rec["createdAt"] == rec["updatedAt"] and rec["associations"]["companies"]["results"]


# ------------------------------------------------------------------ quirks: HubSpot's hostile-but-legal answers
def set_quirks(s, quirks):
    r = s.post(f"{s.base}/_sandbox/config", json={"quirks": quirks})
    assert r.status_code == 200, r.text
    assert r.json()["quirks"] == (quirks or {})


def quirk_counts(s):
    return s.get(f"{s.base}/_sandbox/stats").json()["quirks"]


def follow_list(s, otype, limit=100, **params):
    """Every page of a listing, following paging.next.after; a cursor given before is asked for once more (the
    answer to a repeated cursor). -> (ids, pages, repeated cursors)."""
    ids, pages, given, repeats, after = [], [], set(), [], None
    while True:
        p = dict(params, limit=limit)
        if after:
            p["after"] = after
        r = get(s, f"/crm/v3/objects/{otype}", params=p)
        assert r.status_code == 200, r.text
        body = r.json()
        if "paging" in body and body["paging"]["next"]["after"] in given:
            repeats.append(body["paging"]["next"]["after"])
            assert len(repeats) < 5, repeats
            continue
        pages.append(body)
        ids += [x["id"] for x in body["results"]]
        if "paging" not in body:
            return ids, pages, repeats
        after = body["paging"]["next"]["after"]
        assert after not in given
        given.add(after)


def test_quirks_are_off_by_default_and_switchable(sandbox):
    assert sandbox.get(f"{sandbox.base}/_sandbox/config").json()["quirks"] == {}
    r = sandbox.post(f"{sandbox.base}/_sandbox/config", json={"quirks": {"empty_pages": "often"}})
    assert r.status_code == 400
    set_quirks(sandbox, {"empty_pages": 0.5})
    set_quirks(sandbox, None)
    ids, pages, _ = follow_list(sandbox, "contacts")
    assert ids == control_ids(sandbox, "contacts") and all(len(p["results"]) == 100 for p in pages[:-1])


@pytest.mark.parametrize("archived", ["false", "true"])
def test_quirk_empty_and_short_list_pages_still_give_every_record_once(sandbox, archived):
    truth = control_ids(sandbox, "contacts", "only" if archived == "true" else "exclude")
    limit = 100 if archived == "false" else 2
    set_quirks(sandbox, {"seed": 3, "empty_pages": {"rate": 0.3, "on": ["list"]}, "short_pages": {"rate": 0.3}})
    try:
        ids, pages, _ = follow_list(sandbox, "contacts", limit=limit, archived=archived)
    finally:
        set_quirks(sandbox, None)
    assert ids == truth
    with_next = [p for p in pages if "paging" in p]
    assert [p for p in with_next if p["results"] == []], "no empty page with a next cursor"
    assert [p for p in with_next if 0 < len(p["results"]) < limit], "no short page with a next cursor"


def _keyset_search_all(s, filters, limit):
    """The connector's way: hs_object_id GT the last id, sorted by it; an empty page is followed with its offset."""
    got, pages, last, after = [], [], None, None
    while True:
        key = [] if last is None else [{"propertyName": "hs_object_id", "operator": "GT", "value": str(last)}]
        body = {"filterGroups": [{"filters": filters + key}], "limit": limit,
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}
        if after is not None:
            body["after"] = after
        r = search(s, "contacts", body)
        assert r.status_code == 200, r.text
        j = r.json()
        pages.append(j)
        ids = [int(x["id"]) for x in j["results"]]
        got += ids
        if "paging" not in j:
            return got, pages
        if ids:
            last, after = ids[-1], None
        else:
            after = j["paging"]["next"]["after"]
            assert after.isdigit()


def test_quirk_empty_and_short_search_pages_continue_where_they_should_have(sandbox):
    records = control_records(sandbox, "contacts")
    lo, hi = "2023-06-01T00:00:00.000Z", "2025-06-01T00:00:00.000Z"
    expected = sorted(int(i) for i, r in records.items() if lo <= r["updatedAt"] <= hi)
    window = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": lo},
              {"propertyName": "lastmodifieddate", "operator": "LTE", "value": hi}]
    set_quirks(sandbox, {"seed": 11, "empty_pages": {"rate": 0.3, "size": 100}, "short_pages": 0.3})
    try:
        got, pages = _keyset_search_all(sandbox, window, 100)
        # an empty page's offset, sent back with the same filters, gives what the page hid
        empty_at = next(i for i, p in enumerate(pages) if p["results"] == [] and "paging" in p)
        assert pages[empty_at + 1]["results"]
        # offset paging through one query: every record once, total the number of matches on each page
        by_offset, after, totals = [], 0, set()
        while True:
            j = search(sandbox, "contacts", {"filterGroups": [{"filters": window}], "limit": 100, "after": after,
                                             "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]})
            j = j.json()
            totals.add(j["total"])
            by_offset += [int(x["id"]) for x in j["results"]]
            if "paging" not in j:
                break
            assert int(j["paging"]["next"]["after"]) > after
            after = int(j["paging"]["next"]["after"])
    finally:
        set_quirks(sandbox, None)
    assert got == expected and by_offset == expected and totals == {len(expected)}
    assert any(p["results"] == [] and "paging" in p for p in pages)
    assert any(0 < len(p["results"]) < 100 and "paging" in p for p in pages)
    counts = quirk_counts(sandbox)
    assert counts["empty_pages"] and counts["short_pages"]


def _read_all_with_retries(s, path, ids, shape):
    """Batch-reads `ids`, asking again for the ids a 207 names as failed. -> (results, rounds)."""
    results, todo, rounds = [], list(ids), 0
    while todo:
        rounds += 1
        assert rounds < 10
        r = post(s, path, {"inputs": [{"id": i} for i in todo]})
        assert r.status_code in (200, 207), r.text
        j = r.json()
        assert j["status"] == "COMPLETE" and "startedAt" in j and "completedAt" in j
        results += j["results"]
        todo = []
        if r.status_code == 207:
            assert j["numErrors"] == len(j["errors"])
            for e in j["errors"]:
                shape(e)
                if e["category"] == "INTERNAL_ERROR":
                    assert e["status"] == "error" and e["message"] and list(e["context"]) == ["ids"]
                    todo += e["context"]["ids"]
    return results, rounds


def test_quirk_partial_batch_errors_objects_fail_then_succeed_on_retry(sandbox):
    ids = control_ids(sandbox, "contacts")[:100]
    set_quirks(sandbox, {"seed": 2, "partial_batch_errors": {"rate": 0.2, "failures": 2}})
    try:
        first = post(sandbox, "/crm/v3/objects/contacts/batch/read", {"inputs": [{"id": i} for i in ids]})
        assert first.status_code == 207
        j = first.json()
        assert set(j) == {"status", "results", "numErrors", "errors", "startedAt", "completedAt"}
        failed = j["errors"][0]["context"]["ids"]
        assert j["errors"][0]["category"] == "INTERNAL_ERROR" and 5 <= len(failed) <= 40
        assert not set(failed) & {x["id"] for x in j["results"]} and len(failed) + len(j["results"]) == 100
        results, rounds = _read_all_with_retries(sandbox, "/crm/v3/objects/contacts/batch/read", failed,
                                                 lambda e: None)
        assert rounds == 2 and sorted(x["id"] for x in results + j["results"]) == sorted(ids)
        set_quirks(sandbox, {"seed": 2, "partial_batch_errors": {"rate": 0.2, "failures": 10 ** 9}})
        for _ in range(3):
            r = post(sandbox, "/crm/v3/objects/contacts/batch/read", {"inputs": [{"id": i} for i in failed]})
            assert r.status_code == 207 and r.json()["results"] == []
            assert r.json()["errors"][0]["context"]["ids"] == failed
    finally:
        set_quirks(sandbox, None)


def test_quirk_partial_batch_errors_v4_associations_fail_then_succeed_on_retry(sandbox):
    companies = control_records(sandbox, "companies")
    set_quirks(sandbox, {"seed": 4, "partial_batch_errors": {"rate": 0.25}})
    try:
        seen_not_found = []

        def shape(e):
            if e["category"] == "OBJECT_NOT_FOUND":
                assert e["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND" and list(e["context"]) == [
                    "fromObjectId"]
                seen_not_found.extend(e["context"]["fromObjectId"])

        path = "/crm/v4/associations/companies/contacts/batch/read"
        results, rounds = _read_all_with_retries(sandbox, path, list(companies), shape)
    finally:
        set_quirks(sandbox, None)
    assert rounds == 2 and quirk_counts(sandbox)["partial_batch_errors"]
    got = {r["from"]["id"]: [str(t["toObjectId"]) for t in r["to"]] for r in results}
    assert len(got) == len(results)
    linked = {i: rec["associations"].get("contacts", []) for i, rec in companies.items()}
    assert set(got) == {i for i, lst in linked.items() if lst}
    assert sorted(seen_not_found) == sorted(i for i, lst in linked.items() if not lst)
    assert all(linked[i][:len(lst)] == lst for i, lst in got.items())


def test_quirk_repeat_cursor_on_list_pages_once(sandbox):
    truth = control_ids(sandbox, "contacts")
    set_quirks(sandbox, {"repeat_cursor": {"after_pages": 3, "back": 2}})
    try:
        ids, pages, repeats = follow_list(sandbox, "contacts")
        # the archived listing loops too (its own count)
        archived, _, archived_repeats = follow_list(sandbox, "contacts", limit=2, archived="true")
    finally:
        set_quirks(sandbox, None)
    assert len(repeats) == 1 and len(archived_repeats) == 1
    assert ids == truth and archived == control_ids(sandbox, "contacts", "only")
    assert quirk_counts(sandbox)["repeat_cursor"] >= 2


def test_quirk_repeat_cursor_on_v4_association_paging_once(sandbox):
    companies = control_records(sandbox, "companies")
    big_id, big = max(companies.items(), key=lambda kv: len(kv[1]["associations"].get("contacts", [])))
    sandbox.post(f"{sandbox.base}/_sandbox/config", json={"assoc_page_size": 100})
    set_quirks(sandbox, {"repeat_cursor": {"after_pages": 2}})
    try:
        got, given, after, loops = [], set(), None, 0
        while True:
            inp = {"id": big_id, **({"after": after} if after else {})}
            res = post(sandbox, "/crm/v4/associations/companies/contacts/batch/read", {"inputs": [inp]}).json()
            res = res["results"][0]
            nxt = res.get("paging", {}).get("next", {}).get("after")
            if nxt in given:  # the loop: a cursor given before; asking again gives the right one
                loops += 1
                assert nxt == after and loops == 1
                continue
            got += [str(t["toObjectId"]) for t in res["to"]]
            if nxt is None:
                break
            given.add(nxt)
            after = nxt
    finally:
        set_quirks(sandbox, None)
        sandbox.post(f"{sandbox.base}/_sandbox/config", json={"assoc_page_size": 500})
    assert loops == 1 and got == big["associations"]["contacts"]


def test_quirk_list_disorder_block_serves_a_run_of_ids_last(sandbox):
    truth = control_ids(sandbox, "contacts")
    set_quirks(sandbox, {"seed": 5, "list_disorder_block": {"share": 0.03}})
    try:
        ids, pages, _ = follow_list(sandbox, "contacts")
        again, _, _ = follow_list(sandbox, "contacts", limit=37)
    finally:
        set_quirks(sandbox, None)
    assert sorted(ids, key=int) == truth and len(set(ids)) == len(ids) and again == ids
    for page in pages:
        page_ids = [int(x["id"]) for x in page["results"]]
        assert page_ids == sorted(page_ids)
    drops = [i for i in range(1, len(ids)) if int(ids[i]) < int(ids[i - 1])]
    assert len(drops) == 1
    block = ids[drops[0]:]
    assert len(block) == round(len(truth) * 0.03)
    first = truth.index(block[0])
    assert truth[first:first + len(block)] == block and first + len(block) <= len(truth) // 2
    assert ids[:drops[0]] == [i for i in truth if i not in set(block)]


def test_search_total_counts_the_window_with_limit_1_and_the_lag(sandbox):
    records = control_records(sandbox, "tickets")
    ids = sorted(int(i) for i in records)
    lo_id, hi_id = ids[5], ids[-5]
    lo, hi = "2023-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z"
    lo_ms, hi_ms = 1672531200000, 1735689600000
    expected = [i for i, r in records.items() if lo_id < int(i) < hi_id and lo <= r["updatedAt"] <= hi]
    assert 5 < len(expected) < len(records)
    for when in ([lo, hi], [str(lo_ms), str(hi_ms)]):
        filters = [{"propertyName": "hs_object_id", "operator": "GT", "value": str(lo_id)},
                   {"propertyName": "hs_object_id", "operator": "LT", "value": str(hi_id)},
                   {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": when[0]},
                   {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": when[1]}]
        for extra in ({}, {"sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}):
            j = search(sandbox, "tickets", {"filterGroups": [{"filters": filters}], "limit": 1, **extra}).json()
            assert j["total"] == len(expected) and len(j["results"]) == 1 and j["paging"]["next"]["after"] == "1"
            assert j["results"][0]["id"] in expected
    everything = {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "0"}]}],
                  "limit": 1}
    assert search(sandbox, "tickets", everything).json()["total"] == len(records)
    sandbox.post(f"{sandbox.base}/_sandbox/config", json={"search_lag_seconds": 60})
    try:
        changed = sandbox.post(f"{sandbox.base}/_sandbox/mutate", json={"type": "tickets", "update": 3}).json()
        j = search(sandbox, "tickets", everything).json()
        assert j["total"] == len(records) - 3
        page = search(sandbox, "tickets", dict(everything, limit=200)).json()
        assert len(page["results"]) == j["total"] and not set(changed["updated"]) & {x["id"] for x in page["results"]}
    finally:
        sandbox.post(f"{sandbox.base}/_sandbox/config", json={"search_lag_seconds": 0})
    assert search(sandbox, "tickets", everything).json()["total"] == len(records)


def test_archiving_keeps_the_modification_date_and_sets_archived_at(sandbox):
    generated = control_records(sandbox, "deals", "only")
    assert generated and all(r["properties"]["hs_lastmodifieddate"] == r["updatedAt"] <= r["archivedAt"]
                             for r in generated.values())
    assert any(r["updatedAt"] < r["archivedAt"] for r in generated.values())
    before = control_records(sandbox, "deals")
    t0 = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    res = sandbox.post(f"{sandbox.base}/_sandbox/mutate", json={"type": "deals", "archive": 2, "seed": 3}).json()
    assert len(res["archived"]) == 2
    after = control_records(sandbox, "deals", "only")
    for i in res["archived"]:
        assert after[i]["archived"] is True and after[i]["archivedAt"] >= t0
        assert after[i]["updatedAt"] == before[i]["updatedAt"]
        assert after[i]["properties"]["hs_lastmodifieddate"] == before[i]["properties"]["hs_lastmodifieddate"]
    listed, _ = list_all(sandbox, "deals", archived="true")
    assert set(res["archived"]) <= set(listed)


def test_mutate_future_updated_puts_records_in_2099(sandbox):
    for otype, mod in (("contacts", "lastmodifieddate"), ("deals", "hs_lastmodifieddate")):
        res = sandbox.post(f"{sandbox.base}/_sandbox/mutate",
                           json={"type": otype, "future_updated": 3, "seed": 8}).json()
        assert len(res["future_updated"]) == 3
        for i in res["future_updated"]:
            rec = get(sandbox, f"/crm/v3/objects/{otype}/{i}").json()
            assert rec["updatedAt"].startswith("2099-") and rec["properties"][mod] == rec["updatedAt"]
        j = search(sandbox, otype, {"filterGroups": [{"filters": [
            {"propertyName": mod, "operator": "GTE", "value": "2099-01-01T00:00:00.000Z"}]}], "limit": 1}).json()
        assert j["total"] == 3 and j["results"][0]["id"] in res["future_updated"]
