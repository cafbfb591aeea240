"""One reconcile of one Gateway (or GatewayClass): snapshot -> translate -> provider -> statuses.

Called by the Gateway's worker on the bus, so two reconciles of the same Gateway never overlap
and a slow or failing provider delays only its own Gateways.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from portico.api import build_snapshot
from portico.handlers import gateway_status as gs
from portico.handlers import refused_rules as rr
from portico.handlers.bus import Outcome
from portico.handlers.cleanup import FINALIZER, GatewayCleanup, gateway_key
from portico.handlers.events import Events
from portico.handlers.metrics import Metrics
from portico.handlers.outcomes import Failures, log_outcome
from portico.handlers.pods import PodReader
from portico.handlers.providers import Providers
from portico.handlers.store import ObjKey, Store, gateway_secrets, key_of
from portico.handlers.writer import RELEASE, StatusWriter
from portico.ir import GatewayIR
from portico.kube import ApiError, KubeClient
from portico.provider import (
    AnyProvider,
    ApplyResult,
    ApplyState,
    ProviderUnavailable,
    Undeliverable,
    provider_name_for,
    reconcile_once,
)
from portico.translate import translate

log = logging.getLogger("portico.reconcile")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Timing:
    """How long to wait before looking again: for a data plane that is not ready, and after errors.

    A data plane that is not ready yet is mostly noticed through the watch on the objects the
    provider made (see `Operator.observe`); `not_ready_seconds` is only the safety net."""

    not_ready_seconds: float = 30.0
    backoff_multiplier: float = 0.5
    backoff_max_seconds: float = 60.0
    # A Programmed Gateway is reconciled again after this long (0: never), so changes made in the
    # cloud behind Portico's back are repaired; jittered by +-resync_jitter so Gateways spread out.
    resync_seconds: float = 300.0
    resync_jitter: float = 0.1

    def resync_after(self) -> float | None:
        if self.resync_seconds <= 0:
            return None
        return self.resync_seconds * random.uniform(1 - self.resync_jitter, 1 + self.resync_jitter)


class Reconciler:
    def __init__(
        self,
        store: Store,
        writer: StatusWriter,
        providers: Providers,
        client: KubeClient,
        events: Events,
        metrics: Metrics,
        timing: Timing = Timing(),
    ) -> None:
        self.store = store
        self.writer = writer
        self.providers = providers
        self.client = client
        self.events = events
        self.metrics = metrics
        self.timing = timing
        self.failures = Failures(timing.backoff_multiplier, timing.backoff_max_seconds)
        self.cleanup = GatewayCleanup(client, providers, events, metrics, self.failures)
        self.pods = PodReader(client)
        # Per Gateway (namespace, name): IR rule id -> the cloud's reason, from the last apply.
        self._refused_rules: dict[tuple[str, str], Mapping[str, str]] = {}

    async def __call__(self, key: Hashable) -> Outcome:
        assert isinstance(key, tuple)
        kind, namespace, name = key
        if kind == "GatewayClass":
            return self.reconcile_class(name)
        return await self.reconcile_gateway(namespace, name)

    def _unavailable(self, controller: str) -> dict[str, str]:
        try:
            self.providers.for_controller(controller)
        except ProviderUnavailable as error:
            return {controller: str(error)}
        return {}

    def reconcile_class(self, name: str) -> Outcome:
        obj = self.store.get("GatewayClass", "", name)
        if obj is None:
            return Outcome(finished=True)
        controller = str((obj.get("spec") or {}).get("controllerName", ""))
        if provider_name_for(controller) is None:
            return Outcome(finished=True)
        objects = [obj, *self.store.of_kind("GatewayParameters")]
        result = translate(
            build_snapshot(objects), self.providers.capabilities(controller), utc_now(), self._unavailable(controller)
        )
        status = result.statuses.get(("GatewayClass", "", name))
        if status is not None:
            self.writer.submit(("GatewayClass", "", name), status, "class")
        return Outcome(finished=True)

    def _snapshot_objects(self, gateway: dict[str, Any], gw_class: dict[str, Any] | None) -> list[dict[str, Any]]:
        key = (str(gateway["metadata"].get("namespace") or "default"), str(gateway["metadata"]["name"]))
        routes = self.store.routes_for(key)
        secrets = [s for ns, n in sorted(gateway_secrets(gateway)) if (s := self.store.get("Secret", ns, n))]
        return [
            *([gw_class] if gw_class else []),
            gateway,
            *routes,
            *self.store.services_for(routes),
            *secrets,
            *self.store.of_kind("Namespace"),
            *self.store.of_kind("ReferenceGrant"),
            *self.store.of_kind("GatewayParameters"),
            *self.store.of_kind("BackendTLSPolicy"),
            *self.store.of_kind("ConfigMap"),
        ]

    async def reconcile_gateway(self, namespace: str, name: str) -> Outcome:
        gateway = self.store.get("Gateway", namespace, name)
        if gateway is None:
            self.failures.clear(("Gateway", namespace, name))
            self._refused_rules.pop((namespace, name), None)
            self._clear_route_parents((namespace, name))
            return Outcome(finished=True)
        meta = gateway.get("metadata") or {}
        ours = FINALIZER in (meta.get("finalizers") or ())
        class_name = str((gateway.get("spec") or {}).get("gatewayClassName", ""))
        gw_class = self.store.get("GatewayClass", "", class_name)
        controller = str((gw_class or {}).get("spec", {}).get("controllerName", ""))
        provider_name = provider_name_for(controller) if gw_class else None
        if meta.get("deletionTimestamp"):
            return await self.cleanup.finalize(gateway) if ours else Outcome(finished=True)
        if provider_name is None:
            if ours and gw_class is not None:
                # The class now names another controller: clean up what we made, then let go.
                outcome = await self.cleanup.finalize(gateway)
                if outcome.finished:
                    self.writer.submit(("Gateway", namespace, name), {}, RELEASE)
                    self._clear_route_parents((namespace, name))
                return outcome
            if gw_class is None and ours:
                await self._write_translated(gateway, None, "")
            elif not ours:
                self._clear_route_parents((namespace, name))
            return Outcome(finished=True)
        return await self._program(gateway, gw_class, controller, provider_name)

    async def _write_translated(
        self,
        gateway: dict[str, Any],
        gw_class: dict[str, Any] | None,
        controller: str,
        capabilities: Mapping[str, Any] | None = None,
        unavailable: Mapping[str, str] | None = None,
    ) -> tuple[GatewayIR | None, dict[str, Any] | None, str, Mapping[Any, dict[str, Any]]]:
        """Translate this Gateway's world; submit route statuses; return its IR, its own status and
        the translated statuses (routes are submitted again if the cloud refuses some rules)."""
        meta = gateway["metadata"]
        key = (str(meta.get("namespace") or "default"), str(meta["name"]))
        now = utc_now()
        objects = self._snapshot_objects(gateway, gw_class)
        objects += await self.pods.speaking_pods(objects)
        # Parsing and translating a large Gateway takes seconds of CPU: in a thread, so the event
        # loop keeps feeding the store and other Gateways' workers meanwhile. The store replaces
        # objects instead of changing them, so the thread reads a consistent snapshot.
        result = await asyncio.to_thread(
            lambda: translate(build_snapshot(objects), capabilities or {}, now, unavailable)
        )
        ir = result.ir_by_gateway.get(key)
        self._submit_routes(key, result.statuses, ir, now)
        self._submit_policies(key, result.statuses)
        gw_status = result.statuses.get(("Gateway", *key))
        if gw_status is not None and ir is None:
            self.writer.submit(("Gateway", *key), gw_status, "gateway")
        return ir, gw_status, now, result.statuses

    def _submit_routes(
        self, key: tuple[str, str], statuses: Mapping[Any, dict[str, Any]], ir: GatewayIR | None, now: str
    ) -> None:
        """Every route that names this Gateway (in spec or in status) gets this Gateway's part, an
        empty one when it is no longer attached: the writer then drops our stale entries. Rules the
        cloud refused at the last apply are reported on their routes."""
        source = f"{key[0]}/{key[1]}"
        refused = rr.by_route(ir, self._refused_rules.get(key, {})) if ir is not None else {}
        for route in self.store.routes_for(key):
            route_key = key_of(route)
            status = gs.parents_for_gateway(statuses.get(route_key) or {}, key, route_key[1])
            if route_key in refused:
                rules = len((route.get("spec") or {}).get("rules") or ())
                status = rr.with_refused_rules(status, key, route_key[1], refused[route_key], rules, now)
            self.writer.submit(route_key, status, source)

    def _submit_policies(self, key: tuple[str, str], statuses: Mapping[Any, dict[str, Any]]) -> None:
        """Likewise every BackendTLSPolicy: this Gateway's ancestor entry, or none once it stops using it."""
        for policy in self.store.of_kind("BackendTLSPolicy"):
            policy_key = key_of(policy)
            self.writer.submit(policy_key, statuses.get(policy_key) or {"ancestors": []}, f"{key[0]}/{key[1]}")

    def _clear_route_parents(self, gateway: tuple[str, str]) -> None:
        """Portico no longer manages `gateway`: its routes keep none of our entries for it."""
        for route in self.store.routes_for(gateway):
            self.writer.submit(key_of(route), {"parents": []}, f"{gateway[0]}/{gateway[1]}")

    async def _program(
        self, gateway: dict[str, Any], gw_class: dict[str, Any] | None, controller: str, provider_name: str
    ) -> Outcome:
        meta = gateway["metadata"]
        key = gateway_key(gateway)
        started = time.monotonic()
        unavailable = self._unavailable(controller)
        capabilities = self.providers.capabilities(controller)
        ir, status, now, statuses = await self._write_translated(
            gateway, gw_class, controller, capabilities, unavailable
        )
        if ir is None or status is None or unavailable:
            log_outcome(self.metrics, key, provider_name, "not-accepted", started)
            return Outcome()
        generation = int(meta.get("generation") or 0)
        provider = self.providers.get(provider_name)
        try:
            await self.cleanup.claim(gateway, provider_name)
        except (ApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            # Portico's own API call failed, not the provider: retry, and say nothing in status.
            delay = self.failures.delay(self.failures.record(key))
            log_outcome(
                self.metrics, key, provider_name, "api-error", started, retry_in=f"{delay:.1f}s", error=str(error)
            )
            return Outcome(requeue_after=delay)
        try:
            result = await self._apply(provider, provider_name, ir)
        except Undeliverable as error:  # retrying cannot help: say why, wait for the next change
            self.failures.clear(key)
            self.writer.submit(key, gs.invalid_status(status, str(error), generation, now), "gateway")
            if gs.programmed_of((self.store.get(*key) or {}).get("status")) != "False":
                await self.events.post(gateway, "Warning", "ProgrammingFailed", str(error))
            log_outcome(self.metrics, key, provider_name, "undeliverable", started, error=str(error))
            return Outcome()
        except Exception as error:  # a provider bug: logged with its traceback, counted, retried
            message = str(error) or repr(error)
            log.exception("provider %s raised while programming %s/%s", provider_name, key[1], key[2])
            self.metrics.provider_exceptions.labels(provider_name, "apply").inc()
            return await self._apply_failed(gateway, key, provider_name, status, message, generation, now, started)
        if result.state is ApplyState.FAILED:  # an expected cloud error or a refusal: a condition
            return await self._apply_failed(
                gateway, key, provider_name, status, result.message, generation, now, started
            )
        self.failures.clear(key)
        namespaced = (key[1], key[2])
        if dict(result.refused_rules) != dict(self._refused_rules.get(namespaced, {})):
            self._refused_rules[namespaced] = dict(result.refused_rules)
            self._submit_routes(namespaced, statuses, ir, now)
            if result.refused_rules:
                refused = "; ".join(f"{rid}: {why}" for rid, why in sorted(result.refused_rules.items()))
                await self.events.post(gateway, "Warning", "RulesRefused", refused[:1024])
        new_status = gs.programmed_status(status, result, generation, now)
        before = gs.programmed_of((self.store.get(*key) or {}).get("status"))
        self.writer.submit(key, new_status, "gateway")
        after = gs.programmed_of(new_status)
        if before != after and after == "True":
            await self.events.post(gateway, "Normal", "Programmed", f"programmed by {provider_name}")
        if result.programmed:
            log_outcome(self.metrics, key, provider_name, "programmed", started, mutations=result.mutations)
            return Outcome(requeue_after=self.timing.resync_after())
        recheck = result.recheck_after if result.recheck_after is not None else self.timing.not_ready_seconds
        log_outcome(
            self.metrics,
            key,
            provider_name,
            "pending",
            started,
            mutations=result.mutations,
            recheck_in=f"{recheck:.1f}s",
        )
        return Outcome(requeue_after=recheck)

    async def _apply_failed(
        self,
        gateway: dict[str, Any],
        key: ObjKey,
        provider_name: str,
        status: dict[str, Any],
        message: str,
        generation: int,
        now: str,
        started: float,
    ) -> Outcome:
        failures = self.failures.record(key)
        delay = self.failures.delay(failures)
        self.writer.submit(key, gs.failed_status(status, message, generation, now), "gateway")
        self.metrics.errors.labels(provider_name).inc()
        if failures == 1:
            await self.events.post(gateway, "Warning", "ProgrammingFailed", message)
        log_outcome(self.metrics, key, provider_name, "error", started, retry_in=f"{delay:.1f}s", error=message)
        return Outcome(requeue_after=delay)

    async def _apply(self, provider: AnyProvider, provider_name: str, ir: GatewayIR) -> ApplyResult:
        with self.metrics.reconcile_seconds.labels(provider_name).time():
            # observe, plan (which serialises a large IR: CPU work) and apply, all in a thread
            result = await asyncio.to_thread(reconcile_once, provider, ir)
        self.metrics.cloud_calls.labels(provider_name, "observe").inc()
        self.metrics.cloud_calls.labels(provider_name, "apply").inc()
        self.metrics.cloud_calls.labels(provider_name, "mutation").inc(result.mutations)
        return result
