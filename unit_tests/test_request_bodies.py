"""Request bodies the connector builds per request reach HubSpot as built, without the CDK copying them."""

from __future__ import annotations

import copy
import json

import requests
from airbyte_cdk.utils.mapping_helpers import combine_mappings

from source_hubspot.components import BodyList


def test_given_a_body_list_when_the_cdk_merges_request_options_then_it_is_handed_on_without_a_copy():
    names = BodyList(f"property_{i}" for i in range(400))
    inputs = BodyList({"id": str(i)} for i in range(200))
    body = {"properties": names, "inputs": inputs, "filterGroups": [{"filters": []}]}
    merged = combine_mappings([body, None, {}], allow_same_value_merge=True)
    assert merged["properties"] is names and merged["inputs"] is inputs
    assert merged["filterGroups"] is not body["filterGroups"]  # a plain list is still copied, as the CDK does
    assert copy.deepcopy(names) is names


def test_given_a_body_list_when_sent_then_the_json_is_a_plain_array():
    body = {"properties": BodyList(["email", "firstname"]), "inputs": BodyList([{"id": "1"}])}
    sent = requests.Request("POST", "http://127.0.0.1/crm/v3/objects/contacts/search", json=body).prepare()
    assert json.loads(sent.body) == {"properties": ["email", "firstname"], "inputs": [{"id": "1"}]}
