"""The record caster: HubSpot's string values become the schema's types, and `properties_<name>` columns appear."""

from __future__ import annotations

import pytest

from source_hubspot import speedups
from source_hubspot.components import casting as components
from source_hubspot.components import values as value_casts
from source_hubspot.components.casting import HubspotRecordCaster
from source_hubspot.components.schema import build_object_schema
from source_hubspot.progress import UncastValues

NATIVE = components._native_cast_properties


@pytest.fixture(params=["native", "python"])
def caster_path(request, monkeypatch):
    """Each caster test runs through the C loop (source_hubspot/_casts.c) and through the Python one."""
    if request.param == "native" and NATIVE is None:
        pytest.skip("source_hubspot._casts is not built here (no C compiler?)")
    if request.param == "python":
        monkeypatch.setattr(components, "_native_cast_properties", None)
    return request.param


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


def _fresh_caster():
    """A new caster, the test schema, its casts and its property names."""
    schema = _schema()
    caster = HubspotRecordCaster()
    casts = caster._casters_for(schema)
    return caster, schema, casts, list(casts.table)


def _cast(values):
    record = {"id": 101, "properties": dict(values)}
    HubspotRecordCaster().transform(record, _schema())
    return record


@pytest.mark.usefixtures("caster_path")
def test_given_string_values_when_cast_then_each_gets_its_schema_type():
    record = _cast({"amount": "1200", "is_vip": "true", "closedate": "2024-03-01T10:00:00.000Z",
                    "birthday": "1990-05-17", "city": "Lyon", "stage": "closedwon", "odd": "x"})
    assert record["properties"] == {"amount": 1200, "is_vip": True, "closedate": "2024-03-01T10:00:00.000Z",
                                    "birthday": "1990-05-17", "city": "Lyon", "stage": "closedwon", "odd": "x"}
    assert record["id"] == "101"


@pytest.mark.usefixtures("caster_path")
def test_given_numbers_when_cast_then_ints_floats_and_junk_are_told_apart():
    values = {"": None, " ": None, "12.50": 12.5, "-3": -3, "1e3": 1000.0, "abc": None, "9007199254740993": 9007199254740993,
              "1_000": 1000, " 42 ": 42}
    for text, expected in values.items():
        assert _cast({"amount": text})["properties"]["amount"] == expected, text


@pytest.mark.usefixtures("caster_path")
def test_given_epoch_millis_when_cast_then_datetimes_and_dates_become_iso():
    record = _cast({"closedate": "1704067200000", "birthday": "1704067200000", "is_vip": "no"})
    assert record["properties"]["closedate"] == "2024-01-01T00:00:00.000Z"
    assert record["properties"]["birthday"] == "2024-01-01"
    assert record["properties"]["is_vip"] is False


@pytest.mark.usefixtures("caster_path")
def test_given_nested_values_when_cast_then_flat_columns_carry_the_same_cast_values():
    record = _cast({"amount": "7", "city": None, "unknown_new_property": 5})
    assert record["properties_amount"] == 7
    # A null value stays in `properties`; its flat column is left out, as the emitted record would drop it.
    assert record["properties"]["city"] is None and "properties_city" not in record
    # A property the schema does not know yet still gets its column, as a string.
    assert record["properties_unknown_new_property"] == "5"
    assert record["properties"]["unknown_new_property"] == "5"


@pytest.mark.usefixtures("caster_path")
def test_given_epoch_millis_across_the_calendar_when_cast_then_each_equals_the_datetime_modules_answer():
    # The caster formats from a cache of days; the datetime module is the independent answer.
    import random
    from datetime import datetime, timedelta, timezone

    rng = random.Random(5)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    samples = [0, -1, 999, 1000, 86_399_999, 86_400_000, -86_400_001, 951_782_400_000, 253_402_300_799_999]
    samples += [rng.randint(-62_135_596_800_000, 253_402_300_799_999) for _ in range(3000)]
    for millis in samples:
        moment = epoch + timedelta(milliseconds=millis)
        record = _cast({"closedate": str(millis), "birthday": str(millis)})["properties"]
        day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        assert record["closedate"] == f"{day}T{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}Z", millis
        assert record["birthday"] == day, millis


