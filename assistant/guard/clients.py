"""Who is asking, and how often: the per-client rate limiter and the
reverse proxies whose forwarding headers are believed (``guard`` uses both)."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque


def parse_proxies(value: str | None) -> tuple[str, ...]:
    """``--forwarded-allow-ips``: comma-separated addresses, networks or ``*``;
    a ``ValueError`` names an entry that is none of them.

    >>> parse_proxies("127.0.0.1, 10.0.0.0/8"), parse_proxies(""), parse_proxies("*")
    (('127.0.0.1', '10.0.0.0/8'), (), ('*',))
    """
    entries = tuple(p.strip() for p in (value or "").split(",") if p.strip())
    for entry in entries:
        if entry != "*":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
    return entries


class RateLimiter:
    """At most ``limit`` events per client in any 60-second window."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None, count: bool = True) -> float:
        """0 when allowed (and counted, unless ``count`` is false), else
        seconds until the next slot.

        >>> limiter = RateLimiter(2)
        >>> limiter.check("a", 0.0), limiter.check("a", 1.0), limiter.check("a", 2.0)
        (0.0, 0.0, 58.0)
        >>> limiter.check("b", 2.0), limiter.check("a", 60.5)
        (0.0, 0.0)
        >>> limiter.check("c", 0.0, count=False), limiter.check("c", 0.0, count=False)
        (0.0, 0.0)
        """
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(client, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, events[0] + self.window - now)
            if count:
                events.append(now)
            if len(self._events) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                    del self._events[key]
            return 0.0


class TrustedProxies:
    """The peers whose ``X-Forwarded-*`` headers are believed.

    >>> proxies = TrustedProxies(("10.0.0.0/8",))
    >>> proxies.trusts("10.1.2.3"), proxies.trusts("127.0.0.1"), proxies.client("10.0.0.1", "1.2.3.4, 10.0.0.9")
    (True, False, '1.2.3.4')
    >>> TrustedProxies(()).trusts("127.0.0.1"), TrustedProxies(("*",)).client("1.1.1.1", "5.5.5.5, 6.6.6.6")
    (False, '6.6.6.6')
    """

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.any = "*" in entries
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]

    def trusts(self, host: str) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The first address, from the right, that is not a trusted proxy
        (uvicorn's reading of ``X-Forwarded-For``)."""
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if self.any:
            return hops[-1] if hops else peer
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer
