"""The record caster: HubSpot's string property values cast to the schema's types, `properties_<name>` added.

The per-property loop runs in C (source_hubspot/_casts.c) where it is built, else in Python (`_cast_loop`, the
reference the C loop is tested against). SOURCE_HUBSPOT_C_CASTER=0 makes the caster use the Python loop even where
the C loop is built (benchmarks compare the two that way).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.utils.transform import TransformConfig, TypeTransformer

from source_hubspot.components.schema import flat_column
from source_hubspot.components.values import (
    _BOOLEANS,
    _cast_bool,
    _cast_date,
    _cast_datetime,
    _cast_number,
    _cast_string,
    _is_blank,
)

logger = logging.getLogger("airbyte")


def caster_for(schema: Mapping[str, Any]) -> Callable[[Any], Any]:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "number" in types or "integer" in types:
        return _cast_number
    if "boolean" in types:
        return _cast_bool
    if schema.get("format") == "date-time":
        return _cast_datetime
    if schema.get("format") == "date":
        return _cast_date
    return _cast_string


# The caster's loop in C (source_hubspot/_casts.c), built by setup.py where a C compiler is found; without it the
# Python loop (`HubspotRecordCaster._cast_loop`, the reference the C loop is tested against) does the same work.
try:
    from source_hubspot._casts import cast_properties as _native_cast_properties
except ImportError:  # pragma: no cover - depends on the build
    _native_cast_properties = None

# SOURCE_HUBSPOT_C_CASTER=0 switches the C loop off: records are cast by the Python loop (benchmarks/caster.py and
# the performance benchmark compare the two this way). Read when a caster is made.
C_CASTER_SWITCH = "SOURCE_HUBSPOT_C_CASTER"


def c_caster_switched_on() -> bool:
    return os.environ.get(C_CASTER_SWITCH, "1").strip() != "0"


# What the C loop recognises (their usual cases inline, anything else through the function), in its order.
_NATIVE_KNOWN = (_cast_number, _cast_bool, _cast_datetime, _cast_date, _BOOLEANS, flat_column)

# Per cast: the HubSpot type and what its values must be, for the log line of values that could not be cast.
_UNCAST_WORDS: Dict[Any, Tuple[str, str]] = {
    _cast_number: ("number", "numbers"),
    _cast_bool: ("bool", "booleans (true, false, yes, no, 1 or 0)"),
    _cast_datetime: ("datetime", "ISO 8601 datetimes or epoch milliseconds"),
    _cast_date: ("date", "ISO 8601 dates or epoch milliseconds"),
}
_NATIVE_MISSING_LOGGED: List[bool] = []  # said once per process
# A schema's plan is made again from a record whose names are not in its order, at most this many times.
_NATIVE_REPLANS = 16


class _SchemaCasts:
    """Per property of one schema: its caster (None for strings) and its flat column; and the plan of the C loop:
    the table's entries in the order records name them."""

    def __init__(self, table: Dict[str, Tuple[Optional[Callable[[Any], Any]], str]]) -> None:
        self.table = table
        # (names, their table entries): one tuple, replaced whole, as records threads read it concurrently.
        self.plan: Tuple[Tuple[Any, ...], Tuple[Any, ...]] = ((), ())
        self.replans = 0

    def cast_natively(self, record: Dict[str, Any], values: Dict[str, Any], failed: List[Any]) -> None:
        """The C loop over the record's properties; the names of the values it could not cast are added to `failed`.
        Its plan says which table entry each place holds, so a record with the names in the plan's order needs no
        lookup by name; any other name is looked up, and the plan is made again from this record (at most
        `_NATIVE_REPLANS` times: records of alternating orders are cast correctly either way)."""
        names, entries = self.plan
        unplanned = _native_cast_properties(record, values, self.table, _NATIVE_KNOWN, names, entries, failed)
        if unplanned and self.replans < _NATIVE_REPLANS:
            self.replans += 1
            names = tuple(values)
            self.plan = (names, tuple(map(self.table.get, names)))


