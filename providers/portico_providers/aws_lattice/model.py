"""Typed desired state of one Gateway on VPC Lattice (see aws_alb/model.py for the conventions)."""

from __future__ import annotations

from typing import Literal

from portico_providers.aws_common.acm import RULES as CERTIFICATE_RULES
from portico_providers.aws_common.targets import Target as Target  # noqa: PLC0414 (re-export)
from portico_providers.aws_common.targets import WeightedTargetGroup as WeightedTargetGroup  # noqa: PLC0414 (re-export)
from portico_providers.kit.references import Reference
from portico_providers.kit.resources import KindRules, Spec

SERVICE_NETWORK = "service-network"
VPC_ASSOCIATION = "vpc-association"
TARGET_GROUP = "target-group"
SERVICE = "service"
SERVICE_ASSOCIATION = "service-association"
LISTENER = "listener"
RULE = "rule"
AUTH_POLICY = "auth-policy"

KINDS = (
    CERTIFICATE_RULES,
    KindRules(SERVICE_NETWORK, immutable=frozenset({"name"})),
    KindRules(VPC_ASSOCIATION, immutable=frozenset({"service_network", "vpc_id"})),
    KindRules(TARGET_GROUP, immutable=frozenset({"name", "port", "protocol", "protocol_version", "vpc_id"})),
    KindRules(SERVICE, immutable=frozenset({"name", "custom_domain_name"})),
    KindRules(SERVICE_ASSOCIATION, immutable=frozenset({"service_network", "service"})),
    KindRules(LISTENER, immutable=frozenset({"service", "name", "protocol", "port"})),
    KindRules(RULE, immutable=frozenset({"service", "listener", "name"}), delete_early=True),
    # Last: put once what it protects exists, removed before it goes.
    KindRules(AUTH_POLICY, immutable=frozenset({"resource"})),
)


class ServiceNetworkSpec(Spec):
    name: str
    auth_type: str
    tags: dict[str, str] = {}


class VpcAssociationSpec(Spec):
    service_network: Reference
    vpc_id: str
    security_groups: tuple[str, ...] = ()
    tags: dict[str, str] = {}


class TargetGroupSpec(Spec):
    name: str
    port: int
    protocol: Literal["HTTP", "HTTPS"]
    protocol_version: Literal["HTTP1", "HTTP2", "GRPC"]
    vpc_id: str
    targets: tuple[Target, ...] = ()
    tags: dict[str, str] = {}


class ServiceSpec(Spec):
    name: str
    custom_domain_name: str | None = None
    certificate: Reference | None = None
    auth_type: str
    tags: dict[str, str] = {}


class ServiceAssociationSpec(Spec):
    service_network: Reference
    service: Reference
    tags: dict[str, str] = {}


class Action(Spec):
    """Forward to weighted target groups, or a fixed 404/500 (the only codes Lattice offers)."""

    forward: tuple[WeightedTargetGroup, ...] = ()
    fixed_status: int | None = None


class HeaderMatch(Spec):
    name: str
    exact: str


class Match(Spec):
    method: str | None = None
    path_exact: str | None = None
    path_prefix: str | None = None
    headers: tuple[HeaderMatch, ...] = ()


class ListenerSpec(Spec):
    service: Reference
    name: str
    protocol: Literal["HTTP", "HTTPS"]
    port: int
    default_action: Action
    tags: dict[str, str] = {}


class RuleSpec(Spec):
    service: Reference
    listener: Reference
    name: str
    priority: int
    match: Match
    action: Action
    tags: dict[str, str] = {}


NOT_FOUND = Action(fixed_status=404)
INVALID_BACKEND = Action(fixed_status=500)


def auth_policy_id(resource_id: str) -> str:
    """The policy of the service network or service `resource_id` (never a tag value: untagged)."""
    return f"{AUTH_POLICY}:{resource_id}"


class AuthPolicySpec(Spec):
    """The auth policy of a service network or service (Lattice keeps one per resource, untagged:
    it is ours because the resource it protects is)."""

    resource: Reference
    policy: str  # canonical JSON