@pytest.mark.usefixtures("caster_path")
def test_given_digits_int_refuses_when_cast_as_dates_then_they_are_null_and_nothing_raises():
    # "²" and "١٢" pass str.isdigit(); they are not epoch millis. Nor are 5,000 digits (int() refuses over 4,300).
    record = _cast({"closedate": "²", "birthday": "١٢", "amount": "²"})["properties"]
    assert record == {"closedate": None, "birthday": None, "amount": None}
    long = "1" * 5000
    assert _cast({"closedate": long, "birthday": long})["properties"] == {"closedate": None, "birthday": None}


@pytest.mark.usefixtures("caster_path")
def test_given_numbers_when_cast_then_integers_stay_ints_and_decimals_floats():
    values = {"0": 0, "7": 7, "123456789012345": 123456789012345, "1234567890123456": 1234567890123456,
              "12.0": 12.0, "60191.28": 60191.28, "-0.5": -0.5, "1E3": 1000.0}
    for text, expected in values.items():
        cast = _cast({"amount": text})["properties"]["amount"]
        assert cast == expected and type(cast) is type(expected), text
    assert _cast({"amount": 5})["properties"]["amount"] == 5  # a non-string value HubSpot might send one day


@pytest.mark.usefixtures("caster_path")
def test_given_boolean_texts_when_cast_then_known_words_become_booleans_and_the_rest_null():
    values = {"true": True, "false": False, "TRUE": True, " yes": True, "0": False, "1": True, "No": False, "maybe": None}
    for text, expected in values.items():
        assert _cast({"is_vip": text})["properties"]["is_vip"] is expected, text


@pytest.mark.usefixtures("caster_path")
def test_given_top_level_nulls_when_cast_then_they_are_left_out():
    # The emitted record leaves top-level nulls out; the caster, the last step before emission, already does.
    caster = HubspotRecordCaster(parameters={"name": "a_cast_stream"})
    record = {"id": "7", "archivedAt": None, "archived": False, "companies": None, "properties": {"city": None, "amount": "3"}}
    caster.transform(record, _schema())
    assert record == {"id": "7", "archived": False, "properties": {"city": None, "amount": 3}, "properties_amount": 3}


# ---------------------------------------------------------------------------------------------------- random values
_TEXTS = ["", " ", "0", "1", "7", "-3", "12.50", "1e3", "1E3", "1.5e3", " 3.25 ", ".", "1.2.3", "+4.5", "60191.28", "abc", "true", "false", "TRUE", " yes", "no", "maybe",
          "²", "١٢", "1_000", " 42 ", "123456789012345", "1234567890123456", "9007199254740993", "1704067200000",
          "-86400001", "1704067200123", "253402300800000", "99999999999999999", "1" * 5000, "2024-03-01", "2024-03-01T10:00:00.000Z", "2024-03-01 10:00", "2024/03/01", "x" * 12, "ünïcode"]
# Values that cannot be cast to some type, and texts near HubSpot's usual forms that are valid or not.
_GARBAGE = ["not a date", "2024-13-45T99:00:00Z", "2024-02-30", "2023-02-29", "2024-02-29", "0000-01-01", "9999-12-31",
            "2024-03-01T24:00:00Z", "2024-03-01T23:59:60Z", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123456Z",
            "2024-03-01T10:00:00.1234Z", "2024-03-01T10:00:00.12Z", "2024-03-01T10:00:00.123+01:00", "2024-03-01T1a:00:00Z",
            "2024-03-01T10:00:00.12aZ", "2024-03-01X10:00:00.000Z", "2024-3-01", "2024-03-0１", "20240301T100000Z", "2024-W10-1",
            "9999-12-31T23:59:59.999Z", "253402300799999", "-62135596800001", "-62135596800000", "nan", "inf", "-Infinity",
            "1e999", "1.5e999", "-1.5e999", "12345678901234567890", "-12345678901234567890", "+9007199254740993", "+", "-",
            "\t", "\u3000", " \n ", "0x10", "1,5", "yes please", "Nope", "2024-03-01T10:00:00.000z"]


