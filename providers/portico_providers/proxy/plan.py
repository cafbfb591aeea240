"""Pure planning: the steps that take the observed objects to the desired ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from portico.ir import GatewayIR, ObjectKey
from portico_providers.kit.diff import Step, diff
from portico_providers.kit.resources import Desired, KindRules, Spec
from portico_providers.kit.resources import Observed as KitObserved
from portico_providers.proxy import objects as o

ObjectId = tuple[str, str]  # (kind, name) within the Gateway's namespace


def object_id(obj: Mapping[str, Any]) -> ObjectId:
    return (str(obj.get("kind", "")), str((obj.get("metadata") or {}).get("name", "")))


@dataclass(frozen=True)
class Observed:
    """What exists for one Gateway: its owned objects and, for NodePort, the nodes' addresses."""

    objects: Mapping[ObjectId, Mapping[str, Any]] = field(default_factory=dict)
    node_addresses: tuple[str, ...] = ()


class KubeObject(Spec):
    """One Kubernetes object as the kit's resource spec: the whole object in `body`."""

    body: dict[str, Any]


def covers(current: Any, wanted: Any) -> bool:
    """The API server adds defaults and status around what Portico set: compare by containment."""
    if wanted is None:
        return True
    if isinstance(wanted, Mapping) and "metadata" in wanted:
        return contains(current, patch_body(wanted))
    return contains(current, wanted)


# Creation order: what the Deployment mounts comes before it, the Service last (deletes: reverse).
KINDS = tuple(KindRules(kind, same=covers) for kind in ("Secret", "ConfigMap", "Deployment", "Service"))


@dataclass(frozen=True)
class ProxyPlan:
    gateway: ObjectKey
    steps: tuple[Step, ...] = ()
    desired: tuple[Mapping[str, Any], ...] = ()
    ir: GatewayIR | None = None

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def to_document(self) -> dict[str, Any]:
        return {"gateway": str(self.gateway), "steps": [step_document(self.gateway, s) for s in self.steps]}


def step_document(gateway: ObjectKey, step: Step) -> dict[str, Any]:
    action = "patch" if step.action == "update" else step.action
    return {"action": action, "kind": step.kind, "name": f"{gateway.namespace}/{step.id}"}


def contains(actual: Any, wanted: Any) -> bool:
    """Whether `actual` has everything `wanted` has (the server may add defaults around it)."""
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(
            actual.get(k) is None if v is None else (k in actual and contains(actual[k], v)) for k, v in wanted.items()
        )
    if isinstance(wanted, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(wanted)
            and all(contains(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    return bool(actual == wanted)


def patch_body(desired: Mapping[str, Any]) -> dict[str, Any]:
    """What a patch sets: everything but the identity, and only the metadata Portico owns."""
    meta = desired.get("metadata") or {}
    body = {k: v for k, v in desired.items() if k not in ("apiVersion", "kind", "metadata")}
    body["metadata"] = {k: v for k, v in meta.items() if k in ("labels", "annotations", "ownerReferences")}
    if desired.get("kind") == "ConfigMap":  # the IR moves between data and binaryData as it grows
        for content in ("data", "binaryData"):
            body.setdefault(content, None)
    return body


def plan_objects(gateway: ObjectKey, desired: Sequence[Mapping[str, Any]], observed: Observed | None) -> list[Step]:
    """Create what is missing, patch what differs, delete what is owned and no longer wanted (the kit's diff)."""
    wanted = [Desired(kind, name, KubeObject(body=dict(obj))) for obj in desired for kind, name in [object_id(obj)]]
    have = dict(observed.objects) if observed is not None else {}
    found = [
        KitObserved(kind, name, f"{gateway.namespace}/{name}", KubeObject(body=dict(obj)))
        for (kind, name), obj in sorted(have.items())
    ]
    return list(diff(wanted, found, KINDS).steps)


def plan(ir: GatewayIR | None, observed: Observed | None, gateway: ObjectKey, image: str) -> ProxyPlan:
    desired = o.desired_objects(ir, image) if ir is not None else []
    return ProxyPlan(gateway, tuple(plan_objects(gateway, desired, observed)), tuple(desired), ir)


def addresses(
    service_type: str, service: Mapping[str, Any] | None, node_addresses: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """Gateway addresses: the load balancer's ingress; otherwise the requested externalIPs, then the
    nodes (NodePort) or the cluster IP."""
    if service is None:
        return ()
    if service_type == "LoadBalancer":
        out = []
        for ingress in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ():
            if ingress.get("ip"):
                out.append(("IPAddress", str(ingress["ip"])))
            elif ingress.get("hostname"):
                out.append(("Hostname", str(ingress["hostname"])))
        return tuple(out)
    # Requested static addresses (externalIPs) first: the Service answers on them as well.
    external = tuple(("IPAddress", str(ip)) for ip in (service.get("spec") or {}).get("externalIPs") or ())
    if service_type == "NodePort":
        return external + tuple(("IPAddress", address) for address in node_addresses)
    cluster_ip = (service.get("spec") or {}).get("clusterIP")
    return external + ((("IPAddress", str(cluster_ip)),) if cluster_ip and cluster_ip != "None" else ())


def node_addresses(nodes: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Each node's ExternalIP, or its InternalIP when it has none."""
    out: list[str] = []
    for node in nodes:
        found = {a.get("type"): a.get("address") for a in (node.get("status") or {}).get("addresses") or ()}
        address = found.get("ExternalIP") or found.get("InternalIP")
        if address:
            out.append(str(address))
    return tuple(sorted(set(out)))


def readiness(deployment: Mapping[str, Any] | None, found: Sequence[tuple[str, str]], service_type: str) -> str:
    """Empty when the Gateway serves traffic; otherwise what it is waiting for."""
    if deployment is None:
        return "the proxy Deployment does not exist yet"
    available = (deployment.get("status") or {}).get("availableReplicas") or 0
    if available < 1:
        return "waiting for a proxy replica to become available"
    if not found and service_type == "LoadBalancer":
        return "waiting for the load balancer to get an address"
    return ""
