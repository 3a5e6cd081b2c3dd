"""The proxy and CA-bundle environment is read once per host, not on every request, and still obeyed."""

from __future__ import annotations

import requests

from source_hubspot import speedups


def _fresh(monkeypatch):
    monkeypatch.setattr(speedups, "_ENVIRONMENT_ANSWERS", {})
    walks = []
    original = requests.sessions.get_environ_proxies
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", lambda *a, **k: walks.append(a) or original(*a, **k))
    return walks


def test_given_proxy_variables_when_requests_are_sent_then_the_environment_is_read_once_per_host_and_obeyed(monkeypatch):
    walks = _fresh(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = requests.Session()
    settings = [session.merge_environment_settings(f"https://api.hubapi.com/crm/v3/objects/contacts?after={n}", {}, None, None, None)
                for n in range(5)]
    # Without the speed-ups (SOURCE_HUBSPOT_SPEEDUPS=0), requests reads the environment for every request.
    per_request = not speedups.enabled()
    assert all(s["proxies"]["https"] == "http://proxy.internal:3128" for s in settings)
    assert len(walks) == (5 if per_request else 1)
    local = session.merge_environment_settings("http://127.0.0.1:8765/crm/v3/objects/contacts", {}, None, None, None)
    assert "http" not in local["proxies"] and "https" not in local["proxies"]  # NO_PROXY still decides per host
    assert len(walks) == (6 if per_request else 2)
    settings[0]["proxies"]["https"] = "changed by a caller"
    assert session.merge_environment_settings("https://api.hubapi.com/x", {}, None, None, None)["proxies"]["https"] == (
        "http://proxy.internal:3128"
    )


def test_given_a_request_with_its_own_proxies_or_other_settings_when_merged_then_it_is_answered_afresh(monkeypatch):
    walks = _fresh(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/custom-ca.pem")
    session = requests.Session()
    url = "https://api.hubapi.com/crm/v3/objects/deals"
    assert session.merge_environment_settings(url, {}, None, None, None)["verify"] == "/etc/custom-ca.pem"
    assert session.merge_environment_settings(url, {}, None, False, None)["verify"] is False
    own = session.merge_environment_settings(url, {"https": "http://mine:1"}, None, None, None)
    assert own["proxies"]["https"] == "http://mine:1"
    assert len(walks) == 3
