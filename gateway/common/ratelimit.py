"""Per-client rate limits at the gateway: a sliding window of recent hits per (action, client address).

With REDIS_URL set the windows live in Redis, shared by every gateway replica (N replicas do not allow N times
the limit, and the login limit holds across them); without it each replica keeps its own in memory.
"""
import logging
import secrets
import threading
import time
from collections import defaultdict, deque

import redis

from nameko.extensions import DependencyProvider

from dsi.errors import RateLimited
from dsi.settings import shared_environment, validate as validate_settings
from dsi.validation import comma_list


log = logging.getLogger(__name__)


def _refuse(retry: int):
    raise RateLimited.because("too_many_requests", {"retry_after": retry})


class RateLimit:
    """A limit kept in this process."""

    def __init__(self, limit: int, window_seconds: float):
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count a request by `key`; RateLimited once the key used up its window."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                _refuse(int(hits[0] + self.window - now) + 1)
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle clients rather than grow without bound
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[idle]


# One atomic step on the server's clock: drop hits older than the window, then count this one unless the window is
# full. KEYS[1]: the (action, client) window; ARGV: limit, window in ms, a unique member. Returns 0 when counted,
# else the milliseconds until the oldest hit leaves the window.
_SLIDING_WINDOW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - ms)
end
redis.call('ZADD', KEYS[1], ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class SharedRateLimit:
    """A limit kept in Redis, counted alike by every replica that uses the same server and key prefix."""

    def __init__(self, client: redis.Redis, script, prefix: str, action: str, limit: int, window_seconds: float):
        self.client, self.script = client, script
        self.prefix, self.limit, self.window = f"{prefix}{action}:", limit, window_seconds

    def hit(self, key: str) -> None:
        try:
            wait_ms = self.script(keys=[self.prefix + key],
                                  args=[self.limit, int(self.window * 1000), secrets.token_hex(8)],
                                  client=self.client)
        except redis.RedisError as error:  # limits protect; they must not take the site down with Redis
            log.error("rate limits unavailable (Redis: %s); letting the request through", error)
            return
        if wait_ms:
            _refuse(int(wait_ms) // 1000 + 1)


def client_address(request, proxy_hops: int = 0) -> str:
    """The client's address. Behind `proxy_hops` trusted proxies, the address the outermost of them saw: each
    appends what it saw to X-Forwarded-For, so entries a client wrote itself come before it and are ignored."""
    if proxy_hops:
        hops = comma_list(request.headers.get("X-Forwarded-For", ""))
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    return request.remote_addr or "unknown"


class RateLimits(DependencyProvider):
    """The container's rate limits, from config RATE_LIMITS {action: "N/second|minute|hour|day"}.

    `self.limits.hit("submit", request)` counts a request of that action by its client."""

    UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

    def __init__(self, **defaults: str):
        self.defaults = defaults

    def setup(self):
        from .settings import GatewaySettings  # the gateway's typed settings, as its Settings dependency reads them

        settings = validate_settings(GatewaySettings, {**shared_environment(), **self.container.config},
                                     "the gateway")
        configured = {**self.defaults, **settings.RATE_LIMITS}
        self.redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2) \
            if settings.REDIS_URL else None
        script = self.redis.register_script(_SLIDING_WINDOW) if self.redis else None
        self.limits = {action: self._parse(action, rule, script, settings.RATE_LIMIT_PREFIX)
                       for action, rule in configured.items()}
        self.proxy_hops = settings.PROXY_HOPS

    def stop(self):
        if self.redis is not None:
            self.redis.close()

    def _parse(self, action: str, rule: str, script, prefix: str):
        count, _, unit = str(rule).partition("/")
        if unit not in self.UNITS or not count.isdigit():
            raise ValueError(f"RATE_LIMITS.{action}: expected 'N/second|minute|hour|day', got {rule!r}")
        if self.redis is not None:
            return SharedRateLimit(self.redis, script, prefix, action, int(count), self.UNITS[unit])
        return RateLimit(int(count), self.UNITS[unit])

    def get_dependency(self, worker_ctx):
        return self

    def client(self, request) -> str:
        return client_address(request, self.proxy_hops)

    def hit(self, action: str, request) -> None:
        self.limits[action].hit(self.client(request))
