"""The elbv2 calls for each ALB resource kind. Specs arrive with tokens already resolved.

Updates touch only the fields that differ: a target group's targets are registered and
deregistered by difference; rule priorities move in one SetRulePriorities call per listener.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from portico_providers.aws_common.retry import call
from portico_providers.aws_common.tags import tag_list
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import UpdateThenRetag
from portico_providers.kit.limits import priority_waves
from portico_providers.kit.ownership import Marks
from portico_providers.kit.resources import Desired, Observed

MAX_PRIORITY = 50000  # ALB rule priorities run 1-50000


@dataclass(frozen=True)
class BalancerState:
    code: str  # provisioning | active | active_impaired | failed
    reason: str = ""


def balancer_state(elbv2: Any, arn: str) -> BalancerState:
    [balancer] = call(elbv2.describe_load_balancers, LoadBalancerArns=[arn])["LoadBalancers"]
    state = balancer.get("State", {})
    return BalancerState(state.get("Code", ""), state.get("Reason", ""))


def aws_action(action: dict[str, Any]) -> dict[str, Any]:
    kind = action["type"]
    if kind == "forward":
        groups = [{"TargetGroupArn": f["target_group"], "Weight": f["weight"]} for f in action["forward"]]
        return {"Type": kind, "ForwardConfig": {"TargetGroups": groups}}
    if kind == "redirect":
        r = action["redirect"]
        return {
            "Type": kind,
            "RedirectConfig": {
                "Protocol": r["protocol"],
                "Host": r["host"],
                "Port": r["port"],
                "Path": r["path"],
                "Query": r["query"],
                "StatusCode": r["status_code"],
            },
        }
    f = action["fixed_response"]
    return {
        "Type": kind,
        "FixedResponseConfig": {
            "StatusCode": f["status_code"],
            "ContentType": f["content_type"],
            "MessageBody": f["message_body"],
        },
    }


def _values(condition: dict[str, Any]) -> dict[str, Any]:
    # A condition carries either wildcard Values or RegexValues, never both.
    if condition.get("regex_values"):
        return {"RegexValues": condition["regex_values"]}
    return {"Values": condition["values"]}


def aws_condition(condition: dict[str, Any]) -> dict[str, Any]:
    field = condition["field"]
    if field == "http-header":
        return {
            "Field": field,
            "HttpHeaderConfig": {"HttpHeaderName": condition["header_name"], **_values(condition)},
        }
    if field == "query-string":
        pairs = [{"Key": q["key"], "Value": q["value"]} for q in condition["query"]]
        return {"Field": field, "QueryStringConfig": {"Values": pairs}}
    key = {
        "host-header": "HostHeaderConfig",
        "path-pattern": "PathPatternConfig",
        "http-request-method": "HttpRequestMethodConfig",
    }[field]
    return {"Field": field, key: _values(condition)}


TRANSFORM_CONFIGS = {"host-header-rewrite": "HostHeaderRewriteConfig", "url-rewrite": "UrlRewriteConfig"}


def aws_transform(transform: dict[str, Any]) -> dict[str, Any]:
    rewrite = {"Regex": transform["regex"], "Replace": transform["replace"]}
    return {"Type": transform["type"], TRANSFORM_CONFIGS[transform["type"]]: {"Rewrites": [rewrite]}}


class Elbv2Handler(UpdateThenRetag):
    def __init__(self, elbv2: Any) -> None:
        self.elbv2 = elbv2

    def retag(self, observed: Observed, stale: list[str], wanted: dict[str, str]) -> None:
        if stale:
            call(self.elbv2.remove_tags, ResourceArns=[observed.arn], TagKeys=stale)
        if wanted:
            call(self.elbv2.add_tags, ResourceArns=[observed.arn], Tags=tag_list(wanted))


class LoadBalancerHandler(Elbv2Handler):
    def __init__(self, elbv2: Any) -> None:
        super().__init__(elbv2)
        self.dns_names: dict[str, str] = {}  # ARN -> DNS name of the balancers created here

    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        result = call(
            self.elbv2.create_load_balancer,
            Name=spec["name"],
            Type="application",
            Scheme=spec["scheme"],
            IpAddressType=spec["ip_address_type"],
            Subnets=spec["subnets"],
            SecurityGroups=spec["security_groups"],
            Tags=tag_list(marks.tags),
        )
        balancer = result["LoadBalancers"][0]
        arn: str = balancer["LoadBalancerArn"]
        self.dns_names[arn] = balancer.get("DNSName", "")
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        assert step.observed is not None
        arn = step.observed.arn
        if "subnets" in step.fields:
            call(self.elbv2.set_subnets, LoadBalancerArn=arn, Subnets=spec["subnets"])
        if "security_groups" in step.fields:
            call(self.elbv2.set_security_groups, LoadBalancerArn=arn, SecurityGroups=spec["security_groups"])
        if "ip_address_type" in step.fields:
            call(self.elbv2.set_ip_address_type, LoadBalancerArn=arn, IpAddressType=spec["ip_address_type"])

    def delete(self, observed: Observed) -> None:
        call(self.elbv2.delete_load_balancer, LoadBalancerArn=observed.arn)


def _targets(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Id": t["id"], "Port": t["port"]} for t in items]


class TargetGroupHandler(Elbv2Handler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        matcher = {"GrpcCode": spec["matcher"]} if spec["protocol_version"] == "GRPC" else {"HttpCode": spec["matcher"]}
        result = call(
            self.elbv2.create_target_group,
            Name=spec["name"],
            Protocol=spec["protocol"],
            ProtocolVersion=spec["protocol_version"],
            Port=spec["port"],
            VpcId=spec["vpc_id"],
            TargetType=spec["target_type"],
            HealthCheckPath=spec["health_check_path"],
            Matcher=matcher,
            Tags=tag_list(marks.tags),
        )
        arn: str = result["TargetGroups"][0]["TargetGroupArn"]
        if spec["targets"]:
            call(self.elbv2.register_targets, TargetGroupArn=arn, Targets=_targets(spec["targets"]))
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        assert step.observed is not None
        arn = step.observed.arn
        if "health_check_path" in step.fields or "matcher" in step.fields:
            matcher = (
                {"GrpcCode": spec["matcher"]} if spec["protocol_version"] == "GRPC" else {"HttpCode": spec["matcher"]}
            )
            call(
                self.elbv2.modify_target_group,
                TargetGroupArn=arn,
                HealthCheckPath=spec["health_check_path"],
                Matcher=matcher,
            )
        if "targets" in step.fields:
            current = {(t["id"], t["port"]) for t in step.observed.spec.model_dump()["targets"]}
            wanted = {(t["id"], t["port"]) for t in spec["targets"]}
            gone = [{"id": i, "port": p} for i, p in sorted(current - wanted)]
            new = [{"id": i, "port": p} for i, p in sorted(wanted - current)]
            if new:
                call(self.elbv2.register_targets, TargetGroupArn=arn, Targets=_targets(new))
            if gone:
                call(self.elbv2.deregister_targets, TargetGroupArn=arn, Targets=_targets(gone))

    def delete(self, observed: Observed) -> None:
        call(self.elbv2.delete_target_group, TargetGroupArn=observed.arn)


class ListenerHandler(Elbv2Handler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        args: dict[str, Any] = {
            "LoadBalancerArn": spec["load_balancer"],
            "Port": spec["port"],
            "Protocol": spec["protocol"],
            "DefaultActions": [aws_action(spec["default_action"])],
            "Tags": tag_list(marks.tags),
        }
        if spec["protocol"] == "HTTPS":
            args["SslPolicy"] = spec["ssl_policy"]
            args["Certificates"] = [{"CertificateArn": a} for a in spec["certificates"][:1]]
        arn: str = call(self.elbv2.create_listener, **args)["Listeners"][0]["ListenerArn"]
        if spec["certificates"][1:]:
            call(
                self.elbv2.add_listener_certificates,
                ListenerArn=arn,
                Certificates=[{"CertificateArn": a} for a in spec["certificates"][1:]],
            )
        return arn

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        assert step.observed is not None
        arn = step.observed.arn
        fields = set(step.fields)
        old = step.observed.spec.model_dump()
        if fields & {"protocol", "ssl_policy", "default_action"} or (
            "certificates" in fields and spec["certificates"][:1] != list(old["certificates"][:1])
        ):
            args: dict[str, Any] = {
                "ListenerArn": arn,
                "Protocol": spec["protocol"],
                "DefaultActions": [aws_action(spec["default_action"])],
            }
            if spec["protocol"] == "HTTPS":
                args["SslPolicy"] = spec["ssl_policy"]
                args["Certificates"] = [{"CertificateArn": a} for a in spec["certificates"][:1]]
            call(self.elbv2.modify_listener, **args)
        if "certificates" in fields:
            current, wanted = set(old["certificates"][1:]), set(spec["certificates"][1:])
            if wanted - current:
                call(
                    self.elbv2.add_listener_certificates,
                    ListenerArn=arn,
                    Certificates=[{"CertificateArn": a} for a in sorted(wanted - current)],
                )
            stale = current - wanted - set(spec["certificates"][:1])
            if stale:
                call(
                    self.elbv2.remove_listener_certificates,
                    ListenerArn=arn,
                    Certificates=[{"CertificateArn": a} for a in sorted(stale)],
                )

    def delete(self, observed: Observed) -> None:
        call(self.elbv2.delete_listener, ListenerArn=observed.arn)


class RuleHandler(Elbv2Handler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        transforms = {"Transforms": [aws_transform(t) for t in spec["transforms"]]} if spec["transforms"] else {}
        result = call(
            self.elbv2.create_rule,
            ListenerArn=spec["listener"],
            Priority=spec["priority"],
            Conditions=[aws_condition(c) for c in spec["conditions"]],
            Actions=[aws_action(spec["action"])],
            Tags=tag_list(marks.tags),
            **transforms,
        )
        arn: str = result["Rules"][0]["RuleArn"]
        return arn

    def update(self, steps: Sequence[Step], specs: Sequence[dict[str, Any]]) -> None:
        moves: dict[str, dict[str, tuple[int, int]]] = {}  # listener -> rule ARN -> (now, wanted)
        for step, spec in zip(steps, specs, strict=True):
            if step.observed is not None and "priority" in step.fields:
                now = step.observed.spec.model_dump()["priority"]
                moves.setdefault(spec["listener"], {})[step.observed.arn] = (now, spec["priority"])
        for listener in sorted(moves):
            self._move(moves[listener])
        super().update(steps, specs)

    def _move(self, pending: dict[str, tuple[int, int]]) -> None:
        for wave in priority_waves(pending, MAX_PRIORITY):
            call(
                self.elbv2.set_rule_priorities,
                RulePriorities=[{"RuleArn": arn, "Priority": priority} for arn, priority in wave],
            )

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        assert step.observed is not None
        args: dict[str, Any] = {}
        if "conditions" in step.fields or "action" in step.fields:
            args["Conditions"] = [aws_condition(c) for c in spec["conditions"]]
            args["Actions"] = [aws_action(spec["action"])]
        if "transforms" in step.fields:
            # ModifyRule without Transforms keeps the rule's transforms; ResetTransforms removes them.
            if spec["transforms"]:
                args["Transforms"] = [aws_transform(t) for t in spec["transforms"]]
            else:
                args["ResetTransforms"] = True
        if args:
            call(self.elbv2.modify_rule, RuleArn=step.observed.arn, **args)

    def delete(self, observed: Observed) -> None:
        call(self.elbv2.delete_rule, RuleArn=observed.arn)
