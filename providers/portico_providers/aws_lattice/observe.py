"""Read back what Portico owns on VPC Lattice for one Gateway (list by tags, then get details)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from portico_providers.aws_common.acm import observe_certificates, user_tags
from portico_providers.aws_common.retry import AWS_ERRORS, call
from portico_providers.aws_common.tags import RESOURCE_TAG, Owner
from portico_providers.aws_lattice.api import action_from_api, match_from_api
from portico_providers.aws_lattice.model import (
    AUTH_POLICY,
    LISTENER,
    RULE,
    SERVICE,
    SERVICE_ASSOCIATION,
    SERVICE_NETWORK,
    TARGET_GROUP,
    VPC_ASSOCIATION,
    AuthPolicySpec,
    ListenerSpec,
    RuleSpec,
    ServiceAssociationSpec,
    ServiceNetworkSpec,
    ServiceSpec,
    Target,
    TargetGroupSpec,
    VpcAssociationSpec,
    auth_policy_id,
)
from portico_providers.aws_lattice.params import canonical_policy
from portico_providers.kit.execute import ErrorKind
from portico_providers.kit.flow import ObservedState
from portico_providers.kit.ownership import Marks
from portico_providers.kit.resources import Observed


@dataclass(frozen=True)
class Networks:
    """Every service network in the account by name, id and ARN -> ARN (for `serviceNetwork`)."""

    arns: dict[str, str] = field(default_factory=dict)


def _items(function: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = call(function, **kwargs, **({"nextToken": token} if token else {}))
        yield from page.get("items", [])
        token = page.get("nextToken")
        if not token:
            return


class _Reader:
    def __init__(self, lattice: Any, owner: Owner) -> None:
        self.lattice = lattice
        self.owner = owner
        self.found: list[Observed] = []

    def owned_tags(self, arn: str) -> dict[str, str] | None:
        tags: dict[str, str] = call(self.lattice.list_tags_for_resource, resourceArn=arn).get("tags", {})
        return tags if self.owner.owns(tags) else None

    def add(self, kind: str, tags: dict[str, str], arn: str, spec: Any, status: str = "ACTIVE", **extra: Any) -> None:
        """`status` as Lattice lists it: ACTIVE is ready, *_IN_PROGRESS is busy (the Gateway waits
        for it), *_FAILED is replaced rather than adopted."""
        failed = status if status.endswith("_FAILED") else ""
        busy = "" if status == "ACTIVE" or failed else status
        extra["status"] = status
        self.found.append(Observed(kind, tags[RESOURCE_TAG], arn, spec, extra, Marks(tags=tags), busy, failed))

    def auth_policy(self, tags: dict[str, str], arn: str) -> None:
        """The auth policy on a service network or service of ours, if it has one (it carries no
        tags: it is ours because the resource it protects is)."""
        try:
            policy = call(self.lattice.get_auth_policy, resourceIdentifier=arn).get("policy") or ""
        except Exception as error:
            if AWS_ERRORS.classify(error) is not ErrorKind.GONE:
                raise
            return
        if policy:
            policy_id = auth_policy_id(tags[RESOURCE_TAG])
            spec = AuthPolicySpec(resource=arn, policy=canonical_policy(policy))
            self.found.append(
                Observed(AUTH_POLICY, policy_id, arn, spec, marks=Marks(tags={**tags, RESOURCE_TAG: policy_id}))
            )

    def networks(self) -> Networks:
        networks = Networks()
        for item in _items(self.lattice.list_service_networks):
            for key in (item["name"], item["id"], item["arn"]):
                networks.arns[key] = item["arn"]
            tags = self.owned_tags(item["arn"])
            if tags:
                detail = call(self.lattice.get_service_network, serviceNetworkIdentifier=item["arn"])
                self.add(
                    SERVICE_NETWORK,
                    tags,
                    item["arn"],
                    ServiceNetworkSpec(
                        name=item["name"], auth_type=detail.get("authType", "NONE"), tags=user_tags(tags)
                    ),
                )
                self.auth_policy(tags, item["arn"])
        return networks

    def vpc_associations(self, network_arns: set[str]) -> None:
        for network in sorted(network_arns):
            for item in _items(self.lattice.list_service_network_vpc_associations, serviceNetworkIdentifier=network):
                tags = self.owned_tags(item["arn"])
                if tags:
                    detail = call(
                        self.lattice.get_service_network_vpc_association,
                        serviceNetworkVpcAssociationIdentifier=item["arn"],
                    )
                    self.add(
                        VPC_ASSOCIATION,
                        tags,
                        item["arn"],
                        VpcAssociationSpec(
                            service_network=item.get("serviceNetworkArn", network),
                            vpc_id=item["vpcId"],
                            security_groups=tuple(sorted(detail.get("securityGroupIds", []))),
                            tags=user_tags(tags),
                        ),
                        status=item.get("status", "ACTIVE"),
                    )

    def target_groups(self) -> tuple[dict[str, str], dict[str, str]]:
        arns: dict[str, str] = {}
        ids: dict[str, str] = {}
        for item in _items(self.lattice.list_target_groups):
            arns[item["id"]] = arns[item["arn"]] = item["arn"]
            tags = self.owned_tags(item["arn"])
            if not tags:
                continue
            ids[item["arn"]] = tags[RESOURCE_TAG]
            config = call(self.lattice.get_target_group, targetGroupIdentifier=item["arn"]).get("config", {})
            targets = sorted(
                {
                    Target(id=t["id"], port=t["port"])
                    for t in _items(self.lattice.list_targets, targetGroupIdentifier=item["arn"])
                    # A draining target counts as not registered (one that comes back is registered again).
                    if t.get("status") != "DRAINING"
                },
                key=lambda t: (t.id, t.port),
            )
            self.add(
                TARGET_GROUP,
                tags,
                item["arn"],
                TargetGroupSpec(
                    name=item["name"],
                    port=config.get("port", 0),
                    protocol=config.get("protocol", "HTTP"),
                    protocol_version=config.get("protocolVersion", "HTTP1"),
                    vpc_id=config.get("vpcIdentifier", ""),
                    targets=tuple(targets),
                    tags=user_tags(tags),
                ),
                status=item.get("status", "ACTIVE"),
            )
        return arns, ids

    def services(self, group_arns: dict[str, str], group_ids: dict[str, str]) -> list[str]:
        names: list[str] = []
        for item in _items(self.lattice.list_services):
            tags = self.owned_tags(item["arn"])
            if not tags:
                continue
            service = item["arn"]
            detail = call(self.lattice.get_service, serviceIdentifier=service)
            dns = (detail.get("dnsEntry") or {}).get("domainName", "")
            names.append(dns)
            self.add(
                SERVICE,
                tags,
                service,
                ServiceSpec(
                    name=item["name"],
                    custom_domain_name=detail.get("customDomainName"),
                    certificate=detail.get("certificateArn") or None,
                    auth_type=detail.get("authType", "NONE"),
                    tags=user_tags(tags),
                ),
                status=item.get("status", "ACTIVE"),
                dns_name=dns,
            )
            self.auth_policy(tags, service)
            for assoc in _items(self.lattice.list_service_network_service_associations, serviceIdentifier=service):
                atags = self.owned_tags(assoc["arn"])
                if atags:
                    self.add(
                        SERVICE_ASSOCIATION,
                        atags,
                        assoc["arn"],
                        ServiceAssociationSpec(
                            service_network=assoc["serviceNetworkArn"], service=service, tags=user_tags(atags)
                        ),
                        status=assoc.get("status", "ACTIVE"),
                    )
            self.listeners(service, group_arns, group_ids)
        return names

    def listeners(self, service: str, group_arns: dict[str, str], group_ids: dict[str, str]) -> None:
        for item in _items(self.lattice.list_listeners, serviceIdentifier=service):
            tags = self.owned_tags(item["arn"])
            if not tags:
                continue
            listener = item["arn"]
            detail = call(self.lattice.get_listener, serviceIdentifier=service, listenerIdentifier=listener)
            self.add(
                LISTENER,
                tags,
                listener,
                ListenerSpec(
                    service=service,
                    name=item["name"],
                    protocol=item["protocol"],
                    port=item["port"],
                    default_action=action_from_api(detail.get("defaultAction", {}), group_arns, group_ids),
                    tags=user_tags(tags),
                ),
            )
            for rule in _items(self.lattice.list_rules, serviceIdentifier=service, listenerIdentifier=listener):
                rtags = None if rule.get("isDefault") else self.owned_tags(rule["arn"])
                if not rtags:
                    continue
                got = call(
                    self.lattice.get_rule,
                    serviceIdentifier=service,
                    listenerIdentifier=listener,
                    ruleIdentifier=rule["arn"],
                )
                self.add(
                    RULE,
                    rtags,
                    rule["arn"],
                    RuleSpec(
                        service=service,
                        listener=listener,
                        name=got["name"],
                        priority=int(got["priority"]),
                        match=match_from_api(got.get("match", {})),
                        action=action_from_api(got.get("action", {}), group_arns, group_ids),
                        tags=user_tags(rtags),
                    ),
                )


def observe(clients: Any, owner: Owner) -> ObservedState:
    reader = _Reader(clients.client("vpc-lattice"), owner)
    reader.found += observe_certificates(clients.client("acm"), owner)
    networks = reader.networks()
    # Every network: the Gateway may have joined one it does not own (`serviceNetwork`).
    reader.vpc_associations(set(networks.arns.values()))
    group_arns, group_ids = reader.target_groups()
    names = reader.services(group_arns, group_ids)
    addresses = tuple(("Hostname", name) for name in sorted(set(names)) if name)
    return ObservedState(owner, tuple(reader.found), addresses, networks)
