"""`local` mode: the proxy runs in this process (`portico demo`), not in a pod.

It keeps every Gateway's IR and hands the whole set to the in-process proxy runtime, which
hot-reloads; a Gateway is programmed once all its listener ports are bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from portico.ir import GatewayIR, ObjectKey
from portico.provider import ApplyResult, Capabilities, DeleteResult, Plan
from portico_providers.proxy.plan import ProxyPlan
from portico_proxy.capabilities import PROXY_CAPABILITIES

LOOPBACK = "127.0.0.1"


class Runtime(Protocol):
    """What `portico_proxy.runtime.ProxyRuntime` offers the provider."""

    async def update(self, gateways: Sequence[GatewayIR]) -> Any: ...

    def bound_ports(self) -> Collection[int] | Mapping[int, Any]: ...


class LocalProxyProvider:
    name = "proxy"

    def __init__(self, runtime: Runtime, loop: asyncio.AbstractEventLoop, timeout_seconds: float = 30.0) -> None:
        self._runtime = runtime
        self._loop = loop
        self._timeout = timeout_seconds
        self._gateways: dict[ObjectKey, GatewayIR] = {}
        self._lock = threading.Lock()

    def capabilities(self) -> Capabilities:
        return PROXY_CAPABILITIES  # every feature; regexes must compile with RE2

    def observe(self, gateway: ObjectKey) -> GatewayIR | None:
        with self._lock:
            return self._gateways.get(gateway)

    def plan(self, ir: GatewayIR | None, observed: GatewayIR | None) -> ProxyPlan:
        gateway = ir.gateway if ir is not None else observed.gateway if isinstance(observed, GatewayIR) else None
        key = gateway or ObjectKey(namespace="", name="")
        return ProxyPlan(key, (), (), ir)

    def _push(self, gateway: ObjectKey, ir: GatewayIR | None) -> None:
        with self._lock:
            if ir is None:
                self._gateways.pop(gateway, None)
            else:
                self._gateways[gateway] = ir
            everything = [self._gateways[k] for k in sorted(self._gateways, key=str)]
            future = asyncio.run_coroutine_threadsafe(self._runtime.update(everything), self._loop)
            future.result(self._timeout)

    def apply(self, proxy_plan: Plan) -> ApplyResult:
        assert isinstance(proxy_plan, ProxyPlan)
        self._push(proxy_plan.gateway, proxy_plan.ir)
        if proxy_plan.ir is None:
            return ApplyResult.done(message="deleted", mutations=1)
        bound = set(self._runtime.bound_ports())
        missing = sorted({listener.port for listener in proxy_plan.ir.listeners} - bound)
        addresses = (("IPAddress", LOOPBACK),)
        if missing:
            return ApplyResult.pending(f"ports not bound: {', '.join(map(str, missing))}", None, addresses, 1)
        return ApplyResult.done(addresses, mutations=1)

    def delete(self, gateway: ObjectKey) -> DeleteResult:
        self._push(gateway, None)
        return DeleteResult(mutations=1)