def _random_values(rng, names):
    values = {}
    for name in names:
        roll = rng.random()
        if roll < 0.15:
            values[name] = None
        elif roll < 0.2:
            values[name] = rng.choice([5, 2.5, True])
        elif roll < 0.35:  # epoch millis across the calendar, and decimals
            values[name] = str(rng.randint(0, 253_402_300_799_999)) if roll < 0.3 else f"{rng.uniform(-1e6, 1e6):.{rng.randint(1, 4)}f}"
        elif roll < 0.7:
            values[name] = rng.choice(_TEXTS)
        else:
            values[name] = rng.choice(_GARBAGE)
    return values


# ---------------------------------------------------------------------------------------------------- the C loop
needs_native = pytest.mark.skipif(NATIVE is None, reason="source_hubspot._casts is not built here (no C compiler?)")


class _Text(str):
    """A str subclass: neither loop takes it for a text as HubSpot sends it."""


def _python_cast(values, table, failed=None):
    record = {"id": "1", "properties": dict(values)}
    HubspotRecordCaster._cast_loop(record, record["properties"], table, [] if failed is None else failed)
    return record


def _assert_same(got, expected, values):
    assert got == expected, values
    assert list(got) == list(expected), values  # the same columns, in the same order
    assert all(type(got[k]) is type(expected[k]) for k in expected), values
    assert all(type(got["properties"][k]) is type(expected["properties"][k]) for k in values), values


@needs_native
def test_given_any_values_and_any_plan_when_cast_by_the_c_loop_then_records_equal_the_python_loops():
    # Every place either matches the plan (its entry is taken) or is looked up; the record is the same either way,
    # and the count of places off the plan is 0 only when the names and their order are the plan's.
    import random

    table = HubspotRecordCaster()._casters_for(_schema()).table
    known = components._NATIVE_KNOWN
    rng = random.Random(17)
    names = [*table, "not_in_schema", 7]  # a property the schema lacks, and a key that is not a text
    for _ in range(300):
        order = rng.sample(names, rng.randint(1, len(names)))
        values = _random_values(rng, order)
        for name in rng.sample(order, 2 if len(order) > 1 else 1):
            values[name] = rng.choice([_Text("2024-03-01"), _Text("12"), _Text("true"), 3, 4.5, False])
        plan_order = rng.choice([order, order[::-1], order[:-1], [*order, "extra"], [], rng.sample(names, len(order))])
        plan_names = tuple(plan_order)
        plan_entries = tuple(map(table.get, plan_names))
        record, failed, expected_failed = {"id": "1", "properties": dict(values)}, [], []
        unplanned = NATIVE(record, record["properties"], table, known, plan_names, plan_entries, failed)
        _assert_same(record, _python_cast(values, table, expected_failed), values)
        assert failed == expected_failed, values
        assert (unplanned == 0) == (list(plan_order) == order), (plan_order, order)


@needs_native
def test_given_epoch_millis_of_up_to_18_digits_when_cast_by_the_c_loop_then_each_equals_the_python_formatting():
    import random

    table = {"d": (components._cast_datetime, "properties_d")}
    rng = random.Random(23)
    samples = ["0", "1", "999", "1000", "86399999", "86400000", "951782400000", "951868800000", "4102444800000",
               "253402300799999", "253402300800000", "999999999999999", "999999999999999999", "000000000000000001"]
    samples += [str(rng.randrange(10 ** rng.randint(1, 18))) for _ in range(20000)]
    for text in samples:
        record, failed = {"properties": {"d": text}}, []
        NATIVE(record, record["properties"], table, components._NATIVE_KNOWN, (), (), failed)
        expected = components._cast_datetime(text)  # None past the year 9999
        if expected is None:
            assert record == {"properties": {"d": None}} and failed == ["d"], text
        else:
            assert record == {"properties": {"d": expected}, "properties_d": expected} and failed == [], text
    assert components._cast_datetime("253402300799999") == "9999-12-31T23:59:59.999Z"


