"""Portico's hold on a Gateway: the finalizer and provider annotation it adds before programming,
and the clean-up that deletes what the provider made before the finalizer goes."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from portico.handlers.bus import Outcome
from portico.handlers.events import Events
from portico.handlers.metrics import Metrics
from portico.handlers.outcomes import Failures, log_outcome
from portico.handlers.providers import Providers
from portico.handlers.store import ObjKey
from portico.ir import ObjectKey
from portico.kube import ApiError, KubeClient
from portico.kube.resources import GATEWAY
from portico.provider import DeleteResult, ProviderUnavailable

log = logging.getLogger("portico.reconcile")

FINALIZER = "portico.dev/gateway-cleanup"
PROVIDER_ANNOTATION = "portico.dev/provider"


def gateway_key(gateway: dict[str, Any]) -> ObjKey:
    meta = gateway["metadata"]
    return ("Gateway", str(meta.get("namespace") or "default"), str(meta["name"]))


class GatewayCleanup:
    def __init__(
        self, client: KubeClient, providers: Providers, events: Events, metrics: Metrics, failures: Failures
    ) -> None:
        self.client = client
        self.providers = providers
        self.events = events
        self.metrics = metrics
        self.failures = failures

    async def claim(self, gateway: dict[str, Any], provider_name: str) -> None:
        """Adds the finalizer and names the provider, so deletion waits for (and reaches) the right clean-up."""
        meta = gateway["metadata"]
        finalizers = list(meta.get("finalizers") or ())
        annotations = meta.get("annotations") or {}
        if FINALIZER in finalizers and annotations.get(PROVIDER_ANNOTATION) == provider_name:
            return
        await self._patch_metadata(
            gateway,
            {"finalizers": sorted({*finalizers, FINALIZER}), "annotations": {PROVIDER_ANNOTATION: provider_name}},
        )

    async def _patch_metadata(self, gateway: dict[str, Any], changes: dict[str, Any]) -> None:
        """A metadata patch conditional on the resourceVersion read; re-read once on conflict."""
        meta = gateway["metadata"]
        namespace, name = str(meta.get("namespace") or "default"), str(meta["name"])
        version = meta.get("resourceVersion")
        for _ in range(5):
            body = {"metadata": {**changes, **({"resourceVersion": version} if version else {})}}
            try:
                await self.client.patch(GATEWAY, namespace, name, body)
                return
            except ApiError as error:
                if not error.conflict:
                    raise
            fresh = await self.client.get(GATEWAY, namespace, name)
            version = fresh["metadata"].get("resourceVersion")
            if "finalizers" in changes:
                current = list(fresh["metadata"].get("finalizers") or ())
                wanted = FINALIZER in changes["finalizers"]
                changes = {
                    **changes,
                    "finalizers": sorted({*current, FINALIZER}) if wanted else [f for f in current if f != FINALIZER],
                }
        raise ApiError(409, "Conflict", f"Gateway {namespace}/{name} kept changing while Portico patched it")

    async def finalize(self, gateway: dict[str, Any]) -> Outcome:
        """Reconcile the provider to nothing; release the Gateway only when nothing owned remains."""
        meta = gateway["metadata"]
        key = gateway_key(gateway)
        started = time.monotonic()
        provider_name = (meta.get("annotations") or {}).get(PROVIDER_ANNOTATION, "")
        try:
            provider = self.providers.get(provider_name)
            result = await asyncio.to_thread(provider.delete, ObjectKey(namespace=key[1], name=key[2]))
            self.metrics.cloud_calls.labels(provider_name, "delete").inc()
            self.metrics.cloud_calls.labels(provider_name, "mutation").inc(result.mutations)
            if not result.finished:
                return await self._delete_unfinished(gateway, key, provider_name, result, started)
            finalizers = [f for f in meta.get("finalizers") or () if f != FINALIZER]
            await self._patch_metadata(gateway, {"finalizers": finalizers})
        except ApiError as error:
            if error.not_found:
                return Outcome(finished=True)
            return self._finalize_failed(key, provider_name, str(error), started)
        except ProviderUnavailable as error:
            return self._finalize_failed(key, provider_name, str(error), started)
        except Exception as error:  # a provider bug: logged with its traceback, counted, retried
            log.exception("provider %s raised while deleting %s/%s", provider_name, key[1], key[2])
            self.metrics.provider_exceptions.labels(provider_name or "unknown", "delete").inc()
            return self._finalize_failed(key, provider_name, str(error) or repr(error), started)
        self.failures.clear(key)
        log_outcome(self.metrics, key, provider_name, "deleted", started)
        return Outcome(finished=True)

    async def _delete_unfinished(
        self, gateway: dict[str, Any], key: ObjKey, provider_name: str, result: DeleteResult, started: float
    ) -> Outcome:
        """The finalizer stays: an Event the first time, a log line every time, a retry with backoff."""
        failures = self.failures.record(key)
        remaining = ", ".join(result.remaining) or "unknown"
        message = f"{result.message or 'deleting'}; still owned: {remaining}"[:1024]
        if failures == 1:
            await self.events.post(gateway, "Warning", "DeletePending", message)
        delay = result.recheck_after if result.recheck_after is not None else self.failures.delay(failures)
        log_outcome(
            self.metrics, key, provider_name, "delete-pending", started, retry_in=f"{delay:.1f}s", remaining=message
        )
        return Outcome(requeue_after=delay)

    def _finalize_failed(self, key: ObjKey, provider_name: str, message: str, started: float) -> Outcome:
        delay = self.failures.delay(self.failures.record(key))
        self.metrics.errors.labels(provider_name or "unknown").inc()
        log_outcome(self.metrics, key, provider_name, "delete-error", started, retry_in=f"{delay:.1f}s", error=message)
        return Outcome(requeue_after=delay)
