"""The operator as one object: reflectors fill the store, the elected leader's bus reconciles,
one status writer patches what changed. kopf runs it (login, start-up, clean-up, liveness)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import kopf
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_random_exponential

from portico.handlers.bus import Bus
from portico.handlers.events import Events
from portico.handlers.leader import LeaderElector, LeaseConfig, lead
from portico.handlers.metrics import Metrics
from portico.handlers.optional_kinds import missing_kind_message
from portico.handlers.prerequisites import report_missing_crds
from portico.handlers.providers import Providers
from portico.handlers.reconcile import Reconciler, Timing
from portico.handlers.reflector import Reflector, ReflectorTiming
from portico.handlers.registry import TLS_SECRET, build_registry, significant
from portico.handlers.status import GATEWAY_GROUP
from portico.handlers.store import ObjKey, Store, key_of, trimmed_node
from portico.handlers.writer import StatusWriter
from portico.kube import ApiError, KubeClient
from portico.kube.blocking import BlockingKube
from portico.kube.client import Connection
from portico.kube.resources import MANAGED_BY, MANAGED_BY_LABEL, OPTIONAL, WATCHED, WATCHED_OWNED, ResourceType
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


def default_identity() -> str:
    """The Pod's name (Downward API) or the host name, plus a suffix unique to this process."""
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}"


def _transient(error: BaseException) -> bool:
    if isinstance(error, ApiError):
        return error.transient
    return isinstance(error, aiohttp.ClientError | OSError | TimeoutError)


