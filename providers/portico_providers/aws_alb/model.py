"""Typed desired state of one Gateway's ALB: what `build` produces and `observe` reads back.

Specs hold only what Portico sets, in a canonical order (sorted where AWS does not keep
order), so that a desired spec with its tokens resolved equals the observed one exactly
when nothing needs to change.
"""

from __future__ import annotations

from typing import Literal

from portico_providers.aws_common.acm import RULES as CERTIFICATE_RULES
from portico_providers.aws_common.targets import Target as Target  # noqa: PLC0414 (re-export)
from portico_providers.aws_common.targets import WeightedTargetGroup as WeightedTargetGroup  # noqa: PLC0414 (re-export)
from portico_providers.kit.references import Reference
from portico_providers.kit.resources import KindRules, Spec

LOAD_BALANCER = "load-balancer"
SECURITY_GROUP = "security-group"
BACKEND_RULE = "backend-rule"
TARGET_GROUP = "target-group"
LISTENER = "listener"
RULE = "rule"

KINDS = (
    # The frontend security group exists before the balancer uses it and goes after it; the
    # backend rules (ingress to the nodes' groups from it) go before it.
    KindRules(SECURITY_GROUP, immutable=frozenset({"name", "description", "vpc_id"})),
    KindRules(BACKEND_RULE, immutable=frozenset({"group_id", "port", "source"})),
    CERTIFICATE_RULES,
    KindRules(
        TARGET_GROUP,
        immutable=frozenset({"name", "protocol", "protocol_version", "port", "vpc_id", "target_type"}),
    ),
    KindRules(LOAD_BALANCER, immutable=frozenset({"name", "scheme"})),
    KindRules(LISTENER, immutable=frozenset({"load_balancer", "port"})),
    # Stale rules go first: their priorities are then free for the rules that move or appear.
    KindRules(RULE, immutable=frozenset({"listener"}), delete_early=True),
)


class LoadBalancerSpec(Spec):
    name: str
    scheme: Literal["internet-facing", "internal"]
    ip_address_type: str
    subnets: tuple[str, ...]
    security_groups: tuple[Reference, ...]
    tags: dict[str, str] = {}


class TargetGroupSpec(Spec):
    name: str
    protocol: Literal["HTTP", "HTTPS"]
    protocol_version: Literal["HTTP1", "HTTP2", "GRPC"]
    port: int
    vpc_id: str
    target_type: Literal["ip", "instance"] = "ip"
    health_check_path: str
    matcher: str
    targets: tuple[Target, ...] = ()
    tags: dict[str, str] = {}


class FixedResponse(Spec):
    status_code: str
    content_type: str = "text/plain"
    message_body: str = ""


class Redirect(Spec):
    protocol: str = "#{protocol}"
    host: str = "#{host}"
    port: str = "#{port}"
    path: str = "/#{path}"
    query: str = "#{query}"
    status_code: Literal["HTTP_301", "HTTP_302"] = "HTTP_302"


class Action(Spec):
    type: Literal["forward", "fixed-response", "redirect"]
    forward: tuple[WeightedTargetGroup, ...] = ()
    fixed_response: FixedResponse | None = None
    redirect: Redirect | None = None


class KeyValue(Spec):
    key: str
    value: str


class Condition(Spec):
    field: Literal["host-header", "path-pattern", "http-header", "query-string", "http-request-method"]
    values: tuple[str, ...] = ()
    # RegexValues (path-pattern, http-header, host-header): regular expressions instead of wildcards.
    regex_values: tuple[str, ...] = ()
    header_name: str | None = None
    query: tuple[KeyValue, ...] = ()

    @property
    def value_count(self) -> int:
        return len(self.values) + len(self.regex_values) + len(self.query)


class Transform(Spec):
    """One rule transform with its one rewrite: `regex` matched on the URL or Host, `replace` for it."""

    type: Literal["host-header-rewrite", "url-rewrite"]
    regex: str
    replace: str


class ListenerSpec(Spec):
    load_balancer: Reference
    port: int
    protocol: Literal["HTTP", "HTTPS"]
    ssl_policy: str | None = None
    # The first is the listener's default certificate; the others are served by SNI.
    certificates: tuple[Reference, ...] = ()
    default_action: Action
    tags: dict[str, str] = {}


class RuleSpec(Spec):
    listener: Reference
    priority: int
    conditions: tuple[Condition, ...]
    action: Action
    # Sorted by type; applied to a request after the conditions chose the rule.
    transforms: tuple[Transform, ...] = ()
    tags: dict[str, str] = {}


NOT_FOUND = Action(
    type="fixed-response",
    fixed_response=FixedResponse(status_code="404", message_body="no route matches this request"),
)
INVALID_BACKEND = Action(
    type="fixed-response",
    fixed_response=FixedResponse(status_code="500", message_body="no valid backend for this route rule"),
)
