"""Rate limiting in Redis: the same sliding window as SlidingWindowLimiter, shared by
every worker that points at the same REDIS_URL.

Each limited key is a sorted set of attempt times. One Lua script evicts, counts and
records for all keys of an attempt, so it is atomic: two workers can never both take
the last slot of a window. Times come from Redis (`TIME`), not from the workers, so
workers whose clocks disagree still share one window.

Keys are stored as SHA-256 digests: a window names an IP address or an email, and the
shared store has no need to hold either in clear.

A Redis that is down or slow must not hang sign-ins: connects and commands time out
after a second, a broken pooled connection is retried once at once (Redis restarted),
and the request then fails with 503 `server` (the SDK retries those with backoff)."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .errors import ApiError
from .settings import ConfigError

log = logging.getLogger("backend")

# Seconds. Redis answers in well under a millisecond on a healthy network; a second
# means it is gone, and the worker should say so rather than queue requests behind it.
TIMEOUT = 1.0
PREFIX = "auth-wasm:rl"

# KEYS: one sorted set per limited key. ARGV: attempts, window (microseconds), a member
# unique to this attempt. Returns 0 when the attempt is recorded, else the microseconds
# until the fullest window frees a slot. Same rules as SlidingWindowLimiter.hit: an
# attempt older than the window is forgotten; a refused attempt is not recorded.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local attempts = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= attempts then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
end
return 0
"""


def client_for(url: str) -> redis.Redis:
    """A client for REDIS_URL that gives up fast (not yet connected)."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=TIMEOUT,
        socket_timeout=TIMEOUT,
        # One immediate retry, for a pooled connection that a Redis restart broke;
        # the library's default (10 retries with backoff) would hold a request for
        # a minute when Redis is down.
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


def connect(url: str) -> redis.Redis:
    """A client for REDIS_URL, checked with a PING. Raises ConfigError (one line, no
    URL: it may hold a password) when the URL is malformed or Redis does not answer."""
    try:
        client = client_for(url)
        client.ping()
    except ValueError as exc:
        raise ConfigError(
            f"REDIS_URL is not a valid Redis URL ({exc.__class__.__name__}): use redis://host:port/db"
        ) from None
    except redis.RedisError as exc:
        raise ConfigError(
            f"REDIS_URL: Redis did not answer ({exc.__class__.__name__}): start it, or unset REDIS_URL "
            "to keep rate limits in this process (one worker only)"
        ) from None
    return client


def unavailable(exc: Exception) -> ApiError:
    # The class only: the message can name the host.
    log.error("rate limiter: Redis unavailable (%s)", exc.__class__.__name__)
    return ApiError(503, "server", "Temporarily unavailable: try again shortly", headers={"Retry-After": "5"})


class RedisSlidingWindowLimiter:
    def __init__(self, client: redis.Redis, name: str, attempts: int, seconds: int) -> None:
        self._client = client
        self._prefix = f"{PREFIX}:{name}:"
        self._attempts = attempts
        self._window_us = seconds * 1_000_000
        self._script = client.register_script(_HIT)

    def _key(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode()).hexdigest()[:32]

    def hit(self, *keys: str, rate: tuple[int, int] | None = None) -> int | None:
        """As SlidingWindowLimiter.hit. Raises ApiError 503 when Redis fails."""
        attempts, window_us = (rate[0], rate[1] * 1_000_000) if rate else (self._attempts, self._window_us)
        try:
            wait_us = int(
                self._script(
                    keys=[self._key(k) for k in keys],
                    args=[attempts, window_us, secrets.token_hex(8)],
                )
            )
        except redis.RedisError as exc:
            raise unavailable(exc) from None
        if wait_us <= 0:
            return None
        return max(1, math.ceil(wait_us / 1_000_000))

    def reset(self) -> None:
        """Delete this limiter's windows (test hooks): SCAN, never KEYS, so a large
        Redis is not blocked."""
        try:
            batch = []
            for key in self._client.scan_iter(match=self._prefix + "*", count=500):
                batch.append(key)
                if len(batch) >= 500:
                    self._client.delete(*batch)
                    batch.clear()
            if batch:
                self._client.delete(*batch)
        except redis.RedisError as exc:
            raise unavailable(exc) from None
