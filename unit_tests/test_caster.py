"""The record caster: HubSpot's string values become the schema's types, and `properties_<name>` columns appear."""

from __future__ import annotations

from source_hubspot.components import HubspotRecordCaster, build_object_schema


def _schema():
    properties = [
        {"name": "amount", "type": "number"},
        {"name": "is_vip", "type": "bool"},
        {"name": "closedate", "type": "datetime"},
        {"name": "birthday", "type": "date"},
        {"name": "city", "type": "string"},
        {"name": "stage", "type": "enumeration"},
        {"name": "odd", "type": "a_type_hubspot_adds_later"},
    ]
    return build_object_schema(properties, ["companies"])


def _cast(values):
    record = {"id": 101, "properties": dict(values)}
    HubspotRecordCaster().transform(record, _schema())
    return record


def test_given_string_values_when_cast_then_each_gets_its_schema_type():
    record = _cast({"amount": "1200", "is_vip": "true", "closedate": "2024-03-01T10:00:00.000Z",
                    "birthday": "1990-05-17", "city": "Lyon", "stage": "closedwon", "odd": "x"})
    assert record["properties"] == {"amount": 1200, "is_vip": True, "closedate": "2024-03-01T10:00:00.000Z",
                                    "birthday": "1990-05-17", "city": "Lyon", "stage": "closedwon", "odd": "x"}
    assert record["id"] == "101"


def test_given_numbers_when_cast_then_ints_floats_and_junk_are_told_apart():
    values = {"": None, " ": None, "12.50": 12.5, "-3": -3, "1e3": 1000.0, "abc": None, "9007199254740993": 9007199254740992.0,
              "1_000": 1000.0, " 42 ": 42}
    for text, expected in values.items():
        assert _cast({"amount": text})["properties"]["amount"] == expected, text


def test_given_epoch_millis_when_cast_then_datetimes_and_dates_become_iso():
    record = _cast({"closedate": "1704067200000", "birthday": "1704067200000", "is_vip": "no"})
    assert record["properties"]["closedate"] == "2024-01-01T00:00:00.000Z"
    assert record["properties"]["birthday"] == "2024-01-01"
    assert record["properties"]["is_vip"] is False


def test_given_nested_values_when_cast_then_flat_columns_carry_the_same_cast_values():
    record = _cast({"amount": "7", "city": None, "unknown_new_property": 5})
    assert record["properties_amount"] == 7
    # A null value stays in `properties`; its flat column is left out, as the emitted record would drop it.
    assert record["properties"]["city"] is None and "properties_city" not in record
    # A property the schema does not know yet still gets its column, as a string.
    assert record["properties_unknown_new_property"] == "5"
    assert record["properties"]["unknown_new_property"] == "5"
