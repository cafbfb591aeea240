"""moto made as strict as AWS on the refusals the AWS providers must live with.

- DeleteTargetGroup answers `ResourceInUse` while a rule forwards to the group (moto does) and,
  like AWS, for a while after the rule, listener or load balancer that used it changed or was
  deleted (`release_lag` attempts; AWS takes seconds to let go).
- ACM DeleteCertificate answers `ResourceInUseException` while a listener serves the
  certificate, and for `release_lag` attempts after the listener let go of it or was deleted.
- CreateRule/ModifyRule refuse, as AWS does, more than 3 values in one condition or 5 in a
  rule, and an http-header condition on `Host`; they accept RegexValues (path-pattern,
  http-header, host-header; at most 128 characters, never with Values), which moto does not know,
  and keep them so that DescribeRules returns them; they keep and check `Transforms` as the
  elbv2 model and the ALB guide describe them (`strict_transforms`).
- EC2 DeleteSecurityGroup answers `DependencyViolation` while a load balancer uses the group or
  another group's rule refers to it, and for `release_lag` attempts after the load balancer let
  go of it (its network interfaces take minutes to go); CreateLoadBalancer and SetSecurityGroups
  refuse security groups that do not exist or are in another VPC (`strict_security_groups`).
- Tags as AWS limits them (`strict_tags`): 50 per resource (moto's elbv2 AddTags stops at 10 and
  its creates at none), keys up to 128 characters and values up to 256; CreateLoadBalancer and
  SetSubnets refuse subnets in fewer than two Availability Zones.
- A new load balancer stays `provisioning` for the first `provisioning` DescribeLoadBalancers
  calls that list it (moto makes it `active` at the first), as AWS keeps it for minutes.
- DeregisterTargets leaves targets `draining` (the deregistration delay, 300 s by default, is
  longer than any test): DescribeTargetHealth lists them as `draining` until they are
  registered again or their group is deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tests.providers.aws.strict_transforms import strict_transforms


@dataclass
class Release:
    """ARN -> delete attempts AWS still refuses after the last user of the resource went away."""

    lag: int = 0
    held: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def hold(self, arns: set[str]) -> None:
        for arn in arns:
            self.held[arn] = self.lag

    def refuses(self, arn: str) -> bool:
        left = self.held.get(arn, 0)
        if left <= 0:
            return False
        self.held[arn] = left - 1
        self.refused.append(arn)
        return True


def _used_by_listener(backend: Any, listener: Any) -> set[str]:
    """Target group and certificate ARNs one moto listener uses."""
    used = set(listener.certificates)
    for action in [*listener.default_actions, *(a for r in listener.rules.values() for a in r.actions)]:
        used |= set(backend._get_target_group_arns_from(action_data=action.data))
    return used


def _all_used(backend: Any) -> set[str]:
    return set().union(
        *(_used_by_listener(backend, li) for lb in backend.load_balancers.values() for li in lb.listeners.values())
    )


def _certificate_in_use(account_id: str, region: str, arn: str) -> bool:
    from moto.elbv2.models import elbv2_backends

    backend = elbv2_backends[account_id][region]
    listeners = [li for lb in backend.load_balancers.values() for li in lb.listeners.values()]
    return any(arn in listener.certificates for listener in listeners)


REGEX_FIELDS = {
    "path-pattern": "PathPatternConfig",
    "http-header": "HttpHeaderConfig",
    "host-header": "HostHeaderConfig",
}
MAX_REGEX_LENGTH = 128  # the elbv2 API model: "The maximum length of each string is 128 characters."


def _regex_values(condition: dict[str, Any]) -> list[str]:
    """RegexValues of a condition (the current elbv2 model; moto does not know them), checked as AWS
    does: only on path-pattern, http-header and host-header, never together with Values."""
    from moto.elbv2.exceptions import InvalidConditionValueError

    for key, config in condition.items():
        if isinstance(config, dict) and "RegexValues" in config:
            if REGEX_FIELDS.get(condition.get("Field", "")) != key:
                raise InvalidConditionValueError(f"RegexValues are not supported in '{key}'")
            if config.get("Values"):
                raise InvalidConditionValueError(f"You cannot provide both Values and RegexValues in '{key}'")
            regexes = list(config["RegexValues"])
            if not regexes:
                raise InvalidConditionValueError("A condition value must be specified")
            for regex in regexes:
                if len(regex) > MAX_REGEX_LENGTH:
                    raise InvalidConditionValueError(f"A regex value is too long; the limit is '{MAX_REGEX_LENGTH}'")
            return regexes
    return []


def _condition_values(condition: dict[str, Any]) -> int:
    regexes = _regex_values(condition)
    if regexes:
        return len(regexes)
    for key, config in condition.items():
        if key.endswith("Config") and isinstance(config, dict):
            return len(config.get("Values", []))
    return len(condition.get("Values", []))


def _strict_conditions(validate_conditions: Any) -> Any:
    """moto's condition checks plus the value counts and the Host rule AWS enforces."""

    def strict_conditions(self: Any, conditions: list[dict[str, Any]]) -> None:
        from moto.elbv2.exceptions import InvalidConditionValueError

        # moto reads only Values: it validates the others, and the regex ones are checked here.
        validate_conditions(self, [c for c in conditions if not _regex_values(c)])
        counts = [_condition_values(c) for c in conditions]
        if any(count > 3 for count in counts) or sum(counts) > 5:
            raise InvalidConditionValueError(
                "A rule can have at most '3' values per condition and '5' condition values in total"
            )
        for condition in conditions:
            if condition.get("HttpHeaderConfig", {}).get("HttpHeaderName", "").lower() == "host":
                raise InvalidConditionValueError("Use the 'host-header' condition to match the Host header")

    return strict_conditions


