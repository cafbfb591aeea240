"""Metrics and access-log lines of the byte-stream (TLS, TCP) and UDP listeners: plain counters per
(route, backend) on the hot path, Prometheus samples built only when scraped (as metrics.py does
for HTTP). A connection or UDP session gets one access-log line when it ends, sampled like HTTP's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from portico_proxy.context import AccessLog

NO_ROUTE = "-"


class Outcome:
    """How a TLS/TCP connection went (the `outcome` label)."""

    CONNECTED = "connected"  # spliced to a backend endpoint
    NO_ROUTE = "no_route"  # no listener or route for its SNI, or not a TLS ClientHello
    REFUSED = "refused"  # its share belongs to an invalid backend, or one without endpoints
    UNREACHABLE = "unreachable"  # no endpoint of the backend could be connected


class PairStats:
    """Counters of one (route, backend) pair of the L4 listeners."""

    __slots__ = ("datagrams_to_backend", "datagrams_to_client", "outcomes", "sessions", "to_backend", "to_client")

    def __init__(self) -> None:
        self.outcomes: dict[str, int] = {}
        self.to_backend = 0
        self.to_client = 0
        self.sessions = 0
        self.datagrams_to_backend = 0
        self.datagrams_to_client = 0


class L4Metrics(Collector):
    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], PairStats] = {}
        self.udp_dropped: dict[str, int] = {}  # route (or NO_ROUTE) -> datagrams dropped
        self.udp_active_sessions = 0

    def stats(self, route: str, backend: str) -> PairStats:
        pair = self.pairs.get((route, backend))
        if pair is None:
            pair = self.pairs[(route, backend)] = PairStats()
        return pair

    def connection(self, route: str, backend: str, outcome: str) -> PairStats:
        pair = self.stats(route, backend)
        pair.outcomes[outcome] = pair.outcomes.get(outcome, 0) + 1
        return pair

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        connections = CounterMetricFamily(
            "portico_proxy_l4_connections",
            "TLS and TCP listener connections, by route, backend and outcome",
            labels=["route", "backend", "outcome"],
        )
        moved = CounterMetricFamily(
            "portico_proxy_l4_bytes",
            "Bytes relayed by TLS, TCP and UDP listeners, by route, backend and direction",
            labels=["route", "backend", "direction"],
        )
        sessions = CounterMetricFamily(
            "portico_proxy_udp_sessions", "UDP sessions opened, by route and backend", labels=["route", "backend"]
        )
        datagrams = CounterMetricFamily(
            "portico_proxy_udp_datagrams",
            "UDP datagrams relayed, by route, backend and direction",
            labels=["route", "backend", "direction"],
        )
        for (route, backend), pair in sorted(self.pairs.items()):
            for outcome, count in sorted(pair.outcomes.items()):
                connections.add_metric([route, backend, outcome], count)
            if pair.to_backend or pair.to_client:
                moved.add_metric([route, backend, "to_backend"], pair.to_backend)
                moved.add_metric([route, backend, "to_client"], pair.to_client)
            if pair.sessions:
                sessions.add_metric([route, backend], pair.sessions)
                datagrams.add_metric([route, backend, "to_backend"], pair.datagrams_to_backend)
                datagrams.add_metric([route, backend, "to_client"], pair.datagrams_to_client)
        yield from (connections, moved, sessions, datagrams)
        dropped = CounterMetricFamily(
            "portico_proxy_udp_dropped_datagrams",
            "UDP datagrams dropped: no route, an invalid backend or none with endpoints, or the session limit",
            labels=["route"],
        )
        for route, count in sorted(self.udp_dropped.items()):
            dropped.add_metric([route], count)
        yield dropped
        active = GaugeMetricFamily("portico_proxy_udp_active_sessions", "Open UDP sessions")
        active.add_metric([], self.udp_active_sessions)
        yield active


class StreamMeter:
    """One TLS/TCP connection once spliced: tunnel.py counts its bytes (into its pair's counters as
    they come), and its end writes the access-log line when this connection was sampled."""

    __slots__ = ("entry", "log", "pair", "started", "to_backend", "to_client")

    def __init__(self, pair: PairStats, log: AccessLog | None, entry: dict[str, object]) -> None:
        self.pair = pair
        self.log = log
        self.entry = entry
        self.started = asyncio.get_running_loop().time()
        self.to_backend = 0
        self.to_client = 0

    def count(self, size: int, from_client: bool) -> None:
        if from_client:
            self.to_backend += size
            self.pair.to_backend += size
        else:
            self.to_client += size
            self.pair.to_client += size

    def finish(self) -> None:
        if self.log is not None:
            elapsed = asyncio.get_running_loop().time() - self.started
            self.entry.update(
                bytes_to_backend=self.to_backend, bytes_to_client=self.to_client, duration_ms=round(elapsed * 1000, 3)
            )
            self.log.write(self.entry)
            self.log = None
