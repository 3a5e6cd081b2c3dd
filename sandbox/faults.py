"""Deterministic fault injection for API endpoints."""
from __future__ import annotations

import random
import threading
from typing import Any, Optional, Tuple


class Faults:
    """Configured from a dict like
    {"error_rate": 0.05, "reset_rate": 0.01, "timeout_rate": 0.01, "timeout_seconds": 30,
     "rate_limit_burst": {"every": 50, "length": 5, "headers": true}, "token_endpoint": false, "seed": 1}
    Draws are made from a single seeded RNG in call order, so a sequential client sees a reproducible
    fault sequence.
    """

    def __init__(self, spec: Optional[dict] = None) -> None:
        spec = dict(spec or {})
        self.spec = spec
        self.error_rate = float(spec.get("error_rate", 0) or 0)
        self.reset_rate = float(spec.get("reset_rate", 0) or 0)
        self.timeout_rate = float(spec.get("timeout_rate", 0) or 0)
        self.timeout_seconds = float(spec.get("timeout_seconds", 30) or 0)
        burst = spec.get("rate_limit_burst") or {}
        self.burst_every = int(burst.get("every", 0) or 0)
        self.burst_length = int(burst.get("length", 0) or 0)
        self.burst_headers = bool(burst.get("headers", True))
        self.token_endpoint = bool(spec.get("token_endpoint", False))
        self.rng = random.Random(spec.get("seed", 1))
        self.calls = 0
        self.lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self.error_rate or self.reset_rate or self.timeout_rate or
                    (self.burst_every and self.burst_length))

    def draw(self) -> Optional[Tuple[Any, ...]]:
        """-> None or one of ("burst", headers_bool), ("error", status), ("reset",), ("timeout", seconds)."""
        if not self.active:
            return None
        with self.lock:
            self.calls += 1
            if self.burst_every and self.burst_length:
                p = (self.calls - 1) % (self.burst_every + self.burst_length)
                if p >= self.burst_every:
                    return ("burst", self.burst_headers)
            r = self.rng.random()
            if r < self.error_rate:
                return ("error", self.rng.choice([500, 502, 503, 504]))
            r -= self.error_rate
            if r < self.reset_rate:
                return ("reset",)
            r -= self.reset_rate
            if r < self.timeout_rate:
                return ("timeout", self.timeout_seconds)
        return None
