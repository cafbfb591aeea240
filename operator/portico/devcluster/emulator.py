"""kmock's KubernetesEmulator with the API-server behaviour Portico relies on.

kmock stores objects and streams watch events, but never sets resourceVersion, generation,
uid or creationTimestamp, and accepts any write. This layer adds, for every write:

- creation: uid, creationTimestamp, resourceVersion, generation 1;
- a merge patch carrying `metadata.resourceVersion` that is not the current one fails with
  409 Conflict (optimistic concurrency, as the real API server does);
- every accepted write bumps resourceVersion; a change of `spec` bumps generation.

With `controllers=True` it also plays the controllers a real cluster runs: a Deployment gets
all its replicas available, a Service a cluster IP, node ports, and for LoadBalancer an ingress
IP from 192.0.2.0/24 (TEST-NET-1). Garbage collection by ownerReferences is not emulated.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import parsing
from kmock._internal.k8s import KubernetesEmulator, KubernetesError
from kmock._internal.rendering import Request

from portico.kube.resources import RESOURCES

_parse_path = parsing.parse_path


def parse_path(path: str) -> parsing.ParsedPath:
    """kmock reads `/api/v1/namespaces[/<name>]` as a namespace prefix with no resource and fails;
    the API server reads it as the cluster-scoped Namespace resource. kmock 0.8 has no hook for
    URL parsing, so the emulator wraps its parser for exactly those two paths."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and len(parts) <= 4:
        return parsing.ParsedPath("", "v1", "namespaces", None, parts[3] if len(parts) == 4 else None, None)
    return _parse_path(path)


parsing.parse_path = parse_path


def merged(base: Any, patch: Any) -> Any:
    """RFC 7386 merge of `patch` onto `base` (null deletes), without touching either."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    out = dict(base) if isinstance(base, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(out.get(key), value)
    return out


@attrs.define(kw_only=True)
class ClusterEmulator(KubernetesEmulator):
    controllers: bool = True
    # kmock matches each request against its whole request history (quadratic over a long run):
    # demos and benchmarks keep only the most recent requests; tests keep all for assertions.
    history_limit: int | None = None
    conflicts: int = attrs.field(default=0, init=False)
    writes: Counter[tuple[str, str, str]] = attrs.field(factory=Counter, init=False)
    _versions: Any = attrs.field(factory=lambda: itertools.count(1), init=False)
    _addresses: Any = attrs.field(factory=lambda: itertools.count(10), init=False)
    _ports: Any = attrs.field(factory=lambda: itertools.count(30000), init=False)

    def _next_version(self) -> str:
        return str(next(self._versions))

    def _current(self, request: Request) -> dict[str, Any] | None:
        if request.resource is None or request.name is None:
            return None
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        raw: dict[str, Any] = self.objects[key].raw
        return raw

    async def _handle(self, request: Request) -> aiohttp.web.StreamResponse:
        if self.history_limit is not None and len(self._requests) > 2 * self.history_limit:
            del self._requests[: -self.history_limit]
        action = request.action
        if request.resource is not None and request.method in ("POST", "PATCH", "DELETE"):
            self.writes[(str(request.resource.plural), request.subresource or "", str(request.method))] += 1
        if request.resource is None or action not in (kmock.action.CREATE, kmock.action.UPDATE):
            return await super()._handle(request)
        try:
            if action == kmock.action.CREATE and isinstance(request.data, dict):
                self._stamp_new(request)
            elif action == kmock.action.UPDATE:
                self._stamp_update(request)
        except KubernetesError as error:
            return await self._render_error(error)
        return await super()._handle(request)

    def _stamp_new(self, request: Request) -> None:
        obj = request.data
        meta = obj.setdefault("metadata", {})
        if request.namespace and not meta.get("namespace"):
            meta["namespace"] = request.namespace
        meta.update(
            uid=str(uuid.uuid4()),
            creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            resourceVersion=self._next_version(),
            generation=1,
        )
        if self.controllers:
            self._run_controllers(obj, obj)

    def _stamp_update(self, request: Request) -> None:
        current = self._current(request)
        if current is None:
            return  # kmock answers 404
        version = self._next_version()
        body = request.data
        if isinstance(body, list):  # a JSON patch: only bump the version
            body.append({"op": "replace", "path": "/metadata/resourceVersion", "value": version})
            return
        if not isinstance(body, dict):
            return
        meta = body.setdefault("metadata", {})
        wanted = meta.get("resourceVersion")
        have = (current.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and str(wanted) != str(have):
            self.conflicts += 1
            raise KubernetesError(
                status=409,
                reason="Conflict",
                message=f"the object has been modified (resourceVersion {wanted} is not {have}); "
                "please apply your changes to the latest version and try again",
            )
        meta["resourceVersion"] = version
        after = merged(current, body)
        if "spec" in body and after.get("spec") != current.get("spec"):
            meta["generation"] = int((current.get("metadata") or {}).get("generation") or 1) + 1
        if self.controllers:
            self._run_controllers(after, body)

    def _run_controllers(self, obj: Mapping[str, Any], body: dict[str, Any]) -> None:
        """Write into `body` the status a real cluster's controllers would converge to."""
        kind = obj.get("kind")
        spec = obj.get("spec") or {}
        if kind == "Deployment":
            replicas = spec.get("replicas", 1)
            body["status"] = {
                "observedGeneration": (body.get("metadata") or {}).get("generation", 1),
                "replicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
                "updatedReplicas": replicas,
            }
        elif kind == "Service" and "spec" in body:
            self._service_controller(obj, body)

    def _service_controller(self, obj: Mapping[str, Any], body: dict[str, Any]) -> None:
        spec = obj.get("spec") or {}
        kind = spec.get("type", "ClusterIP")
        patch: dict[str, Any] = {}
        if not spec.get("clusterIP"):
            patch["clusterIP"] = f"10.96.0.{next(self._addresses) % 250 + 2}"
        if kind in ("NodePort", "LoadBalancer"):
            patch["ports"] = [dict(p, nodePort=p.get("nodePort") or next(self._ports)) for p in spec.get("ports") or ()]
        body["spec"] = merged(body.get("spec"), patch)
        current_ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
        if kind == "LoadBalancer" and not current_ingress:
            body["status"] = {"loadBalancer": {"ingress": [{"ip": f"192.0.2.{next(self._addresses) % 250 + 2}"}]}}
        elif kind != "LoadBalancer":
            body["status"] = {"loadBalancer": {}}


BACKBONE: dict[str, dict[str, Any]] = {
    # kopf waits for these to be discoverable before it watches anything.
    "apiextensions.k8s.io/v1/customresourcedefinitions": {
        "kind": "CustomResourceDefinition",
        "namespaced": False,
    },
    "kopf.dev/v1/clusterkopfpeerings": {"kind": "ClusterKopfPeering", "namespaced": False},
    "kopf.dev/v1/kopfpeerings": {"kind": "KopfPeering", "namespaced": True},
}

VERBS = {"list", "watch", "get", "create", "patch", "update", "delete"}


def declare_resources(emulator: KubernetesEmulator) -> None:
    """Make every resource Portico and kopf use discoverable, with a status subresource."""
    for resource in RESOURCES:
        emulator.resources[resource.id] = kmock.ResourceInfo(
            kind=resource.kind,
            singular=resource.kind.lower(),
            namespaced=resource.namespaced,
            verbs=VERBS,
            subresources={"status"},
        )
    for resource_id, info in BACKBONE.items():
        emulator.resources[resource_id] = kmock.ResourceInfo(
            kind=info["kind"], singular=info["kind"].lower(), namespaced=info["namespaced"], verbs=VERBS
        )
