"""Prometheus metrics counted in plain dicts on the hot path and turned into samples on scrape."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from portico_proxy.l4metrics import L4Metrics

if TYPE_CHECKING:
    from portico_proxy.pool import PoolStats

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RouteBackendStats:
    """Counters of one (route, backend) pair: requests by status and a latency histogram."""

    __slots__ = ("by_status", "latency")

    def __init__(self) -> None:
        self.by_status: dict[int, int] = {}
        self.latency = [0.0] * (len(BUCKETS) + 2)  # bucket counts..., +Inf count, sum

    def record(self, status: int, seconds: float) -> None:
        by_status = self.by_status
        by_status[status] = by_status.get(status, 0) + 1
        latency = self.latency
        latency[bisect.bisect_left(BUCKETS, seconds)] += 1
        latency[-1] += seconds


class Metrics(Collector):
    """Plain counters on the hot path; Prometheus samples are built only when scraped."""

    def __init__(self, pool_stats: PoolStats) -> None:
        self.pool_stats = pool_stats
        self.pairs: dict[tuple[str, str], RouteBackendStats] = {}
        self.active_connections = 0
        self.l4 = L4Metrics()  # TLS, TCP and UDP listeners

    def stats(self, route: str, backend: str) -> RouteBackendStats:
        """The counters of a pair; callers keep the object so a request costs no lookup."""
        pair = self.pairs.get((route, backend))
        if pair is None:
            pair = self.pairs[(route, backend)] = RouteBackendStats()
        return pair

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily(
            "portico_proxy_requests",
            "Requests answered, by route, backend and status",
            labels=["route", "backend", "code"],
        )
        by_route: dict[str, list[float]] = {}
        for (route, backend), pair in sorted(self.pairs.items()):
            for status, count in sorted(pair.by_status.items()):
                requests.add_metric([route, backend, str(status)], count)
            total = by_route.setdefault(route, [0.0] * len(pair.latency))
            for index, value in enumerate(pair.latency):
                total[index] += value
        yield requests
        latency = HistogramMetricFamily(
            "portico_proxy_request_duration_seconds", "Time from request head to response end", labels=["route"]
        )
        for route, counts in sorted(by_route.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, bucket in zip((*map(str, BUCKETS), "+Inf"), counts[:-1], strict=True):
                cumulative += bucket
                buckets.append((bound, cumulative))
            latency.add_metric([route], buckets, counts[-1])
        yield latency
        connections = CounterMetricFamily(
            "portico_proxy_upstream_connections", "Upstream connections by outcome", labels=["outcome"]
        )
        connections.add_metric(["opened"], self.pool_stats.opened)
        connections.add_metric(["reused"], self.pool_stats.reused)
        yield connections
        active = GaugeMetricFamily("portico_proxy_active_connections", "Open client connections")
        active.add_metric([], self.active_connections)
        yield active
        yield from self.l4.collect()