class HubspotRecordCaster(TypeTransformer):
    """Casts HubSpot's string property values to the schema's types and adds `properties_<name>` columns.

    CDK type that nearly fits: TypeTransformer with DefaultSchemaNormalization, which validates every record with
    jsonschema (DESIGN.md section 5 measured ~10x the CPU per wide record); here a per-property caster table is
    built once per schema and applied in place: by the C loop of source_hubspot/_casts.c where it is built (and
    not switched off with SOURCE_HUBSPOT_C_CASTER=0), else by the same loop in Python (`_cast_loop`); both give the
    same records. Top-level nulls are left out, as the emitted record would leave them out.
    """

    config: Mapping[str, Any]
    parameters: Mapping[str, Any]
    absent_as_null: bool

    def __init__(
        self,
        config: Optional[Mapping[str, Any]] = None,
        parameters: Optional[Mapping[str, Any]] = None,
        absent_as_null: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(TransformConfig.NoTransform)
        # The manifest's streams ask HubSpot for every property of their schema. HubSpot's answers name each one, null
        # when it has no value; its published documents let such a property be left out. With `absent_as_null` a
        # property of the schema that an answer left out is null in the record, so both answers give one record.
        self._absent_as_null = bool(absent_as_null)
        self._stream = str((parameters or {}).get("name") or "")
        self._casters: Dict[int, _SchemaCasts] = {}
        self._c_loop = c_caster_switched_on()
        if self._c_loop and _native_cast_properties is None and not _NATIVE_MISSING_LOGGED:
            _NATIVE_MISSING_LOGGED.append(True)
            logger.warning(
                "source_hubspot._casts (the record caster in C) is not built, so records are cast in Python: a read "
                "of wide records takes about 1.5 times the CPU. Reinstall the connector where a C compiler and the "
                "Python headers are present (for example `apt-get install gcc python3-dev`, then "
                "`pip install --force-reinstall .`)."
            )

    def _casters_for(self, schema: Mapping[str, Any]) -> _SchemaCasts:
        """Built once per schema."""
        key = id(schema)
        casts = self._casters.get(key)
        if casts is None:
            nested = ((schema.get("properties") or {}).get("properties") or {}).get("properties") or {}
            table = {}
            for name, prop_schema in nested.items():
                cast = caster_for(prop_schema)
                table[name] = (None if cast is _cast_string else cast, flat_column(name))
            casts = self._casters[key] = _SchemaCasts(table)
        return casts

    def transform(self, record: Dict[str, Any], schema: Mapping[str, Any]) -> None:  # type: ignore[override]
        casts = self._casters_for(schema)
        if None in record.values():  # before the flat columns (which are never null) are added
            for key in [key for key, value in record.items() if value is None]:
                del record[key]
        values = record.get("properties")
        if isinstance(values, dict):
            if self._absent_as_null and len(values) < len(casts.table):
                for name in casts.table:
                    if name not in values:
                        values[name] = None
            failed: List[Any] = []
            if self._c_loop and _native_cast_properties is not None:
                casts.cast_natively(record, values, failed)
            else:
                self._cast_loop(record, values, casts.table, failed)
            if failed:
                self._count_uncast(failed, casts.table)
        if "id" in record and not isinstance(record["id"], str):
            record["id"] = str(record["id"])

    def _count_uncast(self, failed: List[Any], table: Mapping[str, Tuple[Optional[Callable[[Any], Any]], str]]) -> None:
        """Counts a record's values that could not be cast (now null) for the sync report, and logs the first of each
        property in the run. The value itself is never logged: it may be personal data."""
        from source_hubspot.progress import UncastValues

        for name in failed:
            if UncastValues.add(self._stream, str(name)):
                cast = (table.get(name) or (None, ""))[0]
                kind, expected = _UNCAST_WORDS.get(cast, ("its type", "of that type"))
                logger.warning(
                    f"{self._stream or 'a stream'}: property {name} has values HubSpot types as {kind} that are not "
                    f"{expected}; they are emitted as null and counted in the sync report"
                )

    @staticmethod
    def _cast_loop(record: Dict[str, Any], values: Dict[str, Any], table: Mapping[str, Tuple[Optional[Callable[[Any], Any]], str]], failed: List[Any]) -> None:
        # One pass: cast in place (re-assigning existing keys while iterating is allowed) and add the flat column of
        # each value that is set; a null column is left out of the emitted record anyway. A value a cast turns to
        # null that was not blank could not be cast: its name is added to `failed`.
        for name, value in values.items():
            if value is None:
                continue
            cast, column = table.get(name) or (None, flat_column(name))  # a property the schema lacks: a string
            if cast is not None:
                cast_value = values[name] = cast(value)
                if cast_value is None:
                    if not _is_blank(value):
                        failed.append(name)
                    continue
                value = cast_value
            elif type(value) is not str:
                value = values[name] = str(value)  # HubSpot sends strings; anything else becomes one
            record[column] = value