@contextmanager
def strict_moto(release_lag: int = 0, provisioning: int = 0) -> Iterator[Release]:
    from moto.acm.models import AWSCertificateManagerBackend
    from moto.core.exceptions import JsonRESTError
    from moto.elbv2.exceptions import ResourceInUseError
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    release = Release(lag=release_lag)
    delete_group, delete_cert = ELBv2Backend.delete_target_group, AWSCertificateManagerBackend.delete_certificate
    register, health = FakeTargetGroup.register, FakeTargetGroup.health_for
    describe_health = ELBv2Backend.describe_target_health

    def letting_go(method: Any) -> Any:
        """Wrap a call that can stop a balancer using resources: what it let go of is held."""

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            before = _all_used(self)
            result = method(self, *args, **kwargs)
            release.hold(before - _all_used(self))
            return result

        return wrapped

    def delete_target_group(self: Any, target_group_arn: str) -> Any:
        if target_group_arn in self.target_groups and release.refuses(target_group_arn):
            raise ResourceInUseError(f"Target group '{target_group_arn}' is currently in use by a listener or a rule")
        return delete_group(self, target_group_arn)

    def delete_certificate(self: Any, arn: str) -> None:
        if arn in self._certificates and (
            _certificate_in_use(self.account_id, self.region_name, arn) or release.refuses(arn)
        ):
            raise JsonRESTError("ResourceInUseException", f"Certificate {arn} in use")
        delete_cert(self, arn)

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        draining = self.__dict__.setdefault("draining", {})
        for target in targets:
            found = self.targets.pop(target["Id"], None)
            if found is None:
                from moto.elbv2.exceptions import InvalidTargetError

                raise InvalidTargetError()
            draining[target["Id"]] = found

    def register_(self: Any, targets: list[dict[str, Any]]) -> None:
        register(self, targets)
        for target in targets:
            self.__dict__.get("draining", {}).pop(target["Id"], None)

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        drained = self.__dict__.get("draining", {}).get(target["Id"])
        if target["Id"] not in self.targets and drained is not None:
            reason, text = "Target.DeregistrationInProgress", "Target deregistration is in progress"
            return FakeHealthStatus(drained["Id"], drained["Port"], self.health_check_port, "draining", reason, text)
        return health(self, target, ec2_backend)

    def describe_target_health(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> Any:
        group = self.target_groups.get(target_group_arn)
        if not targets and group is not None:
            targets = [*group.targets.values(), *group.__dict__.get("draining", {}).values()]
        return describe_health(self, target_group_arn, targets)

    releasing = ("delete_load_balancer", "delete_listener", "delete_rule", "modify_rule", "modify_listener")
    patches = [
        *(mock.patch.object(ELBv2Backend, name, letting_go(getattr(ELBv2Backend, name))) for name in releasing),
        mock.patch.object(
            ELBv2Backend, "remove_listener_certificates", letting_go(ELBv2Backend.remove_listener_certificates)
        ),
        mock.patch.object(ELBv2Backend, "delete_target_group", delete_target_group),
        mock.patch.object(ELBv2Backend, "describe_target_health", describe_target_health),
        mock.patch.object(ELBv2Backend, "_validate_conditions", _strict_conditions(ELBv2Backend._validate_conditions)),
        mock.patch.object(AWSCertificateManagerBackend, "delete_certificate", delete_certificate),
        mock.patch.object(FakeTargetGroup, "deregister", deregister),
        mock.patch.object(FakeTargetGroup, "register", register_),
        mock.patch.object(FakeTargetGroup, "health_for", health_for),
    ]
    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        for patch in strict_security_groups(release):
            stack.enter_context(patch)
        stack.enter_context(provisioning_balancers(provisioning))
        for patch in [*strict_tags(), *strict_transforms()]:
            stack.enter_context(patch)
        yield release


def strict_tags() -> list[Any]:
    """Patches for AWS's tag limits and the ALB's two Availability Zones."""
    from moto.elbv2.exceptions import ELBClientError, TooManyTagsError
    from moto.elbv2.models import ELBv2Backend
    from moto.utilities.tagging_service import TaggingService

    tag_resource, create_balancer, set_subnets = (
        TaggingService.tag_resource,
        ELBv2Backend.create_load_balancer,
        ELBv2Backend.set_subnets,
    )

    def limited(self: Any, arn: str, tags: list[dict[str, str]] | None) -> None:
        merged = dict(self.tags.get(arn, {}))
        for tag in tags or []:
            key, value = tag[self.key_name], tag.get(self.value_name, "")
            if not 1 <= len(key) <= 128 or len(value) > 256:
                raise ELBClientError("ValidationError", f"tag {key[:40]!r} is over AWS's key or value length")
            merged[key] = value
        if len(merged) > 50:
            raise TooManyTagsError()
        tag_resource(self, arn, tags)

    def add_tags(self: Any, resource_arns: list[str], tags: list[dict[str, str]]) -> None:
        for arn in resource_arns:
            self._get_resource_by_arn(arn)
            self.tagging_service.tag_resource(arn, tags)

    def two_zones(backend: Any, subnet_ids: list[str]) -> None:
        zones = {backend.ec2_backend.get_subnet(s).availability_zone for s in subnet_ids}
        if len(zones) < 2:
            raise ELBClientError(
                "InvalidConfigurationRequest",
                "At least two subnets in two different Availability Zones must be specified",
            )

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        two_zones(self, kwargs.get("subnet_ids") or [])
        return create_balancer(self, *args, **kwargs)

    def set_subnets_(self: Any, arn: str, subnets: list[str], subnet_mappings: list[dict[str, Any]]) -> Any:
        two_zones(self, subnets or [m["SubnetId"] for m in subnet_mappings])
        return set_subnets(self, arn, subnets, subnet_mappings)

    return [
        mock.patch.object(TaggingService, "tag_resource", limited),
        mock.patch.object(ELBv2Backend, "add_tags", add_tags),
        mock.patch.object(ELBv2Backend, "create_load_balancer", create_load_balancer),
        mock.patch.object(ELBv2Backend, "set_subnets", set_subnets_),
    ]


def provisioning_balancers(describes: int) -> Any:
    """Balancers stay `provisioning` for `describes` DescribeLoadBalancers answers, then go `active`."""
    from moto.elbv2.models import FakeLoadBalancer

    activate = FakeLoadBalancer.activate

    def slowly(self: Any) -> None:
        seen = self.__dict__["describes"] = self.__dict__.get("describes", 0) + 1
        if seen > describes:
            activate(self)

    return mock.patch.object(FakeLoadBalancer, "activate", slowly)


def _groups_in_use(backend: Any) -> set[str]:
    return {group for lb in backend.load_balancers.values() for group in lb.security_groups or ()}


def strict_security_groups(release: Release) -> list[Any]:
    """Patches (made when called, so they wrap what is patched already) for EC2 security groups."""
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models import EC2Backend
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend, elbv2_backends

    delete_group = EC2Backend.delete_security_group
    create_balancer, set_groups = ELBv2Backend.create_load_balancer, ELBv2Backend.set_security_groups

    def holding_groups(method: Any) -> Any:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            before = _groups_in_use(self)
            result = method(self, *args, **kwargs)
            release.hold(before - _groups_in_use(self))
            return result

        return wrapped

    def check_groups(backend: Any, groups: list[str], vpc_id: str | None) -> None:
        for group_id in groups:
            group = backend.ec2_backend.get_security_group_from_id(group_id)
            if group is None or (vpc_id is not None and group.vpc_id != vpc_id):
                raise ELBClientError(
                    "InvalidConfigurationRequest", f"One or more security groups are invalid: {group_id}"
                )

    def create_load_balancer(self: Any, *args: Any, **kwargs: Any) -> Any:
        subnets = kwargs.get("subnet_ids") or []
        subnet = self.ec2_backend.get_subnet(subnets[0]) if subnets else None
        check_groups(self, kwargs.get("security_groups") or [], subnet.vpc_id if subnet else None)
        return create_balancer(self, *args, **kwargs)

    def set_security_groups(self: Any, arn: str, sec_groups: list[str]) -> None:
        balancer = self.load_balancers.get(arn)
        check_groups(self, sec_groups, balancer.vpc_id if balancer else None)
        set_groups(self, arn, sec_groups)

    def delete_security_group(self: Any, name: str | None = None, group_id: str | None = None) -> None:
        if group_id and self.get_security_group_from_id(group_id) is not None:
            elbv2 = elbv2_backends[self.account_id][self.region_name]
            referring = [
                other.id
                for groups in self.groups.values()
                for other in groups.values()
                if other.id != group_id
                and any(rule.source_group.get("GroupId") == group_id for rule in other.ingress_rules)
            ]
            if group_id in _groups_in_use(elbv2) or referring or release.refuses(group_id):
                raise DependencyViolationError(f"resource {group_id} has a dependent object")
        delete_group(self, name, group_id)

    return [
        mock.patch.object(ELBv2Backend, "delete_load_balancer", holding_groups(ELBv2Backend.delete_load_balancer)),
        mock.patch.object(ELBv2Backend, "set_security_groups", holding_groups(set_security_groups)),
        mock.patch.object(ELBv2Backend, "create_load_balancer", create_load_balancer),
        mock.patch.object(EC2Backend, "delete_security_group", delete_security_group),
    ]