@needs_native
def test_given_usual_values_from_a_parsed_body_when_cast_by_the_c_loop_then_no_cast_function_is_called():
    # HubSpot's usual texts are cast in C: integers, decimals, boolean words, ISO datetimes and dates, epoch millis.
    import orjson

    called = []

    def recorder(name):
        return lambda value: called.append((name, value))

    number, boolean, datetime_, date = (recorder(n) for n in ("number", "bool", "datetime", "date"))
    table = {"amount": (number, "properties_amount"), "price": (number, "properties_price"),
             "is_vip": (boolean, "properties_is_vip"), "closedate": (datetime_, "properties_closedate"),
             "modified": (datetime_, "properties_modified"), "birthday": (date, "properties_birthday"),
             "city": (None, "properties_city")}
    known = (number, boolean, datetime_, date, components._BOOLEANS, components.flat_column)
    values = orjson.loads(b'{"amount": "1200", "price": "60191.28", "is_vip": "false", "closedate": "2024-03-01T10:00:00.000Z",'
                          b' "modified": "1704067200123", "birthday": "1990-05-17", "city": "Lyon"}')
    record = {"id": "1", "properties": values}
    assert NATIVE(record, values, table, known, (), (), []) == len(values)  # no plan: every place looked up
    assert called == []
    assert values == {"amount": 1200, "price": 60191.28, "is_vip": False, "closedate": "2024-03-01T10:00:00.000Z",
                      "modified": "2024-01-01T00:00:00.123Z", "birthday": "1990-05-17", "city": "Lyon"}
    assert record["properties_modified"] == "2024-01-01T00:00:00.123Z" and record["properties_price"] == 60191.28
    # Anything else goes to the cast function, as the Python loop would call it.
    record = {"properties": {"amount": " 7", "is_vip": "maybe", "closedate": "2024-03-01", "birthday": "1704067200000"}}
    NATIVE(record, record["properties"], table, known, (), (), [])
    assert sorted(called) == [("bool", "maybe"), ("date", "1704067200000"), ("datetime", "2024-03-01"), ("number", " 7")]
    # Texts of the usual shape but not valid, or of another ISO 8601 form, go to the function too.
    called.clear()
    odd = {"closedate": "2024-13-45T99:00:00Z", "modified": "2024-03-01T10:00:00+01:00", "birthday": "2024-02-30",
           "amount": "12345678901234567890", "price": "1.5e999"}
    record = {"properties": dict(odd)}
    NATIVE(record, record["properties"], table, known, (), (), [])
    assert sorted(called) == sorted([("datetime", odd["closedate"]), ("datetime", odd["modified"]), ("date", odd["birthday"]),
                                     ("number", odd["amount"])])  # "1.5e999": float() in C, not finite: None


@needs_native
def test_given_the_c_loop_when_it_casts_then_it_keeps_no_reference_it_should_not_and_leaks_nothing():
    import gc
    import sys
    import tracemalloc

    import orjson

    table = HubspotRecordCaster()._casters_for(_schema()).table
    known = components._NATIVE_KNOWN
    body = (b'{"amount": "1200", "is_vip": "true", "closedate": "1704067200123", "birthday": "1990-05-17",'
            b' "city": "Lyon", "stage": null, "odd": "x", "amount2": "1.5", "new": 5}')
    values = orjson.loads(body)
    city, column = values["city"], table["city"][1]
    city_refs, column_refs = sys.getrefcount(city), sys.getrefcount(column)
    record = {"properties": values}
    NATIVE(record, values, table, known, (), (), [])
    # The text is now held by `properties` and by its flat column: one reference more, no other.
    assert sys.getrefcount(city) == city_refs + 1 and sys.getrefcount(column) == column_refs + 1
    del record, values
    assert sys.getrefcount(city) == city_refs - 1 and sys.getrefcount(column) == column_refs
    names = tuple(orjson.loads(body))
    plan = (names, tuple(map(table.get, names)))

    def cast_many(count):
        for _ in range(count):
            values = orjson.loads(body)
            NATIVE({"properties": values}, values, table, known, *plan, [])

    cast_many(2000)
    gc.collect()
    tracemalloc.start()
    try:
        cast_many(100)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        cast_many(20000)  # a leak of one small object a record would be ~600 KB here
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 50_000, grown


@needs_native
def test_given_a_cast_that_raises_or_wrong_arguments_when_the_c_loop_runs_then_python_gets_the_error():
    def broken(value):
        raise RuntimeError(f"cannot cast {value}")

    table = {"a": (broken, "properties_a")}
    with pytest.raises(RuntimeError, match="cannot cast 1"):
        NATIVE({}, {"a": "1"}, table, components._NATIVE_KNOWN, (), (), [])
    with pytest.raises(TypeError, match="cast_properties"):
        NATIVE({}, {"a": "1"}, table, components._NATIVE_KNOWN[:3], (), (), [])
    with pytest.raises(TypeError, match="cast_properties"):
        NATIVE({}, {"a": "1"}, table, components._NATIVE_KNOWN, ("a",), (), [])
    with pytest.raises(TypeError, match="cast_properties"):
        NATIVE({}, {"a": "1"}, table, components._NATIVE_KNOWN, (), ())  # no list for the failed names
    with pytest.raises(TypeError, match="cast_properties"):
        NATIVE({}, {"a": "1"}, table, components._NATIVE_KNOWN, (), (), ())


@needs_native
def test_given_records_in_one_order_then_in_changing_orders_when_cast_then_the_plan_follows_up_to_its_limit():
    import random
    import threading

    caster, schema, casts, names = _fresh_caster()
    rng = random.Random(29)

    def cast_and_check(order, rng=rng):
        values = _random_values(rng, order)
        record = {"id": 5, "properties": dict(values)}
        caster.transform(record, schema)
        expected = _python_cast(values, casts.table, [])
        expected["id"] = "5"
        _assert_same(record, expected, values)

    for _ in range(50):
        cast_and_check(names)
    assert casts.replans == 1 and casts.plan[0] == tuple(names)  # made once, from the first record
    for shift in range(1, 40):  # every record in another order: cast right, the plan remade at most 16 times
        cast_and_check(names[shift % len(names):] + names[:shift % len(names)])
    assert casts.replans == components._NATIVE_REPLANS
    # Threads casting records of different orders at once (the plan is replaced whole, never half).
    casts.replans = 0
    errors = []

    def worker(seed):
        local = random.Random(seed)
        try:
            for _ in range(300):
                cast_and_check(names[seed:] + names[:seed] if local.random() < 0.5 else names[::-1], local)
        except AssertionError as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_given_no_c_loop_when_casters_are_made_then_the_log_says_so_once_with_the_fix(monkeypatch, caplog):
    monkeypatch.setattr(components, "_native_cast_properties", None)
    monkeypatch.setattr(components, "_NATIVE_MISSING_LOGGED", [])
    with caplog.at_level("WARNING", logger="airbyte"):
        HubspotRecordCaster(parameters={"name": "contacts"})
        HubspotRecordCaster(parameters={"name": "deals"})
    said = [r.getMessage() for r in caplog.records if "source_hubspot._casts" in r.getMessage()]
    assert len(said) == 1 and "C compiler" in said[0] and "pip install" in said[0]
    # Records are still cast, by the Python loop.
    record = {"id": 1, "properties": {"amount": "12"}}
    HubspotRecordCaster().transform(record, _schema())
    assert record == {"id": "1", "properties": {"amount": 12}, "properties_amount": 12}


# ---------------------------------------------------------------------------------------------------- exact integers
@pytest.mark.usefixtures("caster_path")
def test_given_integers_beyond_2_to_the_53_when_cast_then_they_are_ints_of_exactly_their_digits():
    long = "9" * 5000  # past int()'s 4,300 digits
    values = {"9007199254740993": 9007199254740993, "12345678901234567890": 12345678901234567890,
              "-12345678901234567890": -12345678901234567890, "+9007199254740993": 9007199254740993,
              " 123456789012345678901234567890 ": 123456789012345678901234567890, "000000000000000000001": 1,
              long: value_casts._int_of_digits(long), "-" + long: -value_casts._int_of_digits(long)}
    for text, expected in values.items():
        cast = _cast({"amount": text})["properties"]["amount"]
        assert type(cast) is int and cast == expected, text[:30]
    assert value_casts._digits_of_int(value_casts._int_of_digits(long)) == long
    assert UncastValues.by_stream() == {}


