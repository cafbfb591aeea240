"""Process-wide state shared by every connection: limits, pools, metrics, access log."""

from __future__ import annotations

import json
import random
import resource
import sys
import time
from dataclasses import dataclass
from typing import Protocol, TextIO

from portico_proxy.batch import WriteBatch
from portico_proxy.fdlimit import max_connections_for, upstream_cap
from portico_proxy.metrics import Metrics
from portico_proxy.pool import Pools


@dataclass(frozen=True)
class Limits:
    """Hardening knobs; defaults follow common proxy practice."""

    max_request_line: int = 8192
    max_header_bytes: int = 65536
    max_header_count: int = 100
    header_timeout_s: float = 10.0
    idle_timeout_s: float = 60.0
    # Client plus backend connections; None: derived from the file descriptor limit (fdlimit).
    max_connections: int | None = None
    max_buffered_body: int = 262144
    # Defaults for what a route leaves unset (0 turns one off): connecting to a backend, waiting for
    # its response head once the request is sent, and a request body that stops arriving.
    connect_timeout_s: float = 5.0
    response_header_timeout_s: float = 60.0
    body_idle_timeout_s: float = 60.0
    merge_slashes: bool = True  # request paths: `//` becomes `/` (normalize.py)
    # https backends without a BackendTLSPolicy: encrypted but not verified (an explicit opt-out).
    insecure_backend_tls: bool = False
    max_udp_sessions: int = 16384  # per UDP listener: client addresses with a backend socket (udp.py)


class Expirable(Protocol):
    def fail(self, what: str, status: int = 504) -> None: ...


class AccessLog:
    """One JSON line per request, for a sampled fraction of them (0 turns it off)."""

    def __init__(self, sample: float, stream: TextIO | None = None) -> None:
        self.sample = sample
        self.enabled = sample > 0  # read per request: a plain attribute
        self.stream = stream or sys.stdout

    def wanted(self) -> bool:
        return self.sample >= 1 or random.random() < self.sample

    def write(self, entry: dict[str, object]) -> None:
        entry["time"] = round(time.time(), 3)
        self.stream.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self.stream.flush()


class Context:
    def __init__(self, limits: Limits | None = None, access_log: AccessLog | None = None) -> None:
        self.limits = limits = limits or Limits()
        self.max_connections = limits.max_connections or max_connections_for(
            resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        )
        self.writes = WriteBatch()
        self.connections: set[object] = set()
        connect_timeout = limits.connect_timeout_s or None
        self.pools = Pools(self.writes, self.connections, upstream_cap(self.max_connections), connect_timeout)
        self.metrics = Metrics(self.pools.stats)
        self.access_log = access_log or AccessLog(0.0)
        self.draining = False
        self.awaiting_head: dict[Expirable, float] = {}
        self.head_timeout_s = limits.response_header_timeout_s  # read per request: a plain attribute

    def expire_heads(self, now: float) -> None:
        """Fail every exchange in `awaiting_head` (exchange -> deadline, set by the exchange: one dict
        entry per request instead of a loop timer) whose response head is overdue. Deadlines grow
        in insertion order, so the scan stops at the first one still running."""
        waiting = self.awaiting_head
        overdue = []
        for exchange, deadline in waiting.items():
            if deadline > now:
                break
            overdue.append(exchange)
        for exchange in overdue:
            waiting.pop(exchange, None)
            exchange.fail("backend response header timeout")

    def over_capacity(self) -> bool:
        """Client connections (the new one included) and backend sockets past max_connections."""
        stats = self.pools.stats
        return len(self.connections) + stats.sockets + stats.connecting > self.max_connections
