"""Rate limiting: a sliding-window counter per key, in this process.

The interface (`hit`, `reset`) is all the routes use, so a shared store (Redis) can
replace this class for several workers."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, attempts: int, seconds: int, clock=time.monotonic) -> None:
        self._attempts = attempts
        self._seconds = seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, *keys: str) -> int | None:
        """Record one attempt under every key. Returns None when allowed, else the
        seconds to wait (for Retry-After). A refused attempt is not recorded."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key in keys:
                window = self._hits.setdefault(key, deque())
                while window and window[0] <= now - self._seconds:
                    window.popleft()
                if len(window) >= self._attempts:
                    wait = max(wait, window[0] + self._seconds - now)
            if wait > 0:
                return max(1, math.ceil(wait))
            for key in keys:
                self._hits[key].append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
