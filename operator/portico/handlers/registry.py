"""The kopf registry: thin event handlers that feed the store and publish affected keys.

Only `on.event` handlers are registered, so kopf never writes to watched objects itself:
no kopf finalizers, no progress annotations. Portico's own finalizer is managed by the
reconciler, which knows whether a Gateway is ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import kopf

from portico.kube.resources import MANAGED_BY, MANAGED_BY_LABEL, WATCHED, WATCHED_OWNED, ResourceType

if TYPE_CHECKING:
    from portico.handlers.runtime import Operator

TLS_SECRET = "kubernetes.io/tls"


def significant(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a reconcile reads: everything but status and bookkeeping metadata."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    return {**{k: v for k, v in obj.items() if k not in ("status", "metadata")}, "metadata": meta}


def _complete(obj: Mapping[str, Any], resource: ResourceType) -> dict[str, Any]:
    """Watch events may omit apiVersion/kind; the store and the snapshot need them."""
    return {**obj, "apiVersion": resource.api_version, "kind": resource.kind}


def build_registry(operator: Operator) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    config = operator.config

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        conn = config.connection
        return kopf.ConnectionInfo(
            server=conn.server,
            token=conn.token,
            scheme="Bearer" if conn.token else None,
            ca_path=conn.ca_path,
            ca_data=conn.ca_data,
            insecure=conn.insecure or None,
            certificate_path=conn.certificate_path,
            certificate_data=conn.certificate_data,
            private_key_path=conn.private_key_path,
            private_key_data=conn.private_key_data,
        )

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.watching.server_timeout = config.watch_timeout_seconds
        settings.posting.enabled = False  # Portico posts its own events; kopf's would be noise
        for resource in WATCHED_OWNED:  # only Portico's own Deployments, filtered by the API server
            selector = (resource.group, resource.version, resource.plural)
            settings.watching.label_selectors[selector] = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
        await operator.start()

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        await operator.stop()

    @kopf.on.probe(id="workers", registry=registry)
    def workers(**_: Any) -> int:
        return operator.bus.workers

    for resource in (*WATCHED, *WATCHED_OWNED):
        _register_feed(registry, operator, resource)
    return registry


def _register_feed(registry: kopf.OperatorRegistry, operator: Operator, resource: ResourceType) -> None:
    async def feed(event: Mapping[str, Any], **_: Any) -> None:
        raw = event.get("object")
        if not isinstance(raw, Mapping):
            return
        obj = _complete(raw, resource)
        if resource.kind == "Secret" and obj.get("type") != TLS_SECRET:
            return  # only TLS secrets can be certificates; do not keep the rest in memory
        operator.observe(str(event.get("type") or ""), obj)
        await asyncio.sleep(0)

    kopf.on.event(resource.group, resource.version, resource.plural, registry=registry, id=f"feed-{resource.kind}")(
        feed
    )
