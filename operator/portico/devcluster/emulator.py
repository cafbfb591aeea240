"""An embedded Kubernetes API server: kmock for discovery, Portico's own store for objects.

kmock's KubernetesEmulator serves discovery (`/api`, `/apis`, `/apis/<group>/<version>`), which
kopf reads once at start. Its object serving is left out: kmock 0.8 matches every request
against its whole request history and its reaction filters (about 18 ms per request with a few
hundred objects), and it neither stamps versions nor detects conflicts. Requests for a declared
resource therefore go straight to `ObjectStore` (see `portico.devcluster.store` for the API
server behaviour it reproduces): get, list (with label selectors), watch (resumable from a
resourceVersion), create, merge patch, update and delete, on the resource or its `status`.

With `controllers=True` it also plays the controllers a real cluster runs: a Deployment gets
all its replicas available (with `deployments_available=False` it gets none, and a test makes it
available by writing its status), a Service a cluster IP, node ports, and for LoadBalancer an
ingress IP from 192.0.2.0/24 (TEST-NET-1): its `spec.loadBalancerIP` when that lies in the pool,
none when it does not (as MetalLB leaves it pending). Garbage collection by ownerReferences is not emulated.
With `deny_external_ips=True` it runs the DenyServiceExternalIPs admission plugin (GKE's default): a
Service write that adds `spec.externalIPs` is refused with 403 Forbidden, as the API server does.

Writes are recorded cheaply in `write_log` (method, plural, subresource, namespace, name) and
counted in `writes`, reads counted in `reads`, for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal.k8s import KubernetesEmulator

from portico.devcluster.faults import Faults
from portico.devcluster.store import Kind, ObjectStore, StatusError, matches_labels, merged
from portico.kube.resources import RESOURCES

MERGE_PATCHES = ("application/merge-patch+json", "application/strategic-merge-patch+json", "application/json")
WATCH_POLL_SECONDS = 0.25  # how often an idle watch checks that its client is still there


@dataclass(frozen=True)
class Recorded:
    """One write request: enough to count writes per resource in tests."""

    method: str
    plural: str
    subresource: str | None
    namespace: str | None
    name: str | None


def _json(body: Any, status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.Response(body=json.dumps(body), status=status, content_type="application/json")


_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@attrs.define(kw_only=True)
class ClusterEmulator(KubernetesEmulator):
    controllers: bool = True
    deployments_available: bool = True
    deny_external_ips: bool = False  # the DenyServiceExternalIPs admission plugin
    writes: Counter[tuple[str, str, str]] = attrs.field(factory=Counter, init=False)
    reads: Counter[tuple[str, str, str]] = attrs.field(factory=Counter, init=False)  # (plural, sub, get|list|watch)
    write_log: list[Recorded] = attrs.field(factory=list, init=False)
    # Distinct (verb, group, resource[/subresource], Authorization header): what RBAC would be asked.
    access_log: set[tuple[str, str, str, str]] = attrs.field(factory=set, init=False)
    store: ObjectStore = attrs.field(init=False)
    faults: Faults = attrs.field(factory=Faults, init=False)  # see portico.devcluster.faults
    _kinds: dict[tuple[str, str, str], Kind] = attrs.field(factory=dict, init=False)
    _addresses: Any = attrs.field(factory=lambda: itertools.count(10), init=False)
    _ports: Any = attrs.field(factory=lambda: itertools.count(30000), init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.store = ObjectStore(self._converge if self.controllers else None)

    @property
    def objects(self) -> dict[tuple[str, str, str], dict[str, Any]]:  # type: ignore[override]
        """Every stored object by (resource id, namespace, name)."""
        return self.store.objects

    @property
    def conflicts(self) -> int:
        return self.store.conflicts

    def declare(self, group: str, version: str, plural: str, kind: str, namespaced: bool) -> None:
        """Serve a resource from the store and make it discoverable (with a status subresource)."""
        resource_id = f"{group}/{version}/{plural}" if group else f"{version}/{plural}"
        api_version = f"{group}/{version}" if group else version
        self._kinds[(group, version, plural)] = Kind(resource_id, api_version, kind, namespaced)
        self.resources[resource_id] = kmock.ResourceInfo(
            kind=kind, singular=kind.lower(), namespaced=namespaced, verbs=VERBS, subresources={"status"}
        )

    def undeclare_group(self, group: str, plural: str | None = None) -> None:
        """Forget every resource of an API group (or only `plural`), as if its CRDs were not installed."""
        for key in [k for k in self._kinds if k[0] == group and plural in (None, k[2])]:
            del self._kinds[key]
        for resource_id in [r for r in self.resources if r.group == group and plural in (None, r.plural)]:
            del self.resources[resource_id]

    def _route(self, path: str) -> tuple[Kind, str | None, str | None, str | None] | None:
        """(kind, namespace, name, subresource) of a resource URL, None for anything else."""
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = None
        # `/api/v1/namespaces/<x>/<plural>` is namespaced; `/api/v1/namespaces/<x>` is a Namespace.
        if len(rest) >= 3 and rest[0] == "namespaces" and (group, version, rest[2]) in self._kinds:
            namespace, rest = rest[1], rest[2:]
        kind = self._kinds.get((group, version, rest[0]))
        if kind is None or len(rest) > 3:
            return None
        return kind, namespace, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        target = self._route(raw_request.path)
        if target is None:
            return await super().__call__(raw_request)  # discovery and anything else: kmock
        kind, namespace, name, subresource = target
        method = raw_request.method
        plural = kind.resource_id.rsplit("/", 1)[-1]
        if method != "GET":
            self.write_log.append(Recorded(method, plural, subresource, namespace, name))
            self.writes[(plural, subresource or "", method)] += 1
            verb = _WRITE_VERBS.get(method, method.lower())
            if method == "DELETE" and not name:
                verb = "deletecollection"
        else:
            verb = "get" if name else "watch" if raw_request.query.get("watch") in ("true", "1") else "list"
            self.reads[(plural, subresource or "", verb)] += 1
        group = kind.api_version.rsplit("/", 1)[0] if "/" in kind.api_version else ""
        resource = plural + (f"/{subresource}" if subresource else "")
        authorization = raw_request.headers.get("Authorization", "")
        self.access_log.add((verb, group, resource, authorization))
        try:
            self.faults.check(verb, resource, authorization)
            return await self._serve(raw_request, kind, namespace, name, subresource)
        except StatusError as error:
            response = _json(error.status(), error.code)
            if error.code == 429:
                response.headers["Retry-After"] = "1"
            return response

    async def _serve(
        self,
        raw_request: aiohttp.web.BaseRequest,
        kind: Kind,
        namespace: str | None,
        name: str | None,
        subresource: str | None,
    ) -> aiohttp.web.StreamResponse:
        method, query = raw_request.method, raw_request.query
        if method == "GET" and name is None:
            if query.get("watch") in ("true", "1"):
                return await self._watch(raw_request, kind, namespace)
            items = self.store.select(kind, namespace, query.get("labelSelector"))
            meta = {"resourceVersion": self.store.resource_version}
            return _json({"apiVersion": kind.api_version, "kind": f"{kind.kind}List", "metadata": meta, "items": items})
        if method == "GET" and name is not None:
            return _json(self.store.get(kind, namespace, name))
        if method == "DELETE" and name is not None:
            return _json(self.store.delete(kind, namespace, name))
        body = await self._body(raw_request)
        if self.deny_external_ips and kind.kind == "Service" and subresource is None:
            self._admit_external_ips(kind, namespace, name, body, method)
        if method == "POST" and name is None:
            return _json(self.store.create(kind, namespace, body), 201)
        if method == "PATCH" and name is not None:
            content_type = raw_request.content_type
            if content_type not in MERGE_PATCHES:
                raise StatusError(415, "UnsupportedMediaType", f"the emulator does not take {content_type} patches")
            return _json(self.store.patch(kind, namespace, name, body, subresource))
        if method == "PUT" and name is not None:
            return _json(self.store.replace(kind, namespace, name, body, subresource))
        raise StatusError(405, "MethodNotAllowed", f"{method} is not supported on {raw_request.path}")

    def _admit_external_ips(
        self, kind: Kind, namespace: str | None, name: str | None, body: dict[str, Any], method: str
    ) -> None:
        """DenyServiceExternalIPs: a write may keep externalIPs the Service has, never add one."""
        old = self.store.get(kind, namespace, name) if name is not None and method in ("PATCH", "PUT") else None
        new = merged(old, body) if method == "PATCH" else body
        wanted = ((new or {}).get("spec") or {}).get("externalIPs") or []
        had = set(((old or {}).get("spec") or {}).get("externalIPs") or [])
        if any(ip not in had for ip in wanted):
            service = name or (body.get("metadata") or {}).get("name", "")
            message = f'services "{service}" is forbidden: Use of external IPs is denied by admission control'
            raise StatusError(403, "Forbidden", message)

    @staticmethod
    async def _body(raw_request: aiohttp.web.BaseRequest) -> dict[str, Any]:
        try:
            body = json.loads(await raw_request.read() or b"{}")
        except json.JSONDecodeError as error:
            raise StatusError(400, "BadRequest", f"the body is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise StatusError(400, "BadRequest", "the body must be a JSON object")
        return body

    async def _watch(
        self, raw_request: aiohttp.web.BaseRequest, kind: Kind, namespace: str | None
    ) -> aiohttp.web.StreamResponse:
        query = raw_request.query
        selector = query.get("labelSelector")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(query.get("timeoutSeconds") or 1800)
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(raw_request)
        try:
            since = query.get("resourceVersion")
            if self.faults.expired(since):
                raise StatusError(410, "Expired", f"too old resource version: {since} ({self.faults.expired_before})")
            replay, queue = self.store.subscribe(kind, since)
        except StatusError as error:
            await response.write(json.dumps({"type": "ERROR", "object": error.status()}).encode() + b"\n")
            return response

        def visible(event: Mapping[str, Any]) -> bool:
            obj = event["object"]
            in_namespace = not namespace or (obj.get("metadata") or {}).get("namespace") == namespace
            return in_namespace and matches_labels(obj, selector)

        cuts = self.faults.watch_cuts
        try:
            events = replay
            while True:
                lines = [json.dumps(e).encode() + b"\n" for e in events if visible(e)]
                if lines:
                    await response.write(b"".join(lines))
                events = []
                while not events:
                    remaining = deadline - loop.time()
                    transport = raw_request.transport
                    if remaining <= 0 or transport is None or transport.is_closing() or cuts != self.faults.watch_cuts:
                        return response
                    with contextlib.suppress(TimeoutError):
                        events.append(await asyncio.wait_for(queue.get(), min(remaining, WATCH_POLL_SECONDS)))
                while not queue.empty():  # send a burst in one write
                    events.append(queue.get_nowait())
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            return response
        finally:
            self.store.unsubscribe(kind, queue)

    def _converge(self, kind: Kind, before: Mapping[str, Any] | None, obj: dict[str, Any]) -> dict[str, Any]:
        """The status the Deployment and Service controllers of a real cluster would converge to."""
        if kind.kind == "Deployment":
            return self._deployment_controller(before, obj)
        if kind.kind == "Service":
            return self._service_controller(obj)
        return obj

    def _deployment_controller(self, before: Mapping[str, Any] | None, obj: dict[str, Any]) -> dict[str, Any]:
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        if not self.deployments_available:
            if before is not None:
                return obj  # the status stays what the test wrote
            status = {"replicas": replicas, "readyReplicas": 0, "availableReplicas": 0, "updatedReplicas": replicas}
        else:
            status = {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}
            status["updatedReplicas"] = replicas
        status["observedGeneration"] = obj["metadata"].get("generation", 1)
        return {**obj, "status": status}

    def _service_controller(self, obj: dict[str, Any]) -> dict[str, Any]:
        spec = obj.get("spec") or {}
        service_type = spec.get("type", "ClusterIP")
        patch: dict[str, Any] = {}
        if not spec.get("clusterIP"):
            patch["clusterIP"] = f"10.96.0.{next(self._addresses) % 250 + 2}"
        if service_type in ("NodePort", "LoadBalancer"):
            ports = spec.get("ports") or ()
            patch["ports"] = [dict(p, nodePort=p.get("nodePort") or next(self._ports)) for p in ports]
        status = obj.get("status") or {}
        requested = spec.get("loadBalancerIP")
        if service_type == "LoadBalancer" and not (status.get("loadBalancer") or {}).get("ingress"):
            # Like MetalLB: a requested IP is assigned from the pool, one outside it never is.
            if not requested:
                status = {"loadBalancer": {"ingress": [{"ip": f"192.0.2.{next(self._addresses) % 250 + 2}"}]}}
            elif _in_pool(str(requested)):
                status = {"loadBalancer": {"ingress": [{"ip": str(requested)}]}}
            else:
                status = {"loadBalancer": {}}
        elif service_type != "LoadBalancer":
            status = {"loadBalancer": {}}
        return {**obj, "spec": merged(spec, patch), "status": status}


LOAD_BALANCER_POOL = ipaddress.ip_network("192.0.2.0/24")


def _in_pool(value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in LOAD_BALANCER_POOL
    except ValueError:
        return False


VERBS = {"list", "watch", "get", "create", "patch", "update", "delete"}

BACKBONE: tuple[tuple[str, str, str, str, bool], ...] = (
    # kopf waits for these to be discoverable before it watches anything.
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
    ("kopf.dev", "v1", "clusterkopfpeerings", "ClusterKopfPeering", False),
    ("kopf.dev", "v1", "kopfpeerings", "KopfPeering", True),
)


def declare_resources(emulator: ClusterEmulator) -> None:
    """Make every resource Portico and kopf use discoverable and served from the store."""
    for resource in RESOURCES:
        emulator.declare(resource.group, resource.version, resource.plural, resource.kind, resource.namespaced)
    for group, version, plural, kind, namespaced in BACKBONE:
        emulator.declare(group, version, plural, kind, namespaced)
