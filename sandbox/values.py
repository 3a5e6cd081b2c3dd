"""What every generated value is made of: moments in epoch milliseconds (and their ISO form) and a 64-bit hash."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

M64 = (1 << 64) - 1
GOLD = 0x9E3779B97F4A7C15
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def mix64(x: int) -> int:
    x &= M64
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    x ^= x >> 31
    return x


def iso_ms(ms: int) -> str:
    dt = EPOCH + timedelta(milliseconds=ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_ms(ms_str: str) -> int:
    return int(ms_str)


def to_ms(dt: datetime) -> int:
    return int((dt - EPOCH) / timedelta(milliseconds=1))


def parse_instant(value: Any) -> Optional[int]:
    """Epoch millis (int / digit string) or ISO-8601 date/datetime -> epoch millis, None if unparseable."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip()
    if not s:
        return None
    if s.lstrip("-").isdigit():
        return int(s)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return to_ms(dt)


def now_ms() -> int:
    return int(time.time() * 1000)


def iso_now() -> str:
    return iso_ms(now_ms())


START_MS = to_ms(datetime(2022, 1, 1, tzinfo=timezone.utc))
END_CREATED_MS = to_ms(datetime(2024, 12, 31, 23, 59, 59, 999000, tzinfo=timezone.utc))
END_UPDATED_MS = to_ms(datetime(2025, 6, 1, tzinfo=timezone.utc))
FUTURE_MS = to_ms(datetime(2099, 1, 1, tzinfo=timezone.utc))  # mutate(future_updated=...): updatedAt in 2099
SAME_TS_MS = to_ms(datetime(2024, 6, 15, 12, 0, 0, 123000, tzinfo=timezone.utc))
