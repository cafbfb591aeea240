"""Prometheus metrics, in a registry of their own so several operators can share a process."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "portico_reconciles",
            "Gateway reconciles by provider and outcome.",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.reconcile_seconds = Histogram(
            "portico_reconcile_duration_seconds",
            "Time from snapshot to applied plan.",
            ["provider"],
            registry=self.registry,
        )
        self.errors = Counter(
            "portico_reconcile_errors",
            "Reconciles that failed in the provider.",
            ["provider"],
            registry=self.registry,
        )
        self.provider_exceptions = Counter(
            "portico_provider_exceptions",
            "Unexpected exceptions raised by a provider (bugs; expected cloud errors are conditions).",
            ["provider", "call"],
            registry=self.registry,
        )
        self.cloud_calls = Counter(
            "portico_cloud_api_calls",
            "Provider calls (observe/apply/delete) and the mutations they made.",
            ["provider", "call"],
            registry=self.registry,
        )
        self.status_writes = Counter(
            "portico_status_writes", "Status patches written, by kind.", ["kind"], registry=self.registry
        )
        self.leader = Gauge(
            "portico_leader",
            "1 while this replica holds the Lease and reconciles, 0 on standby.",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "portico_queue_depth", "Gateways and classes waiting for a reconcile.", registry=self.registry
        )

    def track_queue(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        start_http_server(port, addr=address, registry=self.registry)
