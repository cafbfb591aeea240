"""The ALB's security groups: a frontend group Portico owns and the backend rules that admit it.

With no `securityGroups` parameter each Gateway's ALB gets its own frontend group, open on the
listener ports to `inboundCidrs` (default 0.0.0.0/0, plus ::/0 for dualstack). The targets'
security groups (those of the VPC tagged `kubernetes.io/cluster/<cluster id>`, such as the EKS
cluster security group) get one ingress rule per target port whose source is that frontend group;
the rules carry Portico's ownership tags (security group rules are taggable resources), so
Portico owns the rules it adds but never the nodes' groups themselves.

Unlike aws-load-balancer-controller, whose balancers share one backend group per cluster, the
source is the Gateway's own frontend group: every rule then belongs to exactly one Gateway and
goes with it, with no cluster-wide group whose last user must be found before it is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from portico_providers.aws_common.acm import user_tags
from portico_providers.aws_common.retry import call
from portico_providers.aws_common.tags import RESOURCE_TAG, Owner, bounded_id, tag_dict, tag_list
from portico_providers.kit.diff import Step
from portico_providers.kit.execute import UpdateThenRetag
from portico_providers.kit.ownership import Marks
from portico_providers.kit.references import Reference, ref
from portico_providers.kit.resources import Desired, Observed, Spec

FRONTEND_ID = "security-group:frontend"
IPV4_ANYWHERE = "0.0.0.0/0"
IPV6_ANYWHERE = "::/0"
BACKEND_DESCRIPTION = "Portico: the Gateway's load balancer reaches its targets"


class Ingress(Spec):
    protocol: str = "tcp"
    from_port: int
    to_port: int
    cidr: str


class SecurityGroupSpec(Spec):
    name: str
    description: str
    vpc_id: str
    ingress: tuple[Ingress, ...] = ()
    tags: dict[str, str] = {}


class BackendRuleSpec(Spec):
    """One ingress rule in a targets' security group: TCP `port` from the frontend group."""

    group_id: str
    port: int
    source: Reference
    tags: dict[str, str] = {}


def default_cidrs(ip_address_type: str) -> tuple[str, ...]:
    return (IPV4_ANYWHERE, IPV6_ANYWHERE) if ip_address_type == "dualstack" else (IPV4_ANYWHERE,)


def frontend_group(
    name: str, gateway: str, vpc_id: str, ports: Iterable[int], cidrs: Sequence[str], tags: dict[str, str]
) -> Desired:
    ingress = sorted(
        {Ingress(from_port=port, to_port=port, cidr=cidr) for port in ports for cidr in cidrs},
        key=lambda i: (i.from_port, i.cidr),
    )
    spec = SecurityGroupSpec(
        name=name,
        description=f"Portico: clients of the load balancer of Gateway {gateway}"[:255],
        vpc_id=vpc_id,
        ingress=tuple(ingress),
        tags=tags,
    )
    return Desired("security-group", FRONTEND_ID, spec)


def backend_rules(groups: Iterable[str], ports: Iterable[int], tags: dict[str, str]) -> list[Desired]:
    return [
        Desired(
            "backend-rule",
            bounded_id(f"backend-rule:{group}:{port}"),
            BackendRuleSpec(group_id=group, port=port, source=ref(FRONTEND_ID), tags=tags),
        )
        for group in sorted(set(groups))
        for port in sorted(set(ports))
    ]


