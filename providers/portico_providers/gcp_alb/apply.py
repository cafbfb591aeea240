"""The only writes: run a plan's steps through the Compute API, one wave of operations at a time.

Steps of one kind and action form a wave: their calls go out together, then each operation is
polled once. Anything still RUNNING is recorded and the apply returns pending; the next
reconcile polls the recorded operations first and re-plans from what Compute then holds.
An update sends the fingerprint Compute gave on the last read, so a concurrent change answers
412 and is re-read rather than overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portico_providers.gcp_alb.compute import ComputeApi, describe, http_code, reason, snake, where
from portico_providers.gcp_alb.diff import Step
from portico_providers.gcp_alb.model import (
    BACKEND_SERVICE,
    FORWARDING_RULE,
    HEALTH_CHECK,
    INSTANCE_GROUP,
    NEG,
    SSL_CERTIFICATE,
    TARGET_HTTP_PROXY,
    TARGET_HTTPS_PROXY,
    URL_MAP,
)


@dataclass(frozen=True)
class PendingOperation:
    scope: str
    name: str
    what: str  # "create urlMap um-80": for messages


@dataclass
class Outcome:
    running: list[PendingOperation] = field(default_factory=list)
    error: str = ""
    done: int = 0


def poll(api: ComputeApi, project: str, operations: Sequence[PendingOperation]) -> Outcome:
    """Poll each recorded operation once: which still run, and the first failure."""
    from google.api_core import exceptions

    outcome = Outcome()
    for op in operations:
        try:
            status = api.poll(project, op.scope, op.name)
        except exceptions.NotFound:
            continue  # Compute forgets finished operations after a while: it ended
        except exceptions.GoogleAPICallError as error:
            outcome.running.append(op)
            outcome.error = outcome.error or f"{op.what}: polling {op.name} failed: {describe(error)}"
            continue
        if status.status != status.Status.DONE:
            outcome.running.append(op)
        elif status.error.errors:
            first = status.error.errors[0]
            outcome.error = outcome.error or f"{op.what} failed: {first.code}: {first.message}"
    return outcome


class Executor:
    def __init__(self, api: ComputeApi, project: str) -> None:
        self.api = api
        self.project = project

    def _name(self, step: Step) -> str:
        if step.observed is not None:
            return str(step.observed.body["name"])
        assert step.desired is not None
        return str(step.desired.body.dump()["name"])

    def _args(self, step: Step) -> dict[str, Any]:
        return {"project": self.project, **where(step.scope), snake(step.kind): self._name(step)}

    def _update(self, step: Step) -> list[Any]:
        assert step.desired is not None and step.observed is not None
        client = self.api.client(step.kind, step.scope)
        body = step.desired.body.dump()
        args = self._args(step)
        if step.kind in (URL_MAP, BACKEND_SERVICE, HEALTH_CHECK):
            full = {**body, "fingerprint": step.observed.body.get("fingerprint")}
            full = {k: v for k, v in full.items() if v is not None}
            resource = self.api.message(step.kind, full)
            key = f"{snake(step.kind)}_resource"
            return [self.api.call(client.update_unary, mutating=True, **args, **{key: resource})]
        if step.kind == FORWARDING_RULE:
            from google.cloud import compute_v1

            ref = compute_v1.TargetReference(target=body["target"])
            return [self.api.call(client.set_target_unary, mutating=True, **args, target_reference_resource=ref)]
        if step.kind in (TARGET_HTTP_PROXY, TARGET_HTTPS_PROXY):
            return self._proxy(step, client, body, args)
        raise ValueError(f"{step.kind} cannot be updated in place")

    def _proxy(self, step: Step, client: Any, body: dict[str, Any], args: dict[str, Any]) -> list[Any]:
        """A proxy changes through its verbs: new certificates, then the URL map."""
        from google.cloud import compute_v1

        ops = []
        if "sslCertificates" in step.fields:
            certs = list(body.get("sslCertificates", []))
            if step.scope == "global":
                request: Any = compute_v1.TargetHttpsProxiesSetSslCertificatesRequest(ssl_certificates=certs)
                field_name = "target_https_proxies_set_ssl_certificates_request_resource"
            else:
                request = compute_v1.RegionTargetHttpsProxiesSetSslCertificatesRequest(ssl_certificates=certs)
                field_name = "region_target_https_proxies_set_ssl_certificates_request_resource"
            ops.append(self.api.call(client.set_ssl_certificates_unary, mutating=True, **args, **{field_name: request}))
        if "urlMap" in step.fields:
            ref = compute_v1.UrlMapReference(url_map=body["urlMap"])
            ops.append(self.api.call(client.set_url_map_unary, mutating=True, **args, url_map_reference_resource=ref))
        return ops

    def _members(self, step: Step) -> Any:
        """An instance group's nodes join or leave."""
        from google.cloud import compute_v1

        client = self.api.client(INSTANCE_GROUP, step.scope)
        members = [compute_v1.InstanceReference(instance=i) for i in step.instances]
        if step.action == "attach":
            add = compute_v1.InstanceGroupsAddInstancesRequest(instances=members)
            return self.api.call(
                client.add_instances_unary,
                mutating=True,
                **self._args(step),
                instance_groups_add_instances_request_resource=add,
            )
        remove = compute_v1.InstanceGroupsRemoveInstancesRequest(instances=members)
        return self.api.call(
            client.remove_instances_unary,
            mutating=True,
            **self._args(step),
            instance_groups_remove_instances_request_resource=remove,
        )

    def _named_ports(self, step: Step) -> Any:
        from google.cloud import compute_v1

        assert step.desired is not None and step.observed is not None
        client = self.api.client(INSTANCE_GROUP, step.scope)
        ports = [
            compute_v1.NamedPort(name=p["name"], port=p["port"]) for p in step.desired.body.dump().get("namedPorts", [])
        ]
        request = compute_v1.InstanceGroupsSetNamedPortsRequest(
            named_ports=ports, fingerprint=step.observed.body.get("fingerprint")
        )
        return self.api.call(
            client.set_named_ports_unary,
            mutating=True,
            **self._args(step),
            instance_groups_set_named_ports_request_resource=request,
        )

    def _endpoints(self, step: Step) -> Any:
        from google.cloud import compute_v1

        client = self.api.client(NEG, step.scope)
        members = [compute_v1.NetworkEndpoint(**e.model_dump(exclude_none=True)) for e in step.endpoints]
        args = self._args(step)
        if step.action == "attach":
            request: Any = compute_v1.NetworkEndpointGroupsAttachEndpointsRequest(network_endpoints=members)
            return self.api.call(
                client.attach_network_endpoints_unary,
                mutating=True,
                **args,
                network_endpoint_groups_attach_endpoints_request_resource=request,
            )
        request = compute_v1.NetworkEndpointGroupsDetachEndpointsRequest(network_endpoints=members)
        return self.api.call(
            client.detach_network_endpoints_unary,
            mutating=True,
            **args,
            network_endpoint_groups_detach_endpoints_request_resource=request,
        )

    def issue(self, step: Step) -> list[Any]:
        """The step's mutating calls; returns their Operations."""
        client = self.api.client(step.kind, step.scope)
        if step.action == "create":
            assert step.desired is not None
            body = step.desired.body.dump()
            if step.kind == SSL_CERTIFICATE:
                body["privateKey"] = step.desired.secret
            resource = self.api.message(step.kind, body)
            args = {"project": self.project, **where(step.scope), f"{snake(step.kind)}_resource": resource}
            return [self.api.call(client.insert_unary, mutating=True, **args)]
        if step.action == "delete":
            return [self.api.call(client.delete_unary, mutating=True, **self._args(step))]
        if step.action in ("attach", "detach"):
            return [self._members(step) if step.kind == INSTANCE_GROUP else self._endpoints(step)]
        if step.kind == INSTANCE_GROUP:
            return [self._named_ports(step)]
        return self._update(step)


