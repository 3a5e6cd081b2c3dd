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
