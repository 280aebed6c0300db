"""Rate limiting: a sliding-window counter per key.

`SlidingWindowLimiter` keeps its windows in this process: right for one worker.
With REDIS_URL set, `make_limiters` returns the Redis one (ratelimit_redis.py)
instead, so a limit holds across every worker. The routes see only `Limiter`."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from .errors import rate_limited
from .settings import Settings, parse_rate

# (attempts, seconds): a window's size, for the calls that do not use the limiter's own.
Rate = tuple[int, int]


class Limiter(Protocol):
    def hit(self, *keys: str, rate: Rate | None = None) -> int | None:
        """Record one attempt under every key: None when allowed, else the seconds
        to wait (Retry-After). A refused attempt is not recorded. `rate` replaces the
        limiter's own for these keys (a key must always be hit with the same rate)."""

    def reset(self) -> None:
        """Forget every window (test hooks only)."""


def enforce(limiter: Limiter, *keys: str, rate: Rate | None = None) -> None:
    """Record one attempt under `keys`, or refuse it: 429 with Retry-After."""
    wait = limiter.hit(*keys, rate=rate)
    if wait is not None:
        raise rate_limited(wait)


class SlidingWindowLimiter:
    def __init__(self, attempts: int, seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._attempts = attempts
        self._seconds = seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, *keys: str, rate: Rate | None = None) -> int | None:
        """Record one attempt under every key. Returns None when allowed, else the
        seconds to wait (for Retry-After). A refused attempt is not recorded."""
        attempts, seconds = rate or (self._attempts, self._seconds)
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key in keys:
                window = self._hits.setdefault(key, deque())
                while window and window[0] <= now - seconds:
                    window.popleft()
                if len(window) >= attempts:
                    wait = max(wait, window[0] + seconds - now)
            if wait > 0:
                return max(1, math.ceil(wait))
            for key in keys:
                self._hits[key].append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


def make_limiters(settings: Settings) -> tuple[Limiter, Limiter]:
    """The sign-in and refresh limiters: in Redis when REDIS_URL is set (shared by
    every worker), else in this process. Raises ConfigError when Redis is unreachable."""
    auth_rate = parse_rate(settings.rate_limit_auth)
    refresh_rate = parse_rate(settings.rate_limit_refresh)
    if not settings.redis_url:
        return SlidingWindowLimiter(*auth_rate), SlidingWindowLimiter(*refresh_rate)
    # Imported here so the single-process default never touches the redis package.
    from .ratelimit_redis import RedisSlidingWindowLimiter, connect

    client = connect(settings.redis_url)
    return (
        RedisSlidingWindowLimiter(client, "auth", *auth_rate),
        RedisSlidingWindowLimiter(client, "refresh", *refresh_rate),
    )
