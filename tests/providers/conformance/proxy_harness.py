"""Conformance harness for the proxy provider against the API server emulator.

The provider's calls block on the test's event loop (as they do on the operator's), so the
suite runs its scenario in a worker thread while the loop serves the emulator.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from portico.devcluster import ClusterEmulator
from portico.ir import GatewayIR, Rule
from portico.kube import ApiError, KubeClient, resource_for
from portico.kube.blocking import BlockingKube
from portico.kube.resources import ResourceType
from portico.provider import AnyProvider, ProviderContext, load_provider
from portico_providers.proxy import objects as o
from tests.providers.conformance.harness import GATEWAY, default_rules, gateway_ir

CONFIGMAP = resource_for("ConfigMap")
KINDS = ("ConfigMap", "Deployment", "Service", "Secret")


class FaultyKube:
    """The provider's Kubernetes calls, with the API server's refusals injected once when armed."""

    def __init__(self, inner: BlockingKube) -> None:
        self.inner = inner
        self.refuse = False
        self.lose_create = False
        self.writes = 0

    def _maybe_refuse(self) -> None:
        if self.refuse:
            self.refuse = False
            raise ApiError(429, "TooManyRequests", "injected: the API server asks to retry later")

    def get_or_none(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.inner.get_or_none(resource, namespace, name)

    def list(
        self, resource: ResourceType, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        return self.inner.list(resource, namespace, label_selector)

    def create(self, resource: ResourceType, obj: Any) -> dict[str, Any]:
        self._maybe_refuse()
        self.writes += 1
        made = self.inner.create(resource, obj)
        if self.lose_create:
            self.lose_create = False
            raise ApiError(504, "Timeout", "injected: the answer was lost")
        return made

    def patch(self, resource: ResourceType, namespace: str | None, name: str, patch: Any) -> dict[str, Any]:
        self._maybe_refuse()
        self.writes += 1
        return self.inner.patch(resource, namespace, name, patch)

    def delete(self, resource: ResourceType, namespace: str | None, name: str) -> bool:
        self._maybe_refuse()
        self.writes += 1
        return self.inner.delete(resource, namespace, name)


class ProxyHarness:
    name = "proxy"
    token_shaped = "${web}"

    def __init__(self, emulator: ClusterEmulator, client: KubeClient, loop: asyncio.AbstractEventLoop) -> None:
        self.emulator = emulator
        self.kube = FaultyKube(BlockingKube(client, loop))
        self.blocking = BlockingKube(client, loop)
        self.provider: AnyProvider = load_provider("proxy", ProviderContext(options={"kube": self.kube}))

    def user_rules(self, value: str) -> tuple[Rule, ...]:
        return default_rules(header_value=value)

    def ir(self, rules: tuple[Rule, ...] | None = None) -> GatewayIR:
        return gateway_ir("portico.dev/proxy", default_rules() if rules is None else rules)

    def mutations(self) -> int:
        return self.kube.writes

    def _labelled(self, kind: str) -> list[dict[str, Any]]:
        return self.blocking.list(resource_for(kind), GATEWAY.namespace, f"{o.MANAGED_BY}=portico")

    def owned(self) -> list[str]:
        found = []
        for kind in KINDS:
            for obj in self._labelled(kind):
                labels: Mapping[str, str] = obj["metadata"].get("labels") or {}
                if labels.get(o.GATEWAY_NAME) == GATEWAY.name and labels.get(o.GATEWAY_NAMESPACE) == GATEWAY.namespace:
                    found.append(f"{kind}/{obj['metadata']['name']}")
        return sorted(found)

    def plant_foreign(self, ir: GatewayIR) -> Callable[[], Any]:
        other = {o.MANAGED_BY: "portico", o.GATEWAY_NAME: "other", o.GATEWAY_NAMESPACE: GATEWAY.namespace}
        planted = [
            ("someone-elses", {}),
            ("another-gateways", other),
            (o.object_name(GATEWAY.name), {}),  # the name Portico would use
        ]
        for name, labels in planted:
            meta = {"name": name, "namespace": GATEWAY.namespace, "labels": labels}
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}
            self.blocking.create(CONFIGMAP, body)

        def read() -> Any:
            objs = [self.blocking.get_or_none(CONFIGMAP, GATEWAY.namespace, name) for name, _ in planted]
            return json.dumps(
                [(x or {}).get("metadata", {}).get("labels") for x in objs] + [(x or {}).get("data") for x in objs]
            )

        return read

    def lose_next_create_answer(self) -> None:
        self.kube.lose_create = True

    def refuse_next_mutation(self) -> None:
        self.kube.refuse = True

    def start_pending(self) -> None:
        self.emulator.deployments_available = False

    def finish_pending(self) -> None:
        self.emulator.deployments_available = True
        deployment, name = resource_for("Deployment"), o.object_name(GATEWAY.name)
        if self.blocking.get_or_none(deployment, GATEWAY.namespace, name) is None:
            return  # not made yet: it becomes available as it is created
        touch = {"metadata": {"annotations": {"portico.test/touched": "1"}}}
        self.blocking.patch(deployment, GATEWAY.namespace, name, touch)

    def state_text(self) -> str:
        found = self.blocking.get_or_none(CONFIGMAP, GATEWAY.namespace, o.object_name(GATEWAY.name))
        return json.dumps((found or {}).get("data"))
