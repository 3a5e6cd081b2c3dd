"""The record caster's per-value casts: HubSpot's text values to numbers, booleans, datetimes and dates.

Each cast returns None for a value it cannot cast, as for a blank one; the caster's loops tell them apart
(`_is_blank`), emit both as null, and count the first kind (casting.HubspotRecordCaster). The C loop
(source_hubspot/_casts.c) inlines their usual cases and calls these for the rest.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Optional, Set

import orjson

# int() and str() refuse integers of more than 4,300 digits (sys.get_int_max_str_digits); longer ones go by parts.
_DIGITS_AT_ONCE = 4000


def _int_of_digits(digits: str) -> int:
    """The int of a text of ASCII digits, exactly, however many."""
    if len(digits) <= _DIGITS_AT_ONCE:
        return int(digits)
    low = len(digits) // 2
    return _int_of_digits(digits[:-low]) * 10**low + _int_of_digits(digits[-low:])


def _digits_of_int(number: int) -> str:
    """str() of an int, however many digits it has."""
    try:
        return str(number)
    except ValueError:
        high, low = divmod(abs(number), 10**_DIGITS_AT_ONCE)
        return ("-" if number < 0 else "") + _digits_of_int(high) + str(low).zfill(_DIGITS_AT_ONCE)


# orjson writes integers of 64 bits at most (signed, or unsigned); the caster keeps longer ones exact.
_ORJSON_INTS = range(-(2**63), 2**64)


def exact_big_ints(value: Any) -> Any:
    """`value` with every integer orjson cannot write replaced by an orjson.Fragment of its exact digits (dicts and
    lists walked and copied; anything else as it is). run.py writes a record that way when orjson refused it."""
    if type(value) is dict:
        return {key: exact_big_ints(item) for key, item in value.items()}
    if type(value) is list:
        return [exact_big_ints(item) for item in value]
    if type(value) is int and value not in _ORJSON_INTS:
        return orjson.Fragment(_digits_of_int(value))
    return value


def _is_blank(value: Any) -> bool:
    """A text of whitespace only (or none): a value the casts turn to null without counting it."""
    return isinstance(value, str) and (not value or str.isspace(value))


def _finite_float(text: str) -> Optional[float]:
    """The float of a text float() reads; None for any other text, and for nan, inf or beyond a float's range."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number - number == 0.0 else None


def _cast_number(value: Any) -> Any:
    """An integer literal (a sign perhaps, ASCII digits) to the int of exactly that value, however long; any other
    text float() reads to a float (an int when int() reads it too, as "1_000"); None for blank text, numbers that are
    not finite and anything else."""
    if type(value) is str:
        if len(value) < 19 and value.isdigit() and value.isascii():  # the common case: an integer of 18 digits at most
            return int(value)
        text = value.strip()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if value - value == 0 else None  # not nan or inf
    else:
        text = str(value).strip()
    if not text:
        return None
    if "." in text:  # a decimal, HubSpot's other usual number
        return _finite_float(text)
    unsigned = text[1:] if text[0] in "+-" else text
    if unsigned.isdigit() and unsigned.isascii():
        number = _int_of_digits(unsigned)
        return -number if text[0] == "-" else number
    number = _finite_float(text)
    if number is None:
        return None
    if number.is_integer() and "e" not in text.lower():
        try:
            return int(text)  # digits with underscores, or of another script: exact too
        except ValueError:
            pass
    return number


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_BOOLEANS = {**{text: True for text in _TRUE}, **{text: False for text in _FALSE}}


def _cast_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    known = _BOOLEANS.get(value) if type(value) is str else None  # HubSpot's own "true" / "false"
    if known is not None:
        return known
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# Epoch-millisecond datetimes (some HubSpot properties, such as hs_lastmodifieddate, come that way) are formatted
# from a cache of days and tables of digits: time.gmtime and %-formatting per value were a third of the caster's time.
_DAYS: Dict[int, str] = {}
_DAYS_CACHED = 100_000
_TWO_DIGITS = tuple("%02d" % n for n in range(100))
_THREE_DIGITS = tuple("%03d" % n for n in range(1000))
_CLOCK = tuple("%02d:%02d" % divmod(minute, 60) for minute in range(1440))  # "HH:MM" of each minute of a day


def _day(days: int) -> Optional[str]:
    """'YYYY-MM-DD' (UTC) of a count of days since 1970-01-01, from the cache; None past the years 1 to 9999."""
    day = _DAYS.get(days)
    if day is None:
        try:
            moment = _EPOCH + timedelta(days=days)
        except OverflowError:
            return None
        day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        if len(_DAYS) < _DAYS_CACHED:
            _DAYS[days] = day
    return day


_EPOCH = datetime(1970, 1, 1)
# Epoch millis of the years 1 to 9999 (what ISO 8601 text and Python's datetime can tell); others are not datetimes.
_EPOCH_MILLIS = range(-62_135_596_800_000, 253_402_300_800_000)


def _is_epoch_text(text: str) -> bool:
    """Epoch millis as HubSpot writes them: ASCII digits, perhaps a minus sign. (isdigit alone lets through digits
    int() refuses, such as "²"; and int() refuses 4,300+ digits.)"""
    return len(text) <= 20 and text.isascii() and (text.isdigit() or (text.startswith("-") and text[1:].isdigit()))


