"""Per-client rate limits at the gateway: a sliding window of recent hits per (action, client address).

Kept in the gateway process: each replica limits on its own, which bounds abuse without a shared store.
"""
import threading
import time
from collections import defaultdict, deque

from nameko.extensions import DependencyProvider

from dsi.errors import RateLimited
from dsi.validation import comma_list


class RateLimit:
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
                retry = int(hits[0] + self.window - now) + 1
                raise RateLimited(f"Too many requests; try again in {retry} seconds.", {"retry_after": retry})
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle clients rather than grow without bound
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[idle]


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
        configured = {**self.defaults, **(self.container.config.get("RATE_LIMITS") or {})}
        self.limits = {action: self._parse(action, rule) for action, rule in configured.items()}
        self.proxy_hops = int(self.container.config.get("PROXY_HOPS") or 0)

    def _parse(self, action: str, rule: str) -> RateLimit:
        count, _, unit = str(rule).partition("/")
        if unit not in self.UNITS or not count.isdigit():
            raise ValueError(f"RATE_LIMITS.{action}: expected 'N/second|minute|hour|day', got {rule!r}")
        return RateLimit(int(count), self.UNITS[unit])

    def get_dependency(self, worker_ctx):
        return self

    def client(self, request) -> str:
        return client_address(request, self.proxy_hops)

    def hit(self, action: str, request) -> None:
        self.limits[action].hit(self.client(request))