@dataclass(frozen=True)
class OperatorConfig:
    connection: Connection
    standalone: bool = False  # no leader election: this process leads at once
    lease_name: str = "portico"
    lease_namespace: str = field(default_factory=lambda: os.environ.get("POD_NAMESPACE") or "default")
    identity: str = field(default_factory=default_identity)
    lease_duration_seconds: float = 15.0
    renew_deadline_seconds: float = 10.0
    retry_period_seconds: float = 2.0
    cluster_id: str = "default"
    controller_prefix: str = CONTROLLER_PREFIX  # route parents entries with this prefix are Portico's
    metrics_port: int | None = None
    liveness_endpoint: str | None = None
    quiet_seconds: float = 0.2
    max_delay_seconds: float = 2.0
    watch_timeout_seconds: int = 300
    timing: Timing = field(default_factory=Timing)
    provider_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def lease(self) -> LeaseConfig:
        return LeaseConfig(
            name=self.lease_name,
            namespace=self.lease_namespace,
            identity=self.identity,
            lease_duration=self.lease_duration_seconds,
            renew_deadline=self.renew_deadline_seconds,
            retry_period=self.retry_period_seconds,
        )


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
        reflector_timing = ReflectorTiming(watch_timeout_seconds=config.watch_timeout_seconds)
        owned = f"{MANAGED_BY_LABEL}={MANAGED_BY}"  # only Portico's own Deployments, filtered by the server
        self.reflectors = [
            Reflector(
                self.client, r, self._listed, self._watched, owned if r in WATCHED_OWNED else None, reflector_timing
            )
            for r in (*WATCHED, *WATCHED_OWNED)
        ]
        self.elector = None if config.standalone else LeaderElector(self.client, config.lease())
        self.lost_leadership = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._stop: asyncio.Event | None = None

    def _provider_context(self, name: str) -> ProviderContext:
        assert self._loop is not None, "providers are loaded by reconciles, after start()"
        options = {
            **self.config.provider_options.get(name, {}),
            "kube": BlockingKube(self.client, self._loop),
            "loop": self._loop,
        }
        return ProviderContext(cluster_id=self.config.cluster_id, options=options)

    @property
    def leading(self) -> bool:
        return self._started

    async def start(self) -> None:
        """List everything once (the lists the watches continue from), watch, then stand for election."""
        self._loop = asyncio.get_running_loop()
        if self.config.metrics_port is not None:
            self.metrics.serve(self.config.metrics_port)
        missing = []
        for reflector in list(self.reflectors):
            try:
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception(_transient),
                    wait=wait_random_exponential(multiplier=0.1, max=5.0),
                    stop=stop_after_delay(120),
                    reraise=True,
                ):
                    with attempt:
                        await reflector.list_once()
            except ApiError as error:
                if not error.not_found:
                    raise
                if reflector.resource in OPTIONAL:
                    log.warning("%s", missing_kind_message(reflector.resource))
                    self.providers.absent_kinds |= {reflector.resource.kind}
                    self.reflectors.remove(reflector)
                    continue
                missing.append(reflector.resource)
        if missing:
            raise await report_missing_crds(Events(self.client), missing)
        for reflector in self.reflectors:
            self._tasks.append(asyncio.create_task(reflector.run(), name=f"portico-watch:{reflector.resource.plural}"))
        if self.elector is None:
            await self._lead()
        else:
            self._tasks.append(asyncio.create_task(self._campaign(self.elector), name="portico-leader-election"))
        role = "active" if self._started else f"standby until it holds the lease {self.config.lease_name}"
        log.info("started: %d objects known, %s", len(self.store.objects), role)

    async def _campaign(self, elector: LeaderElector) -> None:
        await lead(elector, self._lead)
        # Leadership lost (the Lease could not be renewed): stop, and let the Pod start again as a standby.
        self.lost_leadership = True
        if self._stop is not None:
            self._stop.set()

    async def _lead(self) -> None:
        """Become the active replica: write statuses and reconcile everything the store knows."""
        self.writer.start()
        self._started = True
        self.metrics.leader.set(1)
        for key in self.store.work_keys():
            self.bus.publish(key)
        log.info("leading: %d keys queued", self.bus.pending)

    def _listed(self, resource: ResourceType, items: Sequence[Mapping[str, Any]]) -> None:
        """A full list replaces what the store holds of the resource: what is missing was deleted."""
        if resource.kind in ("Secret", "ConfigMap"):
            items = [obj for obj in items if _readable_certificates(resource.kind, obj)]
        if resource.kind == "Node":
            items = [trimmed_node(obj) for obj in items]
        if resource.kind in WATCHED_KINDS:
            listed = {key_of(obj) for obj in items}
            for stored in self.store.of_kind(resource.kind):
                if key_of(stored) not in listed:
                    self.observe("DELETED", stored)
        for obj in items:
            self.observe("ADDED", obj)

    def _watched(self, resource: ResourceType, event_type: str, obj: Mapping[str, Any]) -> None:
        if resource.kind in ("Secret", "ConfigMap") and not _readable_certificates(resource.kind, obj):
            # Only TLS secrets and CA ConfigMaps hold certificates; one that stopped being one is gone for Portico.
            if self.store.get(*key_of(obj)) is None:
                return
            event_type = "DELETED"
        if resource.kind == "Node":
            obj = trimmed_node(obj)
        self.observe(event_type, obj)

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
            if before is None:
                return
            affected = self.store.delete(obj)
        else:
            affected = self.store.upsert(obj)
            if before is not None and significant(before) == significant(obj):
                return
        if self._started:
            for key in affected:
                self.bus.publish(key)

    async def step_down(self, flush_seconds: float = 1.0) -> None:
        """Stop reconciling, write what is pending (briefly), and hand the Lease over."""
        await self.bus.close()
        if self._started:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.writer.flushed(), flush_seconds)
        await self.writer.close()
        self._started = False
        self.metrics.leader.set(0)
        if self.elector is not None:
            await self.elector.release()

    async def stop(self) -> None:
        await self.step_down()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.client.close()
        if self._stop is not None:
            # kopf may have stopped on its own (it handles SIGTERM): end its wait on our stop flag too,
            # or its shutdown waits 5 s for that task.
            self._stop.set()

    def registry(self) -> kopf.OperatorRegistry:
        return build_registry(self)

    async def run(self, stop_flag: asyncio.Event | None = None, ready_flag: asyncio.Event | None = None) -> None:
        """Run under kopf until `stop_flag` is set or leadership is lost.

        The Lease is released as soon as the stop is asked for, before kopf's own shutdown
        (which waits for its tasks), so a rolling update hands over within a retry period."""
        self._stop = stop = asyncio.Event()

        async def relay() -> None:
            await (stop_flag.wait() if stop_flag is not None else asyncio.Event().wait())
            await self.step_down()
            stop.set()

        relay_task = asyncio.create_task(relay(), name="portico-stop-relay")
        try:
            await kopf.operator(
                registry=self.registry(),
                clusterwide=True,
                standalone=True,  # the Lease elects the active replica; kopf peering is not used
                liveness_endpoint=self.config.liveness_endpoint,
                stop_flag=stop,
                ready_flag=ready_flag,
            )
        finally:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task


def _readable_certificates(kind: str, obj: Mapping[str, Any]) -> bool:
    """TLS Secrets (listener and client certificates) and ConfigMaps with a `ca.crt` (BackendTLSPolicy
    CAs): the only ones Portico reads, so the store never holds the rest (the proxy's own IR included)."""
    if kind == "ConfigMap":
        return "ca.crt" in (obj.get("data") or {})
    return obj.get("type") == TLS_SECRET