def _datetime_of_epoch_millis(text: str) -> Optional[str]:
    """'1704067200123' -> '2024-01-01T00:00:00.123Z' for a text `_is_epoch_text` accepts; None past the years 1 to
    9999."""
    millis = int(text)
    if millis not in _EPOCH_MILLIS:
        return None
    seconds, millis = divmod(millis, 1000)
    days, second = divmod(seconds, 86400)
    day = _DAYS.get(days) or _day(days)
    if day is None:
        return None
    minute, second = divmod(second, 60)
    return f"{day}T{_CLOCK[minute]}:{_TWO_DIGITS[second]}.{_THREE_DIGITS[millis]}Z"


def _fromisoformat_takes_z() -> bool:
    try:
        datetime.fromisoformat("2000-01-01T00:00:00Z")
    except ValueError:  # Python 3.10
        return False
    return True


_FROMISOFORMAT_TAKES_Z = _fromisoformat_takes_z()


def _fromisoformat(text: str) -> Optional[datetime]:
    """datetime.fromisoformat of the text, a final Z read as +00:00; None where it refuses it."""
    if text[-1:] == "Z" and not _FROMISOFORMAT_TAKES_Z:
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None


# ISO 8601 as the casts take it: a calendar or week date (extended or basic), then perhaps a time after a T (or a
# space, as RFC 3339 allows), with a fraction of its last part, and an offset or Z. datetime.fromisoformat alone
# also reads texts that are not ISO 8601 (since Python 3.11, any character between date and time: 5,000 digits
# are a datetime); it then checks the calendar and the clock.
_ISO_8601 = re.compile(
    r"\d{4}(?:-\d{2}-\d{2}|\d{4}|-W\d{2}(?:-\d)?|W\d{2}\d?)"
    r"(?:[T ]\d{2}(?:[.,]\d+|:?\d{2}(?:[.,]\d+|:?\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)?)?",
    re.ASCII,
)


def _iso_moment(text: str) -> Optional[datetime]:
    """The datetime of an ISO 8601 date or datetime (`_ISO_8601`, read by datetime.fromisoformat); None for any
    other text. A valid value of a HubSpot datetime property is such a text, or epoch millis."""
    return _fromisoformat(text) if _ISO_8601.fullmatch(text) is not None else None


# The casts' cheap path for HubSpot's usual datetimes ('YYYY-MM-DDTHH:MM:SS.fffZ', 'YYYY-MM-DDTHH:MM:SSZ') and dates:
# fromisoformat alone, where the length and the separators tell the text is ISO 8601 if fromisoformat reads it at all
# (it reads "10:00:00:123" too). unit_tests/test_caster.py checks that it judges texts of those shapes as the
# pattern and fromisoformat do.
_read_usual = datetime.fromisoformat if _FROMISOFORMAT_TAKES_Z else _fromisoformat
# The valid 'YYYY-MM-DD' texts met (dates repeat from record to record, a set lookup is the cheapest test), up to:
_VALID_DATES: Set[str] = set()
_VALID_DATES_CACHED = 100_000


def _cast_moment(
    value: Any, of_epoch: Callable[[str], Optional[str]], of_iso: Callable[[str, datetime], str]
) -> Optional[str]:
    """The slow path of the datetime and date casts: None for blank text; epoch millis (`_is_epoch_text`) through
    `of_epoch`; an ISO 8601 text (`_iso_moment`) through `of_iso`; None for anything else."""
    text = str(value).strip()
    if not text:
        return None
    if _is_epoch_text(text):
        return of_epoch(text)
    moment = _iso_moment(text)
    return None if moment is None else of_iso(text, moment)


def _date_of_epoch_millis(text: str) -> Optional[str]:
    """'YYYY-MM-DD' (UTC) of epoch millis `_is_epoch_text` accepts; None past the years 1 to 9999."""
    millis = int(text)
    return _day(millis // 86_400_000) if millis in _EPOCH_MILLIS else None


def _cast_datetime(value: Any) -> Any:
    """An ISO 8601 datetime or date (`_iso_moment`) as it is, stripped; epoch millis to ISO 8601 in UTC; None for
    blank text and anything else."""
    if (
        type(value) is str and (len(value) == 24 and value[19] == "." or len(value) == 20) and value[10] == "T"
        and value[-1] == "Z" and value[13] == ":" and value[16] == ":"
    ):
        try:
            if _read_usual(value) is not None:
                return value  # as search and list answers give most datetimes
        except (ValueError, OverflowError):
            pass
    return _cast_moment(value, _datetime_of_epoch_millis, lambda text, moment: text)


def _cast_date(value: Any) -> Any:
    """YYYY-MM-DD: of a date or a datetime in ISO 8601 (`_iso_moment`; the datetime's own day, not converted to
    UTC), of epoch millis (UTC); None for blank text and anything else."""
    if type(value) is str:
        if value in _VALID_DATES:
            return value
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            try:
                _read_usual(value)
            except (ValueError, OverflowError):
                pass
            else:
                if len(_VALID_DATES) < _VALID_DATES_CACHED:
                    _VALID_DATES.add(value)
                return value  # a valid YYYY-MM-DD, as HubSpot sends dates
    return _cast_moment(value, _date_of_epoch_millis, lambda text, moment: moment.date().isoformat())


def _cast_string(value: Any) -> Any:
    return value if isinstance(value, str) else (None if value is None else str(value))
