"""Cloud facts the ALB needs beyond the IR: subnets, VPC, the targets' security groups.

`observe` reads the inventory (one describe of subnets, one of the cluster's security groups);
`resolve_lookups` picks from it purely. Offline (`plan(ir, None)`) every value that would
come from the account is a named placeholder, so a dry run needs no credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico_providers.aws_alb.params import AlbParameters
from portico_providers.aws_common.retry import call


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc_id: str
    zone: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inventory:
    subnets: tuple[Subnet, ...] = ()
    # VPC id -> ids of the groups tagged kubernetes.io/cluster/<cluster id> (the targets' groups)
    cluster_security_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    instances: Mapping[str, str] = field(default_factory=dict)  # node name (private DNS name) -> instance id


@dataclass(frozen=True)
class Lookups:
    vpc_id: str
    subnets: tuple[str, ...]
    # The user's groups; empty: Portico's own frontend group.
    security_groups: tuple[str, ...]
    # Groups that get a backend rule admitting the frontend group (empty: none managed).
    target_security_groups: tuple[str, ...] = ()
    instances: Mapping[str, str] | None = None  # None offline: every node is a placeholder

    def instance_of(self, node: str) -> str | None:
        if self.instances is None:
            return f"<lookup: EC2 instance of node {node}>"
        return self.instances.get(node)

    def to_document(self) -> dict[str, Any]:
        return {
            "vpc_id": self.vpc_id,
            "subnets": list(self.subnets),
            "security_groups": list(self.security_groups),
            "target_security_groups": list(self.target_security_groups),
        }


def _selector_text(selector: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))


def cluster_tag(cluster_id: str) -> str:
    return f"kubernetes.io/cluster/{cluster_id}"


def manages_backend_rules(params: AlbParameters) -> bool:
    return not params.security_groups and params.manage_backend_security_group_rules


def placeholder_lookups(params: AlbParameters, cluster_id: str) -> Lookups:
    """What an offline dry run shows for values only the account knows."""
    subnets = params.subnets or (
        f"<lookup: subnets tagged {_selector_text(params.subnet_selector())}, one per Availability Zone>",
    )
    vpc = params.vpc_id or "<lookup: VPC of the subnets>"
    targets = (f"<lookup: security groups tagged {cluster_tag(cluster_id)}>",) if manages_backend_rules(params) else ()
    return Lookups(
        vpc_id=vpc,
        subnets=tuple(sorted(subnets)),
        security_groups=tuple(sorted(params.security_groups)),
        target_security_groups=targets,
    )


def resolve_lookups(params: AlbParameters, inventory: Inventory) -> Lookups | list[str]:
    """Pure: the subnets, VPC and security groups to use, or what is wrong with the parameters."""
    by_id = {s.id: s for s in inventory.subnets}
    if params.subnets:
        missing = [s for s in params.subnets if s not in by_id]
        if missing:
            return [f"spec.aws.subnets: {', '.join(missing)} not found in the account's region"]
        chosen = [by_id[s] for s in params.subnets]
        zones = sorted({s.zone for s in chosen})
        if len(zones) < 2:
            return [
                f"spec.aws.subnets: an ALB needs subnets in at least two Availability Zones; "
                f"{', '.join(params.subnets)} are all in {zones[0]}"
            ]
    else:
        selector = params.subnet_selector()
        matching = [
            s
            for s in sorted(inventory.subnets, key=lambda s: s.id)
            if all(s.tags.get(k) == v for k, v in selector.items())
            and (params.vpc_id is None or s.vpc_id == params.vpc_id)
        ]
        per_zone: dict[str, Subnet] = {}
        for subnet in matching:
            per_zone.setdefault(subnet.zone, subnet)
        chosen = list(per_zone.values())
        if len(chosen) < 2:
            return [
                f"spec.aws.subnetTags: an ALB needs subnets in two Availability Zones; "
                f"{len(chosen)} zone(s) have subnets tagged {_selector_text(selector)}"
            ]
    vpcs = sorted({s.vpc_id for s in chosen})
    if len(vpcs) != 1:
        return [f"spec.aws.subnets: the subnets span {len(vpcs)} VPCs ({', '.join(vpcs)}); an ALB lives in one"]
    vpc = vpcs[0]
    if params.vpc_id and params.vpc_id != vpc:
        return [f"spec.aws.vpcId: {params.vpc_id} does not hold the subnets (they are in {vpc})"]
    targets = inventory.cluster_security_groups.get(vpc, ()) if manages_backend_rules(params) else ()
    return Lookups(
        vpc_id=vpc,
        subnets=tuple(sorted(s.id for s in chosen)),
        security_groups=tuple(sorted(params.security_groups)),
        target_security_groups=tuple(sorted(targets)),
        instances=inventory.instances,
    )


def _instances(ec2: Any, cluster_id: str) -> dict[str, str]:
    """Running instances tagged as this cluster's nodes, by private DNS name and by id."""
    found: dict[str, str] = {}
    filters = [
        {"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{cluster_id}"]},
        {"Name": "instance-state-name", "Values": ["running"]},
    ]
    token: str | None = None
    while True:
        page = call(ec2.describe_instances, Filters=filters, **({"NextToken": token} if token else {}))
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                found[instance["InstanceId"]] = instance["InstanceId"]
                if instance.get("PrivateDnsName"):
                    found[instance["PrivateDnsName"]] = instance["InstanceId"]
        token = page.get("NextToken")
        if not token:
            return found


def read_inventory(ec2: Any, cluster_id: str) -> Inventory:
    subnets: list[Subnet] = []
    token: str | None = None
    while True:
        page = call(ec2.describe_subnets, **({"NextToken": token} if token else {}))
        for s in page.get("Subnets", []):
            tags = {t["Key"]: t.get("Value", "") for t in s.get("Tags", [])}
            subnets.append(Subnet(s["SubnetId"], s["VpcId"], s["AvailabilityZone"], tags))
        token = page.get("NextToken")
        if not token:
            break
    tagged = call(ec2.describe_security_groups, Filters=[{"Name": "tag-key", "Values": [cluster_tag(cluster_id)]}])
    by_vpc: dict[str, tuple[str, ...]] = {}
    for group in tagged.get("SecurityGroups", []):
        if group.get("VpcId"):
            by_vpc[group["VpcId"]] = (*by_vpc.get(group["VpcId"], ()), group["GroupId"])
    return Inventory(subnets=tuple(subnets), cluster_security_groups=by_vpc, instances=_instances(ec2, cluster_id))
