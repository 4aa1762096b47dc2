"""A per-address limit on login attempts, on top of the per-account lock in services.auth.

The account lock stops guessing one password; this stops one address trying many accounts.
It lives in the server process (one process serves a clinic; several processes each keep
their own count, which still bounds the rate).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimited(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(f"too many attempts; try again in {retry_after_seconds} s")


class SlidingWindow:
    def __init__(self, limit: int, window_seconds: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count an attempt from ``key``, or raise RateLimited if it is over the limit."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                raise RateLimited(max(1, int(hits[0] + self.window - now) + 1))
            hits.append(now)
            if len(self._hits) > self.max_keys:  # forget idle addresses
                for idle in [
                    k for k, v in self._hits.items() if not v or v[-1] <= now - self.window
                ]:
                    del self._hits[idle]
