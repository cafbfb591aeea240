"""The in-cluster proxy provider: Kubernetes objects instead of cloud resources.

`observe`, `apply` and `delete` run in a worker thread; their Kubernetes calls go through the
operator's client (see `portico.kube.blocking`).
"""

from __future__ import annotations

from typing import Any, Protocol

from portico.ir import GatewayIR, ObjectKey
from portico.kube import ApiError, resource_for
from portico.kube.resources import NODE, SECRET, ResourceType
from portico.provider import ApplyResult, Capabilities, DeleteResult
from portico_providers.kit.resources import Spec
from portico_providers.proxy import objects as o
from portico_providers.proxy.capabilities import CLUSTER_CAPABILITIES
from portico_providers.proxy.plan import (
    KubeObject,
    Observed,
    ProxyPlan,
    addresses,
    node_addresses,
    object_id,
    patch_body,
    plan,
    readiness,
    step_document,
)
from portico_providers.proxy.static_addresses import address_problem, external_ips_refused


class Kube(Protocol):
    """The blocking Kubernetes calls the provider makes (`portico.kube.blocking.BlockingKube`)."""

    def get_or_none(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None: ...

    def list(
        self, resource: ResourceType, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]: ...

    def create(self, resource: ResourceType, obj: Any) -> dict[str, Any]: ...

    def patch(self, resource: ResourceType, namespace: str | None, name: str, patch: Any) -> dict[str, Any]: ...

    def delete(self, resource: ResourceType, namespace: str | None, name: str) -> bool: ...


class NotOurs(Exception):
    """An object with the name Portico wants exists, but another owner's (or nobody's)."""


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
        return CLUSTER_CAPABILITIES

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

    def plan(self, ir: GatewayIR | None, observed: Observed | None) -> ProxyPlan:
        gateway = ir.gateway if ir is not None else None
        if gateway is None:
            known = observed is not None and bool(observed.objects)
            gateway = (
                self._gateway_of(observed) if observed and known else ObjectKey(namespace="default", name="unknown")
            )
        return plan(ir, observed, gateway, self._image)

    @staticmethod
    def _gateway_of(observed: Observed) -> ObjectKey:
        labels = (next(iter(observed.objects.values())).get("metadata") or {}).get("labels") or {}
        return ObjectKey(namespace=labels.get(o.GATEWAY_NAMESPACE, ""), name=labels.get(o.GATEWAY_NAME, ""))

    def _run(self, proxy_plan: ProxyPlan) -> str:
        """Run the steps; the API server's refusal as a message ("" when all ran)."""
        refusal = self._refusal(proxy_plan)
        return refusal[1] if refusal else ""

    def _refusal(self, proxy_plan: ProxyPlan) -> tuple[ApiError | NotOurs, str, Spec | None] | None:
        """Run the steps; the first refusal (the error, a message, what was refused) or None."""
        kube = self._api()
        namespace = proxy_plan.gateway.namespace
        for step in proxy_plan.steps:
            resource = resource_for(step.kind)
            try:
                if step.action == "create":
                    assert step.desired is not None
                    self._create(kube, resource, step.desired.spec, proxy_plan.gateway)
                elif step.action == "update":
                    assert step.desired is not None
                    kube.patch(resource, namespace, step.id, patch_body(self._body(step.desired.spec)))
                else:
                    kube.delete(resource, namespace, step.id)
            except (ApiError, NotOurs) as error:
                message = (
                    f"{step_document(proxy_plan.gateway, step)['action']} {step.kind} {namespace}/{step.id}: {error}"
                )
                return error, message, step.desired.spec if step.desired is not None else None
        return None

    @staticmethod
    def _body(spec: Spec) -> dict[str, Any]:
        assert isinstance(spec, KubeObject)
        return spec.body

    def _create(self, kube: Kube, resource: ResourceType, spec: Spec, gateway: ObjectKey) -> None:
        body = self._body(spec)
        name = str(body["metadata"]["name"])
        try:
            kube.create(resource, body)
        except ApiError as error:
            if not error.conflict:
                raise
            # Made by an earlier run whose answer was lost: adopt it, but only if it carries our labels.
            existing = kube.get_or_none(resource, gateway.namespace, name)
            if existing is None or not _owned_by(existing, gateway):
                raise NotOurs("exists and does not carry this Gateway's ownership labels") from error
            kube.patch(resource, gateway.namespace, name, body)

    def apply(self, proxy_plan: ProxyPlan) -> ApplyResult:
        refusal = self._refusal(proxy_plan)
        if refusal is not None:
            error, message, spec = refusal
            if proxy_plan.ir is not None and spec is not None:
                unusable = external_ips_refused(proxy_plan.ir, self._body(spec), error)
                if unusable is not None:  # a condition the user can act on, not a provider error
                    return ApplyResult.pending(unusable, None, (), len(proxy_plan.steps), reason="AddressNotUsable")
            return ApplyResult.failed(message, mutations=len(proxy_plan.steps))
        if proxy_plan.ir is None:
            return ApplyResult.done(message="deleted", mutations=len(proxy_plan.steps))
        kube = self._api()
        gateway = proxy_plan.gateway
        name = o.object_name(gateway.name)
        kind = o.service_type(proxy_plan.ir)
        svc = kube.get_or_none(resource_for("Service"), gateway.namespace, name)
        deployment = kube.get_or_none(resource_for("Deployment"), gateway.namespace, name)
        nodes = node_addresses(kube.list(NODE)) if kind == "NodePort" else ()
        found = addresses(kind, svc, nodes)
        mutations = len(proxy_plan.steps)
        problem = address_problem(proxy_plan.ir, kind, svc, found)
        if problem is not None:
            reason, message = problem
            return ApplyResult.pending(message, None, found, mutations, reason=reason)
        waiting = readiness(deployment, found, kind)
        if waiting:
            return ApplyResult.pending(waiting, None, found, mutations)
        return ApplyResult.done(found, mutations)

    def delete(self, gateway: ObjectKey) -> DeleteResult:
        """Delete what this Gateway owns, then look again: finished when nothing owned remains."""
        result = plan(None, self.observe(gateway), gateway, self._image)
        refused = self._run(result)
        left = self.observe(gateway).objects
        remaining = tuple(f"{kind} {gateway.namespace}/{name}" for kind, name in sorted(left))
        message = refused or ("deletion still in progress" if remaining else "")
        return DeleteResult(remaining, message, None, len(result.steps))
