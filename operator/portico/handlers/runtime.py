"""The operator as one object: store, bus, reconciler and status writer, run under kopf."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from portico.handlers.bus import Bus
from portico.handlers.events import Events
from portico.handlers.metrics import Metrics
from portico.handlers.prerequisites import report_missing_crds
from portico.handlers.providers import Providers
from portico.handlers.reconcile import Reconciler, Timing
from portico.handlers.registry import TLS_SECRET, build_registry, significant
from portico.handlers.status import GATEWAY_GROUP
from portico.handlers.store import ObjKey, Store, key_of
from portico.handlers.writer import StatusWriter
from portico.kube import ApiError, KubeClient
from portico.kube.blocking import BlockingKube
from portico.kube.client import Connection
from portico.kube.resources import MANAGED_BY, MANAGED_BY_LABEL, WATCHED
from portico.provider import CONTROLLER_PREFIX, ProviderContext

log = logging.getLogger("portico.operator")

WATCHED_KINDS = frozenset(resource.kind for resource in WATCHED)


def owning_gateway(obj: Mapping[str, Any]) -> ObjKey | None:
    """The Gateway that owns `obj`, for objects labelled as made by Portico."""
    meta = obj.get("metadata") or {}
    if (meta.get("labels") or {}).get(MANAGED_BY_LABEL) != MANAGED_BY:
        return None
    for ref in meta.get("ownerReferences") or ():
        if ref.get("kind") == "Gateway" and str(ref.get("apiVersion", "")).startswith(f"{GATEWAY_GROUP}/"):
            return ("Gateway", str(meta.get("namespace") or "default"), str(ref.get("name", "")))
    return None


@dataclass(frozen=True)
class OperatorConfig:
    connection: Connection
    standalone: bool = False
    peering_name: str = "portico"
    cluster_id: str = "default"
    controller_prefix: str = CONTROLLER_PREFIX  # route parents entries with this prefix are Portico's
    metrics_port: int | None = None
    liveness_endpoint: str | None = None
    quiet_seconds: float = 0.2
    max_delay_seconds: float = 2.0
    watch_timeout_seconds: int = 300
    timing: Timing = field(default_factory=Timing)
    provider_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class Operator:
    def __init__(self, config: OperatorConfig) -> None:
        self.config = config
        self.store = Store()
        self.metrics = Metrics()
        self.client = KubeClient(config.connection)
        self.providers = Providers(self._provider_context)
        self.writer = StatusWriter(
            self.client,
            self.store,
            config.controller_prefix,
            on_write=lambda kind: self.metrics.status_writes.labels(kind).inc(),
        )
        self.reconciler = Reconciler(
            self.store, self.writer, self.providers, self.client, Events(self.client), self.metrics, config.timing
        )
        self.bus = Bus(self.reconciler, config.quiet_seconds, config.max_delay_seconds)
        self.metrics.track_queue(lambda: self.bus.pending)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False

    def _provider_context(self, name: str) -> ProviderContext:
        assert self._loop is not None, "providers are loaded by reconciles, after start()"
        options = {
            **self.config.provider_options.get(name, {}),
            "kube": BlockingKube(self.client, self._loop),
            "loop": self._loop,
        }
        return ProviderContext(cluster_id=self.config.cluster_id, options=options)

    async def start(self) -> None:
        """List everything once (so the first reconciles see a whole cluster), then start the workers."""
        self._loop = asyncio.get_running_loop()
        if self.config.metrics_port is not None:
            self.metrics.serve(self.config.metrics_port)
        missing = []
        for resource in WATCHED:
            try:
                objects = await self.client.list(resource)
            except ApiError as error:
                if not error.not_found:
                    raise
                missing.append(resource)
                continue
            for obj in objects:
                if resource.kind != "Secret" or obj.get("type") == TLS_SECRET:
                    self.store.upsert(obj)
        if missing:
            raise await report_missing_crds(Events(self.client), missing)
        self.writer.start()
        self._started = True
        for key in list(self.store.objects):
            if key[0] in ("Gateway", "GatewayClass"):
                self.bus.publish(key)
        log.info("started: %d objects known, %d keys queued", len(self.store.objects), self.bus.pending)

    def observe(self, event_type: str, obj: Mapping[str, Any]) -> None:
        """A watch event: update the store; wake the workers whose input changed.

        An object a provider made for a Gateway (a proxy Deployment or Service) wakes that
        Gateway on any change, status included: its readiness and address are Programmed."""
        owner = owning_gateway(obj)
        if self._started and owner is not None:
            self.bus.publish(owner)
        if obj.get("kind") not in WATCHED_KINDS:
            return
        before = self.store.get(*key_of(obj))
        if event_type == "DELETED":
            affected = self.store.delete(obj)
        else:
            affected = self.store.upsert(obj)
            if before is not None and significant(before) == significant(obj):
                return
        if self._started:
            for key in affected:
                self.bus.publish(key)

    async def stop(self) -> None:
        await self.bus.close()
        await self.writer.close()
        await self.client.close()

    def registry(self) -> kopf.OperatorRegistry:
        return build_registry(self)

    async def run(self, stop_flag: asyncio.Event | None = None, ready_flag: asyncio.Event | None = None) -> None:
        await kopf.operator(
            registry=self.registry(),
            clusterwide=True,
            standalone=self.config.standalone,
            # A peering name makes peering mandatory in kopf: only pass it when not standalone.
            peering_name=None if self.config.standalone else self.config.peering_name,
            liveness_endpoint=self.config.liveness_endpoint,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