def test_given_a_record_with_integers_past_64_bits_when_printed_then_the_line_has_their_exact_digits(monkeypatch):
    import json

    from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

    import source_hubspot.run as run_module

    long = "7" * 5000
    data = {"id": "1", "properties": {"amount": 123456789012345678901234567890, "huge": -value_casts._int_of_digits(long),
                                      "small": 12345678901234567890, "list": [2**64, None]},
            "properties_amount": 123456789012345678901234567890, "archivedAt": None}
    message = AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="contacts", data=data, emitted_at=1))
    for as_bytes in (False, True):
        monkeypatch.setattr(run_module._RecordBytes, "enabled", as_bytes)
        line = run_module._message_to_output(message)
        line = line.decode() if as_bytes else line
        assert line.startswith('{"type":"RECORD","record":{"stream":"contacts"')  # orjson's layout, as every record
        assert f'"huge":-{long},' in line and '"amount":123456789012345678901234567890,' in line
        parsed = json.loads(line.replace(f"-{long}", "0"))  # json.loads too refuses 5,000 digits
        assert parsed["record"]["data"] == {
            "id": "1", "properties": {"amount": 123456789012345678901234567890, "huge": 0, "small": 12345678901234567890,
                                      "list": [2**64, None]},
            "properties_amount": 123456789012345678901234567890}
    assert data["properties"]["huge"] == -value_casts._int_of_digits(long)  # the record itself is left as it was


