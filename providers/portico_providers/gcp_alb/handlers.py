"""The only writes (kit KindHandlers): Compute calls per kind, never waiting on an operation.

Every call returns an Operation, polled once right away. One that is still RUNNING is recorded
(the provider polls it first on the next reconcile) and the step raises the kit's StillRunning
as part of a wave, so the other steps of the same kind and action still start. An update sends
the fingerprint Compute gave on the last read, so a concurrent change answers 412 and is re-read
rather than overwritten. A NEG's endpoints and an instance group's instances are attached and
detached by difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from portico_providers.gcp_alb.compute import ComputeApi, snake, where
from portico_providers.gcp_alb.model import (
    BACKEND_SERVICE,
    COLLECTIONS,
    FORWARDING_RULE,
    HEALTH_CHECK,
    INSTANCE_GROUP,
    MEMBERS,
    NEG,
    SSL_CERTIFICATE,
    TARGET_HTTP_PROXY,
    TARGET_HTTPS_PROXY,
    URL_MAP,
)
from portico_providers.gcp_alb.naming import scope_of
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import StillRunning
from portico_providers.kit.ownership import Marks
from portico_providers.kit.resources import Desired, Observed, member_set

RECHECK = 5.0  # seconds until the operator looks again at running Compute operations


@dataclass(frozen=True)
class PendingOperation:
    scope: str
    name: str
    what: str  # "insert urlMap portico-…-um-80": for messages


class OperationFailed(Exception):
    """An operation ended DONE with an error (Compute's code and message)."""

    def __init__(self, what: str, code: str, message: str) -> None:
        super().__init__(f"{what} failed: {code}: {message}")
        self.code = code


@dataclass
class Polled:
    running: list[PendingOperation]
    error: OperationFailed | None = None


def poll(api: ComputeApi, project: str, operations: Sequence[PendingOperation]) -> Polled:
    """Poll each operation once: which still run, and the first that failed."""
    from google.api_core import exceptions

    polled = Polled(running=[])
    for op in operations:
        try:
            status = api.poll(project, op.scope, op.name)
        except exceptions.NotFound:
            continue  # Compute forgets finished operations after a while: it ended
        if status.status != status.Status.DONE:
            polled.running.append(op)
        elif status.error.errors and polled.error is None:
            first = status.error.errors[0]
            polled.error = OperationFailed(op.what, first.code, first.message)
    return polled


def _members(spec: dict[str, Any] | None, field: str) -> list[Any]:
    return list((spec or {}).get(field) or [])


class ComputeHandler:
    def __init__(self, api: ComputeApi, project: str, kind: str, pending: list[PendingOperation]) -> None:
        self.api = api
        self.project = project
        self.kind = kind
        self.pending = pending  # the provider's record of this Gateway's running operations
        self.members = MEMBERS.get(kind, "")

    def _args(self, scope: str, name: str) -> dict[str, Any]:
        return {"project": self.project, **where(scope), snake(self.kind): name}

    def _settle(self, issued: Sequence[tuple[str, Any]], what: str) -> None:
        """Poll what was just issued: a failure raises, anything still running is recorded."""
        polled = poll(self.api, self.project, [PendingOperation(scope, op.name, what) for scope, op in issued])
        if polled.error is not None:
            raise polled.error
        if polled.running:
            self.pending.extend(polled.running)
            raise StillRunning(f"operation {polled.running[0].name} is running", RECHECK, wave=True)

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        scope = scope_of(desired.id)
        body = {k: v for k, v in spec.items() if k != self.members}
        body.update(name=marks.name, description=marks.description)
        if self.kind == SSL_CERTIFICATE:
            body["privateKey"] = desired.secret
        client = self.api.client(self.kind, scope)
        resource = self.api.message(self.kind, body)
        args = {"project": self.project, **where(scope), f"{snake(self.kind)}_resource": resource}
        self._settle([(scope, self.api.call(client.insert_unary, mutating=True, **args))], f"insert {marks.name}")
        added = _members(spec, self.members)
        if added:
            self._settle([(scope, self._membership(scope, marks.name, "attach", added))], f"attach to {marks.name}")
        return f"projects/{self.project}/{scope}/{COLLECTIONS[self.kind]}/{marks.name}"

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        issued: list[tuple[str, Any]] = []
        for step, spec in zip(steps, specs, strict=True):
            assert step.observed is not None
            scope, name = scope_of(step.id), step.observed.marks.name
            if self.members in step.fields:
                have = _members(step.observed.spec.model_dump(), self.members)
                want = _members(spec, self.members)
                gone = [m for m in have if _key(m) not in member_set(want)]
                new = [m for m in want if _key(m) not in member_set(have)]
                issued += [(scope, self._membership(scope, name, "detach", gone))] if gone else []
                issued += [(scope, self._membership(scope, name, "attach", new))] if new else []
            body = {k: v for k, v in spec.items() if k != self.members}
            fields = [f for f in step.fields if f != self.members]
            if fields:
                issued += [(scope, op) for op in self._update_fields(step.observed, scope, body, fields)]
        self._settle(issued, f"update {', '.join(s.observed.marks.name for s in steps if s.observed)}")

    def delete(self, observed: Observed) -> None:
        scope, name = scope_of(observed.id), observed.marks.name
        client = self.api.client(self.kind, scope)
        op = self.api.call(client.delete_unary, mutating=True, **self._args(scope, name))
        self._settle([(scope, op)], f"delete {name}")

    def _update_fields(self, observed: Observed, scope: str, body: dict[str, Any], fields: list[str]) -> list[Any]:
        from google.cloud import compute_v1

        client = self.api.client(self.kind, scope)
        args = self._args(scope, observed.marks.name)
        fingerprint = observed.extra.get("body", {}).get("fingerprint")
        if self.kind in (URL_MAP, BACKEND_SERVICE, HEALTH_CHECK):
            full = {**body, "fingerprint": fingerprint} if fingerprint else body
            resource = {f"{snake(self.kind)}_resource": self.api.message(self.kind, full)}
            return [self.api.call(client.update_unary, mutating=True, **args, **resource)]
        if self.kind == FORWARDING_RULE:
            ref = compute_v1.TargetReference(target=body["target"])
            return [self.api.call(client.set_target_unary, mutating=True, **args, target_reference_resource=ref)]
        if self.kind in (TARGET_HTTP_PROXY, TARGET_HTTPS_PROXY):
            return self._proxy(client, scope, args, body, fields)
        if self.kind == INSTANCE_GROUP:
            ports = [compute_v1.NamedPort(name=p["name"], port=p["port"]) for p in body.get("namedPorts", [])]
            request = compute_v1.InstanceGroupsSetNamedPortsRequest(named_ports=ports, fingerprint=fingerprint)
            return [
                self.api.call(
                    client.set_named_ports_unary,
                    mutating=True,
                    **args,
                    instance_groups_set_named_ports_request_resource=request,
                )
            ]
        raise ValueError(f"{self.kind} cannot be updated in place")  # the kit replaces immutable kinds

    def _proxy(
        self, client: Any, scope: str, args: dict[str, Any], body: dict[str, Any], fields: list[str]
    ) -> list[Any]:
        """A proxy changes through its verbs: new certificates, then the URL map."""
        from google.cloud import compute_v1

        ops = []
        if "sslCertificates" in fields:
            certs = list(body.get("sslCertificates", []))
            if scope == "global":
                request: Any = compute_v1.TargetHttpsProxiesSetSslCertificatesRequest(ssl_certificates=certs)
                field_name = "target_https_proxies_set_ssl_certificates_request_resource"
            else:
                request = compute_v1.RegionTargetHttpsProxiesSetSslCertificatesRequest(ssl_certificates=certs)
                field_name = "region_target_https_proxies_set_ssl_certificates_request_resource"
            ops.append(self.api.call(client.set_ssl_certificates_unary, mutating=True, **args, **{field_name: request}))
        if "urlMap" in fields:
            ref = compute_v1.UrlMapReference(url_map=body["urlMap"])
            ops.append(self.api.call(client.set_url_map_unary, mutating=True, **args, url_map_reference_resource=ref))
        return ops

    def _membership(self, scope: str, name: str, verb: str, members: list[Any]) -> Any:
        """NEG endpoints or instance group instances attached (`attach`) or detached."""
        from google.cloud import compute_v1

        client = self.api.client(self.kind, scope)
        args = self._args(scope, name)
        if self.kind == INSTANCE_GROUP:
            refs = [compute_v1.InstanceReference(instance=i) for i in members]
            if verb == "attach":
                add = compute_v1.InstanceGroupsAddInstancesRequest(instances=refs)
                return self.api.call(
                    client.add_instances_unary,
                    mutating=True,
                    **args,
                    instance_groups_add_instances_request_resource=add,
                )
            remove = compute_v1.InstanceGroupsRemoveInstancesRequest(instances=refs)
            return self.api.call(
                client.remove_instances_unary,
                mutating=True,
                **args,
                instance_groups_remove_instances_request_resource=remove,
            )
        assert self.kind == NEG
        endpoints = [compute_v1.NetworkEndpoint(**_snake_keys(e)) for e in members]
        if verb == "attach":
            request: Any = compute_v1.NetworkEndpointGroupsAttachEndpointsRequest(network_endpoints=endpoints)
            return self.api.call(
                client.attach_network_endpoints_unary,
                mutating=True,
                **args,
                network_endpoint_groups_attach_endpoints_request_resource=request,
            )
        request = compute_v1.NetworkEndpointGroupsDetachEndpointsRequest(network_endpoints=endpoints)
        return self.api.call(
            client.detach_network_endpoints_unary,
            mutating=True,
            **args,
            network_endpoint_groups_detach_endpoints_request_resource=request,
        )


def _key(member: Any) -> str:
    (key,) = member_set([member])
    return key


def _snake_keys(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {snake(k): v for k, v in endpoint.items()}
