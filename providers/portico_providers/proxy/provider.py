"""The in-cluster proxy provider: Kubernetes objects instead of cloud resources.

`observe`, `apply` and `delete` run in a worker thread; their Kubernetes calls go through the
operator's client (see `portico.kube.blocking`).
"""

from __future__ import annotations

from typing import Any, Protocol

from portico.ir import GatewayIR, ObjectKey
from portico.kube import ApiError, resource_for
from portico.kube.resources import NODE, SECRET, ResourceType
from portico.provider import ApplyResult, Capabilities, Plan
from portico_providers.proxy import objects as o
from portico_providers.proxy.plan import (
    Observed,
    ProxyPlan,
    addresses,
    node_addresses,
    object_id,
    plan,
    readiness,
)
from portico_proxy.linear_regex import PROXY_CAPABILITIES


class Kube(Protocol):
    """The blocking Kubernetes calls the provider makes (`portico.kube.blocking.BlockingKube`)."""

    def get_or_none(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def list(
        self, resource: ResourceType, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]: ...

    def create(self, resource: ResourceType, obj: Any) -> dict[str, Any]: ...

    def patch(self, resource: ResourceType, namespace: str | None, name: str, patch: Any) -> dict[str, Any]: ...

    def delete(self, resource: ResourceType, namespace: str | None, name: str) -> bool: ...


def _owned_by(obj: dict[str, Any], gateway: ObjectKey) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(
        labels.get(o.MANAGED_BY) == "portico"
        and labels.get(o.GATEWAY_NAME) == gateway.name[:63]
        and labels.get(o.GATEWAY_NAMESPACE) == gateway.namespace[:63]
    )


class ProxyProvider:
    name = "proxy"

    def __init__(self, kube: Kube | None, image: str = o.DEFAULT_IMAGE) -> None:
        self._kube = kube
        self._image = image

    def capabilities(self) -> Capabilities:
        return PROXY_CAPABILITIES  # every feature; regexes must compile with RE2

    def _api(self) -> Kube:
        if self._kube is None:
            raise RuntimeError("the proxy provider has no Kubernetes client (offline plan only)")
        return self._kube

    def observe(self, gateway: ObjectKey) -> Observed:
        kube = self._api()
        found: dict[tuple[str, str], dict[str, Any]] = {}
        name = o.object_name(gateway.name)
        for kind in ("ConfigMap", "Deployment", "Service"):
            obj = kube.get_or_none(resource_for(kind), gateway.namespace, name)
            if obj is not None and _owned_by(obj, gateway):
                found[(kind, name)] = {**obj, "kind": kind}
        selector = f"{o.MANAGED_BY}=portico,{o.GATEWAY_NAME}={gateway.name[:63]}"
        for secret in kube.list(SECRET, gateway.namespace, selector):
            if _owned_by(secret, gateway):
                found[object_id(secret)] = secret
        service = found.get(("Service", name))
        nodes: tuple[str, ...] = ()
        if service is not None and (service.get("spec") or {}).get("type") == "NodePort":
            nodes = node_addresses(kube.list(NODE))
        return Observed(found, nodes)

    def plan(self, ir: GatewayIR | None, observed: Any) -> ProxyPlan:
        gateway = ir.gateway if ir is not None else None
        if gateway is None:
            keys = {(k, n) for k, n in (observed.objects if isinstance(observed, Observed) else {})}
            gateway = self._gateway_of(observed) if keys else ObjectKey(namespace="default", name="unknown")
        return plan(ir, observed if isinstance(observed, Observed) else None, gateway, self._image)

    @staticmethod
    def _gateway_of(observed: Observed) -> ObjectKey:
        labels = (next(iter(observed.objects.values())).get("metadata") or {}).get("labels") or {}
        return ObjectKey(namespace=labels.get(o.GATEWAY_NAMESPACE, ""), name=labels.get(o.GATEWAY_NAME, ""))

    def _run(self, proxy_plan: ProxyPlan) -> None:
        kube = self._api()
        for step in proxy_plan.steps:
            resource = resource_for(step.kind)
            if step.action == "create":
                assert step.body is not None
                try:
                    kube.create(resource, step.body)
                except ApiError as error:
                    if not error.conflict:
                        raise
                    # Made by an earlier run that did not see it yet (e.g. a restart): adopt it.
                    kube.patch(resource, step.namespace, step.name, step.body)
            elif step.action == "patch":
                kube.patch(resource, step.namespace, step.name, step.body or {})
            else:
                kube.delete(resource, step.namespace, step.name)

    def apply(self, proxy_plan: Plan) -> ApplyResult:
        assert isinstance(proxy_plan, ProxyPlan)
        self._run(proxy_plan)
        if proxy_plan.ir is None:
            return ApplyResult(programmed=False, message="deleted", mutations=len(proxy_plan.steps))
        kube = self._api()
        gateway = proxy_plan.gateway
        name = o.object_name(gateway.name)
        kind = o.service_type(proxy_plan.ir)
        svc = kube.get_or_none(resource_for("Service"), gateway.namespace, name)
        deployment = kube.get_or_none(resource_for("Deployment"), gateway.namespace, name)
        nodes = node_addresses(kube.list(NODE)) if kind == "NodePort" else ()
        found = addresses(kind, svc, nodes)
        waiting = readiness(deployment, found, kind)
        return ApplyResult(addresses=found, programmed=not waiting, message=waiting, mutations=len(proxy_plan.steps))

    def delete(self, gateway: ObjectKey) -> ApplyResult:
        observed = self.observe(gateway)
        result = plan(None, observed, gateway, self._image)
        self._run(result)
        return ApplyResult(programmed=False, message="deleted", mutations=len(result.steps))