def _permissions(ingress: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    permissions = []
    for item in ingress:
        ranges = (
            {"Ipv6Ranges": [{"CidrIpv6": item["cidr"]}]}
            if ":" in item["cidr"]
            else {"IpRanges": [{"CidrIp": item["cidr"]}]}
        )
        permissions.append(
            {"IpProtocol": item["protocol"], "FromPort": item["from_port"], "ToPort": item["to_port"], **ranges}
        )
    return permissions


class Ec2Handler(UpdateThenRetag):
    def __init__(self, ec2: Any) -> None:
        self.ec2 = ec2

    def retag(self, observed: Observed, stale: list[str], wanted: dict[str, str]) -> None:
        if stale:
            call(self.ec2.delete_tags, Resources=[observed.cloud_id], Tags=[{"Key": k} for k in stale])
        if wanted:
            call(self.ec2.create_tags, Resources=[observed.cloud_id], Tags=tag_list(wanted))


class SecurityGroupHandler(Ec2Handler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        created = call(
            self.ec2.create_security_group,
            GroupName=spec["name"],
            Description=spec["description"],
            VpcId=spec["vpc_id"],
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list(marks.tags)}],
        )
        group_id: str = created["GroupId"]
        if spec["ingress"]:
            call(
                self.ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=_permissions(spec["ingress"])
            )
        return group_id

    def update_one(self, step: Step, spec: dict[str, Any]) -> None:
        assert step.observed is not None
        if "ingress" not in step.fields:
            return
        current = step.observed.spec.model_dump()["ingress"]
        new = [i for i in spec["ingress"] if i not in current]
        stale = [i for i in current if i not in spec["ingress"]]
        if new:
            call(
                self.ec2.authorize_security_group_ingress,
                GroupId=step.observed.cloud_id,
                IpPermissions=_permissions(new),
            )
        if stale:
            call(
                self.ec2.revoke_security_group_ingress,
                GroupId=step.observed.cloud_id,
                IpPermissions=_permissions(stale),
            )

    def delete(self, observed: Observed) -> None:
        # EC2 answers DependencyViolation while the deleted balancer's network interfaces still
        # hold the group (minutes): a conflict, so the delete is pending and tried again.
        call(self.ec2.delete_security_group, GroupId=observed.cloud_id)


class BackendRuleHandler(Ec2Handler):
    def create(self, desired: Desired, spec: dict[str, Any], marks: Marks) -> str:
        pair = {"GroupId": spec["source"], "Description": BACKEND_DESCRIPTION}
        permission = {"IpProtocol": "tcp", "FromPort": spec["port"], "ToPort": spec["port"], "UserIdGroupPairs": [pair]}
        answer = call(
            self.ec2.authorize_security_group_ingress,
            GroupId=spec["group_id"],
            IpPermissions=[permission],
            TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": tag_list(marks.tags)}],
        )
        rule_id: str = answer["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        return rule_id

    def delete(self, observed: Observed) -> None:
        group = observed.spec.model_dump()["group_id"]
        call(self.ec2.revoke_security_group_ingress, GroupId=group, SecurityGroupRuleIds=[observed.cloud_id])


def _owner_filters(owner: Owner) -> list[dict[str, Any]]:
    wanted = owner.tags("")
    return [{"Name": f"tag:{key}", "Values": [wanted[key]]} for key in (owner.keys.cluster, owner.keys.gateway)]


def _ingress(group: dict[str, Any]) -> tuple[Ingress, ...]:
    found = set()
    for permission in group.get("IpPermissions", []):
        protocol = permission.get("IpProtocol", "-1")
        low, high = permission.get("FromPort", -1), permission.get("ToPort", -1)
        cidrs = [r["CidrIp"] for r in permission.get("IpRanges", [])]
        cidrs += [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        # A rule someone added by hand with another source is ours to remove: it is in our group.
        cidrs += [p["GroupId"] for p in permission.get("UserIdGroupPairs", [])]
        found |= {Ingress(protocol=protocol, from_port=low, to_port=high, cidr=cidr) for cidr in cidrs}
    return tuple(sorted(found, key=lambda i: (i.from_port, i.cidr)))


def observe_security(ec2: Any, owner: Owner) -> list[Observed]:
    found: list[Observed] = []
    filters = _owner_filters(owner)
    for group in call(ec2.describe_security_groups, Filters=filters).get("SecurityGroups", []):
        tags = tag_dict(group.get("Tags"))
        if not owner.owns(tags):
            continue
        spec = SecurityGroupSpec(
            name=group["GroupName"],
            description=group.get("Description", ""),
            vpc_id=group.get("VpcId", ""),
            ingress=_ingress(group),
            tags=user_tags(tags),
        )
        found.append(Observed("security-group", tags[RESOURCE_TAG], group["GroupId"], spec, marks=Marks(tags=tags)))
    for rule in call(ec2.describe_security_group_rules, Filters=filters).get("SecurityGroupRules", []):
        tags = tag_dict(rule.get("Tags"))
        if not owner.owns(tags) or rule.get("IsEgress"):
            continue
        source = rule.get("ReferencedGroupInfo", {}).get("GroupId", "")
        admits = BackendRuleSpec(
            group_id=rule["GroupId"], port=rule.get("FromPort", -1), source=source, tags=user_tags(tags)
        )
        found.append(
            Observed("backend-rule", tags[RESOURCE_TAG], rule["SecurityGroupRuleId"], admits, marks=Marks(tags=tags))
        )
    return found