def _waves(steps: Sequence[Step]) -> list[list[Step]]:
    waves: list[list[Step]] = []
    for step in steps:
        if waves and (waves[-1][0].kind, waves[-1][0].action) == (step.kind, step.action):
            waves[-1].append(step)
        else:
            waves.append([step])
    return waves


def execute(api: ComputeApi, project: str, steps: Sequence[Step]) -> Outcome:
    from google.api_core import exceptions

    executor = Executor(api, project)
    outcome = Outcome()
    for wave in _waves(steps):
        issued: list[PendingOperation] = []
        for step in wave:
            what = f"{step.action} {step.kind} {step.id}"
            try:
                ops = executor.issue(step)
            except exceptions.GoogleAPICallError as error:
                if step.action == "delete" and http_code(error) == 404:
                    continue  # already gone: an earlier answer was lost, or someone else deleted it
                if step.action == "create" and http_code(error) == 409 and reason(error) == "alreadyExists":
                    # An earlier insert whose answer was lost (or is still running): never a duplicate.
                    outcome.error = f"{what}: the name is taken by a running or unanswered insert; re-reading"
                else:
                    outcome.error = f"{what}: {describe(error)}"
                break
            issued += [PendingOperation(step.scope, op.name, what) for op in ops]
        polled = poll(api, project, issued)
        outcome.done += len(issued) - len(polled.running)
        outcome.running += polled.running
        outcome.error = outcome.error or polled.error
        if outcome.running or outcome.error:
            return outcome
    return outcome
