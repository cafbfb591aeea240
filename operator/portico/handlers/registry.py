"""The kopf registry: login, start-up, clean-up and a liveness probe.

kopf runs the operator's lifecycle; it registers no resource handlers, so it never watches or
writes a watched object itself (no kopf finalizers, no progress annotations). The store is fed by
Portico's own reflectors (`portico.handlers.reflector`): kopf's event handlers cannot see where a
re-list begins and ends, so a store fed by them could never drop what was deleted while a watch
was away. Portico's finalizer is managed by the reconciler, which knows whether a Gateway is ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import kopf

if TYPE_CHECKING:
    from portico.handlers.runtime import Operator

TLS_SECRET = "kubernetes.io/tls"


def significant(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a reconcile reads: everything but status and bookkeeping metadata (a Node's addresses are status)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    dropped = ("metadata",) if obj.get("kind") == "Node" else ("status", "metadata")
    return {**{k: v for k, v in obj.items() if k not in dropped}, "metadata": meta}


def build_registry(operator: Operator) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    config = operator.config

    handed: list[str | None] = []  # the token kopf was given last

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        conn = config.connection
        token = conn.token
        if conn.credentials is not None:
            # kopf logs in again only after a 401: if our own requests have not fetched a new token yet,
            # read it again now (run the exec plugin, re-read the token file), or kopf would get the
            # refused token back and give up.
            token = (conn.credentials.current() or "").removeprefix("Bearer ") or None
            if handed and token == handed[-1]:
                conn.credentials.reload()
                token = (conn.credentials.current() or "").removeprefix("Bearer ") or None
            handed.append(token)
            del handed[:-1]
        return kopf.ConnectionInfo(
            server=conn.server,
            token=token,
            scheme="Bearer" if token else None,
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
        settings.posting.enabled = False  # Portico posts its own events; kopf's would be noise
        await operator.start()

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        await operator.stop()

    @kopf.on.probe(id="workers", registry=registry)
    def workers(**_: Any) -> int:
        return operator.bus.workers

    return registry
