"""The vpc-lattice calls for each resource kind. Specs arrive with tokens already resolved."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from portico_providers.aws_common.retry import call, describe_error, error_code
from portico_providers.aws_lattice.api import action_to_api, match_to_api
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import InProgress, StepFailed, UpdateThenRetag
from portico_providers.kit.limits import priority_waves
from portico_providers.kit.ownership import Marks
from portico_providers.kit.resources import Desired, Observed

MAX_PRIORITY = 2000  # Lattice rule priorities run 1-2000
BATCH = 10  # BatchUpdateRule takes at most 10 rules
TARGETS_PER_CALL = 100  # RegisterTargets and DeregisterTargets take at most 100 targets


ACTIVE = "ACTIVE"
DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"


def created(answer: dict[str, Any]) -> str:
    """The new resource's ARN; marked in progress while Lattice has not made it ACTIVE yet (the
    Gateway is Programmed only once it is)."""
    arn, status = str(answer["arn"]), str(answer.get("status") or ACTIVE)
    return arn if status == ACTIVE else InProgress(arn, status)


def deleting(observed: Observed) -> bool:
    """Lattice is already deleting it: asking again is refused (ConflictException), and the next
    look shows whether it is gone."""
    return observed.extra.get("status") == DELETE_IN_PROGRESS


def idempotent(function: Any, /, **kwargs: Any) -> Any:
    """A create with one clientToken for all its retries: when an answer was lost and the call is
    retried, Lattice answers with the resource the first attempt made instead of a duplicate or a
    name conflict. A fresh token per create step, so a later re-create is never mistaken for it."""
    return call(function, clientToken=uuid.uuid4().hex, **kwargs)


class TargetsRefused(StepFailed):
    """Lattice answered a (de)registration with `unsuccessful` targets."""


def change_targets(function: Any, arn: str, targets: Sequence[dict[str, Any]]) -> None:
    """(De)register in calls of at most 100; targets Lattice lists as unsuccessful fail the step
    with its reasons (the others stay done; the next reconcile retries only what is missing)."""
    refused: list[str] = []
    for start in range(0, len(targets), TARGETS_PER_CALL):
        batch = list(targets[start : start + TARGETS_PER_CALL])
        answer = call(function, targetGroupIdentifier=arn, targets=batch)
        refused += [
            f"{t.get('id')}:{t.get('port')} ({t.get('failureCode', '')}: {t.get('failureMessage', '')})"
            for t in answer.get("unsuccessful") or []
        ]
    if refused:
        raise TargetsRefused(f"Lattice refused targets {', '.join(refused)}")


class LatticeHandler(UpdateThenRetag):
    def __init__(self, lattice: Any) -> None:
        self.lattice = lattice

    def retag(self, observed: Observed, stale: list[str], wanted: dict[str, str]) -> None:
        if stale:
            call(self.lattice.untag_resource, resourceArn=observed.arn, tagKeys=stale)
        if wanted:
            call(self.lattice.tag_resource, resourceArn=observed.arn, tags=wanted)


class ServiceNetworkHandler(LatticeHandler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        arn: str = idempotent(
            self.lattice.create_service_network, name=spec["name"], authType=spec["auth_type"], tags=dict(marks.tags)
        )["arn"]
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        if "auth_type" in step.fields and step.observed is not None:
            call(
                self.lattice.update_service_network,
                serviceNetworkIdentifier=step.observed.arn,
                authType=spec["auth_type"],
            )

    def delete(self, observed: Observed) -> None:
        call(self.lattice.delete_service_network, serviceNetworkIdentifier=observed.arn)


class VpcAssociationHandler(LatticeHandler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        args: dict[str, Any] = {
            "serviceNetworkIdentifier": spec["service_network"],
            "vpcIdentifier": spec["vpc_id"],
            "tags": dict(marks.tags),
        }
        if spec["security_groups"]:
            args["securityGroupIds"] = spec["security_groups"]
        return created(idempotent(self.lattice.create_service_network_vpc_association, **args))

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        if "security_groups" in step.fields and step.observed is not None:
            call(
                self.lattice.update_service_network_vpc_association,
                serviceNetworkVpcAssociationIdentifier=step.observed.arn,
                securityGroupIds=spec["security_groups"],
            )

    def delete(self, observed: Observed) -> None:
        if not deleting(observed):
            call(
                self.lattice.delete_service_network_vpc_association,
                serviceNetworkVpcAssociationIdentifier=observed.arn,
            )


def _targets(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"id": t["id"], "port": t["port"]} for t in items]


class TargetGroupHandler(LatticeHandler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        config = {
            "port": spec["port"],
            "protocol": spec["protocol"],
            "protocolVersion": spec["protocol_version"],
            "vpcIdentifier": spec["vpc_id"],
            "ipAddressType": "IPV4",
        }
        arn = created(
            idempotent(
                self.lattice.create_target_group, name=spec["name"], type="IP", config=config, tags=dict(marks.tags)
            )
        )
        if spec["targets"]:
            change_targets(self.lattice.register_targets, arn, _targets(spec["targets"]))
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        if "targets" not in step.fields or step.observed is None:
            return
        current = {(t["id"], t["port"]) for t in step.observed.spec.model_dump()["targets"]}
        wanted = {(t["id"], t["port"]) for t in spec["targets"]}
        new = [{"id": i, "port": p} for i, p in sorted(wanted - current)]
        gone = [{"id": i, "port": p} for i, p in sorted(current - wanted)]
        if new:
            change_targets(self.lattice.register_targets, step.observed.arn, new)
        if gone:
            change_targets(self.lattice.deregister_targets, step.observed.arn, gone)

    def delete(self, observed: Observed) -> None:
        if deleting(observed):
            return
        # Lattice refuses to delete a target group that still has registered targets.
        targets = observed.spec.model_dump()["targets"]
        if targets:
            change_targets(self.lattice.deregister_targets, observed.arn, _targets(targets))
        call(self.lattice.delete_target_group, targetGroupIdentifier=observed.arn)


class ServiceHandler(LatticeHandler):
    def __init__(self, lattice: Any) -> None:
        super().__init__(lattice)
        self.dns_names: dict[str, str] = {}  # ARN -> DNS name of the services created here

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        args: dict[str, Any] = {"name": spec["name"], "authType": spec["auth_type"], "tags": dict(marks.tags)}
        if spec.get("custom_domain_name"):
            args["customDomainName"] = spec["custom_domain_name"]
        if spec.get("certificate"):
            args["certificateArn"] = spec["certificate"]
        result = idempotent(self.lattice.create_service, **args)
        arn = created(result)
        self.dns_names[arn] = (result.get("dnsEntry") or {}).get("domainName", "")
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        if step.observed is None or not {"certificate", "auth_type"} & set(step.fields):
            return
        args: dict[str, Any] = {"serviceIdentifier": step.observed.arn, "authType": spec["auth_type"]}
        if spec.get("certificate"):
            args["certificateArn"] = spec["certificate"]
        call(self.lattice.update_service, **args)

    def delete(self, observed: Observed) -> None:
        if not deleting(observed):
            call(self.lattice.delete_service, serviceIdentifier=observed.arn)


class DomainTaken(StepFailed):
    """Lattice refused an association because another service of the network has the custom domain name."""


class ServiceAssociationHandler(LatticeHandler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        try:
            answer = idempotent(
                self.lattice.create_service_network_service_association,
                serviceIdentifier=spec["service"],
                serviceNetworkIdentifier=spec["service_network"],
                tags=dict(marks.tags),
            )
        except Exception as error:
            # Lattice answers ConflictException both for "not yet" and for a custom domain name that
            # another service of the network has: only the second is the route's problem for good.
            taken = self._domain_taken(spec) if error_code(error) == "ConflictException" else None
            if taken:
                raise DomainTaken(f"{taken} ({describe_error(error)})") from error
            raise
        return created(answer)

    def _domain_taken(self, spec: dict[str, Any]) -> str | None:
        domain = call(self.lattice.get_service, serviceIdentifier=spec["service"]).get("customDomainName")
        if not domain:
            return None
        page: dict[str, Any] = {}
        while True:
            page = call(
                self.lattice.list_service_network_service_associations,
                serviceNetworkIdentifier=spec["service_network"],
                **({"nextToken": page["nextToken"]} if page.get("nextToken") else {}),
            )
            for item in page.get("items", []):
                if item.get("customDomainName") == domain and item.get("serviceArn") != spec["service"]:
                    service = item.get("serviceName") or item.get("serviceArn")
                    return f"custom domain name {domain} is already used by service {service} in this service network"
            if not page.get("nextToken"):
                return None

    def delete(self, observed: Observed) -> None:
        if deleting(observed):
            return
        call(
            self.lattice.delete_service_network_service_association,
            serviceNetworkServiceAssociationIdentifier=observed.arn,
        )


class ListenerHandler(LatticeHandler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        arn: str = idempotent(
            self.lattice.create_listener,
            serviceIdentifier=spec["service"],
            name=spec["name"],
            protocol=spec["protocol"],
            port=spec["port"],
            defaultAction=action_to_api(spec["default_action"]),
            tags=dict(marks.tags),
        )["arn"]
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        if "default_action" in step.fields and step.observed is not None:
            call(
                self.lattice.update_listener,
                serviceIdentifier=spec["service"],
                listenerIdentifier=step.observed.arn,
                defaultAction=action_to_api(spec["default_action"]),
            )

    def delete(self, observed: Observed) -> None:
        service = observed.spec.model_dump()["service"]
        call(self.lattice.delete_listener, serviceIdentifier=service, listenerIdentifier=observed.arn)


class RuleMoveFailed(StepFailed):
    """BatchUpdateRule answered 200 but refused a rule."""


class RuleHandler(LatticeHandler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        arn: str = idempotent(
            self.lattice.create_rule,
            serviceIdentifier=spec["service"],
            listenerIdentifier=spec["listener"],
            name=spec["name"],
            match=match_to_api(spec["match"]),
            priority=spec["priority"],
            action=action_to_api(spec["action"]),
            tags=dict(marks.tags),
        )["arn"]
        return arn

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        moves: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        for step, spec in zip(steps, specs, strict=True):
            if step.observed is not None and "priority" in step.fields:
                now = step.observed.spec.model_dump()["priority"]
                moves.setdefault((spec["service"], spec["listener"]), {})[step.observed.arn] = (now, spec["priority"])
        for (service, listener), pending in sorted(moves.items()):
            for wave in priority_waves(pending, MAX_PRIORITY):
                for start in range(0, len(wave), BATCH):
                    rules = [{"ruleIdentifier": arn, "priority": p} for arn, p in wave[start : start + BATCH]]
                    result = call(
                        self.lattice.batch_update_rule,
                        serviceIdentifier=service,
                        listenerIdentifier=listener,
                        rules=rules,
                    )
                    if result.get("unsuccessful"):
                        failed = result["unsuccessful"][0]
                        raise RuleMoveFailed(f"{failed.get('failureCode')}: {failed.get('failureMessage')}")
        super().update(steps, specs)

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        if step.observed is None or not {"match", "action"} & set(step.fields):
            return
        call(
            self.lattice.update_rule,
            serviceIdentifier=spec["service"],
            listenerIdentifier=spec["listener"],
            ruleIdentifier=step.observed.arn,
            match=match_to_api(spec["match"]),
            action=action_to_api(spec["action"]),
        )

    def delete(self, observed: Observed) -> None:
        spec = observed.spec.model_dump()
        call(
            self.lattice.delete_rule,
            serviceIdentifier=spec["service"],
            listenerIdentifier=spec["listener"],
            ruleIdentifier=observed.arn,
        )


class AuthPolicyHandler:
    """PutAuthPolicy creates and replaces; the policy's cloud id is the protected resource's ARN."""

    def __init__(self, lattice: Any) -> None:
        self.lattice = lattice

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        self._put(spec)
        return str(spec["resource"])

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        for spec in specs:
            self._put(spec)

    def _put(self, spec: dict[str, Any]) -> None:
        # `policy` is also the retry helper's own keyword: bound here, not passed through it.
        put = functools.partial(self.lattice.put_auth_policy, policy=spec["policy"])
        call(put, resourceIdentifier=spec["resource"])

    def delete(self, observed: Observed) -> None:
        call(self.lattice.delete_auth_policy, resourceIdentifier=observed.cloud_id)
