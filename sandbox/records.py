"""A generated record (Rec) and how a property's value is read from one: values are not stored but derived from the
record's hash and the property's pool, with the control plane's changes in an overlay dict."""
from __future__ import annotations

from typing import Any, Dict, Optional, Union

from sandbox.properties import FIRST, K_CREATED, K_DOMAIN, K_EMAIL, K_ID, K_POOL, K_UPDATED, LAST, WORDS, PropSpec
from sandbox.values import GOLD, M64, iso_ms, parse_instant


class Rec:
    """One record: its id, hash, dates and archived flag; `ov` holds the values the control plane changed."""

    __slots__ = ("id", "sid", "base", "created", "updated", "created_iso", "updated_iso", "archived",
                 "archived_iso", "ov", "vis")

    def __init__(self, rid: int, base: int, created: int, updated: int) -> None:
        self.id = rid
        self.sid = str(rid)
        self.base = base
        self.set_created(created)
        self.set_updated(updated)
        self.archived = False
        self.archived_iso: Optional[str] = None
        self.ov: Optional[Dict[str, Any]] = None
        self.vis = 0  # wall ms of the last control-plane mutation (search index lag)

    def set_created(self, ms: int) -> None:
        self.created = ms
        self.created_iso = iso_ms(ms)

    def set_updated(self, ms: int) -> None:
        self.updated = ms
        self.updated_iso = iso_ms(ms)


def prop_value(rec: Rec, spec: PropSpec) -> Any:
    """The value a read returns (None: empty)."""
    ov = rec.ov
    if ov is not None and spec.name in ov:
        return ov[spec.name]
    k = spec.kind
    if k == K_POOL:
        h = ((rec.base ^ spec.salt) * GOLD) & M64
        h ^= h >> 29
        if (h & 255) < spec.null_thr:
            return None
        return spec.pool[(h >> 8) % spec.npool]
    if k == K_ID:
        return rec.sid
    if k == K_UPDATED:
        return rec.updated_iso
    if k == K_CREATED:
        return rec.created_iso
    h = ((rec.base ^ spec.salt) * GOLD) & M64
    h ^= h >> 29
    if (h & 255) < spec.null_thr:
        return None
    if k == K_EMAIL:
        return f"{FIRST[(h >> 8) % 20].lower()}.{LAST[(h >> 16) % 20].lower()}.{rec.id}@example{(h >> 24) % 50}.com"
    if k == K_DOMAIN:
        return f"{WORDS[(h >> 8) % 20]}{rec.id % 100000}.example.com"
    return None


def typed_value(rec: Rec, spec: PropSpec) -> Union[int, float, str, None]:
    """Comparable value used by search (None for missing)."""
    k = spec.kind
    ov = rec.ov
    if ov is None or spec.name not in ov:
        if k == K_ID:
            return rec.id
        if k == K_UPDATED:
            return rec.updated
        if k == K_CREATED:
            return rec.created
    raw = prop_value(rec, spec)
    return convert_value(spec, raw)


def convert_value(spec: PropSpec, raw: Any) -> Union[int, float, str, None]:
    """`raw` in the property's comparison domain (number, epoch ms or lower-case text); None when it has none."""
    if raw is None:
        return None
    c = spec.cmp
    if c == "number":
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None
    if c == "instant":
        return parse_instant(raw)
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    return str(raw).lower()

