"""Prometheus metrics counted in plain dicts on the hot path and turned into samples on scrape."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from portico_proxy.pool import PoolStats

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics(Collector):
    def __init__(self, pool_stats: PoolStats) -> None:
        self.pool_stats = pool_stats
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # route -> bucket counts..., +Inf count, sum
        self.active_connections = 0

    def record(self, route: str, backend: str, status: int, seconds: float) -> None:
        key = (route, backend, status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        counts = self.latency.get(route)
        if counts is None:
            counts = self.latency[route] = [0.0] * (len(BUCKETS) + 2)
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        counts[-1] += seconds

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily(
            "portico_proxy_requests",
            "Requests answered, by route, backend and status",
            labels=["route", "backend", "code"],
        )
        for (route, backend, status), count in sorted(self.requests.items()):
            requests.add_metric([route, backend, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "portico_proxy_request_duration_seconds", "Time from request head to response end", labels=["route"]
        )
        for route, counts in sorted(self.latency.items()):
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
