"""HubSpot's rate limits as the sandbox applies them: searches per rolling second, other requests per rolling 10 s
(with HubSpot's X-HubSpot-RateLimit-* headers) and a daily count, each off at 0 (SandboxConfig)."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Deque, Dict

from sandbox.config import SandboxConfig
from sandbox.responses import ApiError, Headers, cid


class RollingWindow:
    def __init__(self) -> None:
        self.q: Deque[float] = deque()

    def count(self, now: float, width: float) -> int:
        q = self.q
        while q and q[0] <= now - width:
            q.popleft()
        return len(q)


def ten_secondly_body() -> Dict[str, Any]:
    return {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT", "correlationId": cid(), "policyName": "TEN_SECONDLY_ROLLING",
            "groupName": "api-product:sandbox"}


class RateLimits:
    """The windows and the daily count; `lock` is the app's state lock (the control plane resets them under it)."""

    def __init__(self, cfg: SandboxConfig, lock: threading.Lock) -> None:
        self.cfg = cfg
        self.lock = lock
        self.search_window = RollingWindow()
        self.general_window = RollingWindow()
        self.daily_count = 0

    def take(self, is_search: bool) -> Headers:
        """Counts the request against the limits (a 429 when one is used up); -> the rate limit headers."""
        cfg = self.cfg
        now = time.monotonic()
        with self.lock:
            if cfg.daily_limit and self.daily_count >= cfg.daily_limit:
                raise ApiError(429, {"status": "error", "message": "You have reached your daily limit.",
                                     "errorType": "RATE_LIMIT", "correlationId": cid(), "policyName": "DAILY",
                                     "groupName": "api-product:sandbox"}, self._daily_headers(0))
            if is_search:
                if cfg.search_rate and self.search_window.count(now, 1.0) >= cfg.search_rate:
                    raise ApiError(429, {"status": "error", "message": "You have reached your secondly limit.",
                                         "errorType": "RATE_LIMIT", "correlationId": cid(),
                                         "policyName": "SECONDLY"})
                self.search_window.q.append(now)
                self.daily_count += 1
                return []
            hdrs: Headers = []
            if cfg.general_rate:
                used = self.general_window.count(now, 10.0)
                if used >= cfg.general_rate:
                    h = [("X-HubSpot-RateLimit-Max", str(cfg.general_rate)),
                         ("X-HubSpot-RateLimit-Remaining", "0"),
                         ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")]
                    h += self._daily_headers(cfg.daily_limit - self.daily_count) if cfg.daily_limit else []
                    raise ApiError(429, ten_secondly_body(), h)
                self.general_window.q.append(now)
                hdrs = [("X-HubSpot-RateLimit-Max", str(cfg.general_rate)),
                        ("X-HubSpot-RateLimit-Remaining", str(cfg.general_rate - used - 1)),
                        ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")]
            self.daily_count += 1
            if cfg.daily_limit:
                hdrs += self._daily_headers(cfg.daily_limit - self.daily_count)
            return hdrs

    def _daily_headers(self, remaining: int) -> Headers:
        return [("X-HubSpot-RateLimit-Daily", str(self.cfg.daily_limit)),
                ("X-HubSpot-RateLimit-Daily-Remaining", str(max(0, remaining)))]

    def reset(self, general: bool = False, search: bool = False, daily: bool = False) -> None:
        """Starts windows (and the daily count) afresh; the caller holds the lock."""
        if general:
            self.general_window = RollingWindow()
        if search:
            self.search_window = RollingWindow()
        if daily:
            self.daily_count = 0
