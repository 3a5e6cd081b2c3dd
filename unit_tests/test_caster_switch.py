"""SOURCE_HUBSPOT_C_CASTER=0 makes the record caster cast with its Python loop, even where the C loop is built."""

from __future__ import annotations

from typing import Any, List

import pytest

from source_hubspot.components import casting
from source_hubspot.components.casting import HubspotRecordCaster
from source_hubspot.components.schema import build_object_schema

SCHEMA = build_object_schema([{"name": "amount", "type": "number"}, {"name": "done", "type": "bool"}], [])


@pytest.fixture
def c_loop_calls(monkeypatch) -> List[Any]:
    """Stands in for the C loop (built or not here) and records each record it is asked to cast."""
    calls: List[Any] = []

    def c_loop(record, values, table, known, names, entries, failed):
        calls.append(record["id"])
        return HubspotRecordCaster._cast_loop(record, values, table, failed)

    monkeypatch.setattr(casting, "_native_cast_properties", c_loop)
    return calls


@pytest.mark.parametrize("switch, by_c", [(None, True), ("1", True), ("0", False), (" 0 ", False)])
def test_given_the_c_caster_switch_when_a_record_is_cast_then_the_loop_it_names_casts_it(monkeypatch, c_loop_calls, switch, by_c):
    if switch is None:
        monkeypatch.delenv("SOURCE_HUBSPOT_C_CASTER", raising=False)
    else:
        monkeypatch.setenv("SOURCE_HUBSPOT_C_CASTER", switch)
    record = {"id": "1", "properties": {"amount": "12", "done": "true"}}
    HubspotRecordCaster(parameters={"name": "contacts"}).transform(record, SCHEMA)
    assert c_loop_calls == (["1"] if by_c else [])
    assert record == {"id": "1", "properties": {"amount": 12, "done": True}, "properties_amount": 12, "properties_done": True}


def test_given_the_c_caster_switched_off_when_casters_are_made_then_no_missing_build_is_reported(monkeypatch, caplog):
    monkeypatch.setenv("SOURCE_HUBSPOT_C_CASTER", "0")
    monkeypatch.setattr(casting, "_native_cast_properties", None)
    monkeypatch.setattr(casting, "_NATIVE_MISSING_LOGGED", [])
    with caplog.at_level("WARNING", logger="airbyte"):
        HubspotRecordCaster(parameters={"name": "contacts"})
    assert not [r for r in caplog.records if "source_hubspot._casts" in r.getMessage()]