def test_given_hubspot_numbers_past_64_bits_and_uncastable_values_when_read_then_lines_are_exact_and_counted_once(
    requests_mock, tmp_path, capsys, caplog
):
    # The real read path: the CLI, the manifest's caster, run.py's record lines, the warnings and the count.
    import json

    from airbyte_cdk.logger import PRINT_BUFFER

    from source_hubspot.run import run
    from testkit.connector import ONE_WINDOW, private_app_config
    from testkit.mock_server import contact, mock_contacts, search_page

    records = [contact(1, num_notes="123456789012345678901234567890"),
               contact(2, num_notes="abc", date_of_birth="not a date", hs_email_optout="maybe"),
               contact(3, num_notes="12.5.1", lastmodifieddate="2024-13-45T99:00:00Z")]
    mock_contacts(requests_mock, search=[{"json": search_page(records)}])
    config_path, catalog_path = tmp_path / "config.json", tmp_path / "catalog.json"
    config_path.write_text(json.dumps(private_app_config(**ONE_WINDOW)))
    catalog_path.write_text(json.dumps({"streams": [{
        "stream": {"name": "contacts", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}))

    with caplog.at_level("WARNING", logger="airbyte"):
        run(["read", "--config", str(config_path), "--catalog", str(catalog_path)])
    PRINT_BUFFER.flush()
    out = capsys.readouterr().out

    lines = [line for line in out.splitlines() if line.startswith("{") and json.loads(line)["type"] == "RECORD"]
    assert len(lines) == 3
    if speedups.enabled():  # run.py writes every record line in orjson's layout, digits as they are
        assert '"num_notes":123456789012345678901234567890,' in lines[0]
    # Without the speed-ups the CDK writes this record with json.dumps (another layout, and a warning): still exact.
    data = sorted((json.loads(line)["record"]["data"] for line in lines), key=lambda record: record["id"])
    assert data[0]["properties"]["num_notes"] == data[0]["properties_num_notes"] == 123456789012345678901234567890
    assert data[1]["properties"]["num_notes"] is None and "properties_num_notes" not in data[1]
    assert data[1]["properties"]["date_of_birth"] is None and data[1]["properties"]["hs_email_optout"] is None
    assert data[2]["properties"]["num_notes"] is None and data[2]["properties"]["lastmodifieddate"] is None
    assert data[2]["properties"]["date_of_birth"] == "1990-02-03"  # the usual values as they were
    warned = _warnings(caplog)  # the worker threads' log lines reach the logger's own stream, not capsys
    assert sorted(warned) == sorted([
        "contacts: property num_notes has values HubSpot types as number that are not numbers; they are emitted as "
        "null and counted in the sync report",
        "contacts: property date_of_birth has values HubSpot types as date that are not ISO 8601 dates or epoch "
        "milliseconds; they are emitted as null and counted in the sync report",
        "contacts: property hs_email_optout has values HubSpot types as bool that are not booleans (true, false, yes, "
        "no, 1 or 0); they are emitted as null and counted in the sync report",
        "contacts: property lastmodifieddate has values HubSpot types as datetime that are not ISO 8601 datetimes or "
        "epoch milliseconds; they are emitted as null and counted in the sync report",
    ])
    said = " ".join([out, *warned])
    assert not any(value in said for value in ("not a date", "maybe", "12.5.1", "2024-13-45"))
    assert UncastValues.by_stream() == {"contacts": 5}
    report = [json.loads(line)["log"]["message"] for line in out.splitlines() if line.startswith('{"type":"LOG"')]
    assert any("contacts" in message and "5 values" in message for message in report), report


# ---------------------------------------------------------------------------------------------------- uncastable values
def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if "emitted as null and counted" in r.getMessage()]


@pytest.mark.usefixtures("caster_path")
def test_given_uncastable_values_when_cast_then_they_are_null_counted_and_warned_once_per_stream_and_property(caplog):
    garbage = {"amount": "abc", "is_vip": "maybe", "closedate": "not a date", "birthday": "2024-02-30"}
    schema = _schema()
    contacts, deals = HubspotRecordCaster(parameters={"name": "contacts"}), HubspotRecordCaster(parameters={"name": "deals"})
    with caplog.at_level("WARNING", logger="airbyte"):
        records = []
        for caster, values in ((contacts, garbage), (contacts, {**garbage, "closedate": "2024-13-45T99:00:00Z"}),
                               (contacts, {"amount": "1e999", "city": "Lyon"}), (deals, {"amount": "NaN"})):
            record = {"id": "1", "properties": dict(values)}
            caster.transform(record, schema)
            records.append(record)
    for record in records:
        for name, value in record["properties"].items():
            assert value is None or name == "city", (name, value)
            assert ("properties_" + name in record) == (name == "city")
    assert UncastValues.by_stream() == {"contacts": 9, "deals": 1}
    said = _warnings(caplog)
    assert sorted(said) == sorted([
        "contacts: property amount has values HubSpot types as number that are not numbers; they are emitted as null "
        "and counted in the sync report",
        "contacts: property is_vip has values HubSpot types as bool that are not booleans (true, false, yes, no, 1 or "
        "0); they are emitted as null and counted in the sync report",
        "contacts: property closedate has values HubSpot types as datetime that are not ISO 8601 datetimes or epoch "
        "milliseconds; they are emitted as null and counted in the sync report",
        "contacts: property birthday has values HubSpot types as date that are not ISO 8601 dates or epoch "
        "milliseconds; they are emitted as null and counted in the sync report",
        "deals: property amount has values HubSpot types as number that are not numbers; they are emitted as null and "
        "counted in the sync report",
    ])
    # The values themselves are never logged: they may be personal data.
    assert not any(value in message for message in said for value in ("abc", "maybe", "not a date", "2024-", "1e999", "NaN"))


@pytest.mark.usefixtures("caster_path")
def test_given_blank_or_null_values_when_cast_then_they_are_null_and_not_counted(caplog):
    with caplog.at_level("WARNING", logger="airbyte"):
        for blank in ("", " ", "\t\n", "\u3000"):
            record = _cast({"amount": blank, "is_vip": blank, "closedate": blank, "birthday": blank, "city": None})
            assert record == {"id": "101", "properties": {"amount": None, "is_vip": None, "closedate": None,
                                                          "birthday": None, "city": None}}
    assert UncastValues.by_stream() == {} and _warnings(caplog) == []


@pytest.mark.usefixtures("caster_path")
def test_given_hubspots_usual_values_when_cast_then_they_are_as_before_and_nothing_is_counted(caplog):
    usual = {"amount": "123", "is_vip": "true", "closedate": "2024-05-01T10:00:00.123Z", "birthday": "2024-05-01",
             "city": "Lyon", "stage": "closedwon"}
    with caplog.at_level("WARNING", logger="airbyte"):
        record = _cast(usual)
        others = [_cast({"amount": "60191.28", "is_vip": "false", "closedate": "2024-05-01T10:00:00Z", "birthday": "1704067200000"}),
                  _cast({"amount": "-7", "is_vip": "0", "closedate": "1704067200123", "birthday": "2024-02-29"})]
    assert record["properties"] == {**usual, "amount": 123, "is_vip": True}
    assert record["properties"]["closedate"] is usual["closedate"]  # the very text, not a copy
    assert [o["properties"] for o in others] == [
        {"amount": 60191.28, "is_vip": False, "closedate": "2024-05-01T10:00:00Z", "birthday": "2024-01-01"},
        {"amount": -7, "is_vip": False, "closedate": "2024-01-01T00:00:00.123Z", "birthday": "2024-02-29"}]
    assert UncastValues.by_stream() == {} and _warnings(caplog) == []


@pytest.mark.usefixtures("caster_path")
def test_given_iso_8601_texts_beyond_the_usual_form_when_cast_then_datetimes_stay_and_dates_take_their_day():
    valid = {"2024-05-01T10:00:00+02:00": "2024-05-01", "2024-05-01 10:00": "2024-05-01", " 2024-05-01T23:30:00-05:00 ": "2024-05-01",
             "20240501T100000Z": "2024-05-01", "2024-05-01T10:00:00,5Z": "2024-05-01", "2024-05-01T10:00:00.1234567Z": "2024-05-01",
             "2024-05-01": "2024-05-01", "9999-12-31T23:59:59.999Z": "9999-12-31", "0001-01-01T00:00:00Z": "0001-01-01",
             "2024-05-01T10:00.5Z": "2024-05-01", "2024-W18-3": "2024-05-01"}
    for text, day in valid.items():
        assert _cast({"closedate": text, "birthday": text})["properties"] == {"closedate": text.strip(), "birthday": day}, text
    invalid = ["2024-13-45T99:00:00Z", "2024-02-30T00:00:00Z", "2023-02-29", "0000-01-01", "2024-05-01T24:00:00Z",
               "2024-05-01T10:00:00:123Z", "2024-05-01X10:00:00Z", "2024/05/01", "1" * 30, "253402300800000", "-62135596800001",
               "2024-05-01T10:00:00.123z", "tomorrow"]
    for text in invalid:
        assert _cast({"closedate": text, "birthday": text})["properties"] == {"closedate": None, "birthday": None}, text
    assert UncastValues.by_stream() == {"": 2 * len(invalid)}


def _near_usual(rng):
    """A usual datetime or date of HubSpot's with a few characters changed, added or taken out."""
    chars = list(rng.choice(["2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00Z", "2024-05-01", "2024-02-29T23:59:59.999Z"]))
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.8:
            chars[rng.randrange(len(chars))] = rng.choice("0123456789-:.,TZz +W١a\t")
        elif roll < 0.9:
            chars.insert(rng.randrange(len(chars)), rng.choice("0123456789:."))
        else:
            del chars[rng.randrange(len(chars))]
    return "".join(chars)


def test_given_usual_shapes_with_a_character_changed_when_cast_then_the_cheap_path_agrees_with_the_full_check():
    # The casts take HubSpot's usual texts on a cheap path; any other text (here: the same, padded with spaces) on
    # the full check (the ISO 8601 pattern, then fromisoformat). Both must judge every text alike.
    import random

    rng = random.Random(31)
    for _ in range(50000):
        text = _near_usual(rng)
        for cast in (components._cast_datetime, components._cast_date):
            assert cast(text) == cast(f" {text} "), (cast.__name__, text)


@needs_native
def test_given_garbage_values_when_cast_by_the_c_loop_then_records_and_failed_names_equal_the_python_loops():
    import random

    table = HubspotRecordCaster()._casters_for(_schema()).table
    rng = random.Random(37)
    names = list(table)
    counted = 0
    for _ in range(5000):
        values = {name: rng.choice(_GARBAGE + _TEXTS) if rng.random() < 0.5 else _near_usual(rng)
                  for name in rng.sample(names, rng.randint(1, len(names)))}
        record, failed, expected_failed = {"id": "1", "properties": dict(values)}, [], []
        NATIVE(record, record["properties"], table, components._NATIVE_KNOWN, (), (), failed)
        _assert_same(record, _python_cast(values, table, expected_failed), values)
        assert failed == expected_failed, values
        counted += len(failed)
    assert counted > 1000  # garbage was met, and counted alike
