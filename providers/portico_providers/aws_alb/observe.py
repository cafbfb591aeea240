"""Read back what Portico owns for one Gateway, by ownership tags, into the same typed specs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from portico_providers.aws_alb.lookups import read_inventory
from portico_providers.aws_alb.model import (
    LISTENER,
    LOAD_BALANCER,
    RULE,
    TARGET_GROUP,
    Action,
    Condition,
    FixedResponse,
    KeyValue,
    ListenerSpec,
    LoadBalancerSpec,
    Redirect,
    RuleSpec,
    Target,
    TargetGroupSpec,
    Transform,
    WeightedTargetGroup,
)
from portico_providers.aws_alb.rules import canonical
from portico_providers.aws_alb.security import observe_security
from portico_providers.aws_common.acm import observe_certificates, user_tags
from portico_providers.aws_common.retry import call
from portico_providers.aws_common.tags import RESOURCE_TAG, Owner, tag_dict
from portico_providers.kit.flow import ObservedState
from portico_providers.kit.ownership import Marks
from portico_providers.kit.references import Reference, order_key, token_text
from portico_providers.kit.resources import Observed

TAG_BATCH = 20  # DescribeTags takes at most 20 ARNs


def _pages(function: Any, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    marker: str | None = None
    while True:
        page = call(function, **kwargs, **({"Marker": marker} if marker else {}))
        yield from page.get(key, [])
        marker = page.get("NextMarker")
        if not marker:
            return


def _owned(elbv2: Any, owner: Owner, arns: list[str]) -> dict[str, dict[str, str]]:
    """arn -> tags, for the ARNs this Gateway owns."""
    owned: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), TAG_BATCH):
        batch = arns[start : start + TAG_BATCH]
        for item in call(elbv2.describe_tags, ResourceArns=batch).get("TagDescriptions", []):
            tags = tag_dict(item.get("Tags"))
            if owner.owns(tags):
                owned[item["ResourceArn"]] = tags
    return owned


def _action(raw: dict[str, Any], names: Mapping[str, str]) -> Action:
    kind = raw["Type"]
    if kind == "fixed-response":
        cfg = raw.get("FixedResponseConfig", {})
        return Action(
            type=kind,
            fixed_response=FixedResponse(
                status_code=cfg.get("StatusCode", ""),
                content_type=cfg.get("ContentType", "text/plain"),
                message_body=cfg.get("MessageBody", ""),
            ),
        )
    if kind == "redirect":
        cfg = raw.get("RedirectConfig", {})
        return Action(
            type=kind,
            redirect=Redirect(
                protocol=cfg.get("Protocol", "#{protocol}"),
                host=cfg.get("Host", "#{host}"),
                port=cfg.get("Port", "#{port}"),
                path=cfg.get("Path", "/#{path}"),
                query=cfg.get("Query", "#{query}"),
                status_code=cfg.get("StatusCode", "HTTP_302"),
            ),
        )
    groups = raw.get("ForwardConfig", {}).get("TargetGroups") or [
        {"TargetGroupArn": raw.get("TargetGroupArn", ""), "Weight": 1}
    ]
    forward = [WeightedTargetGroup(target_group=g["TargetGroupArn"], weight=int(g.get("Weight", 1))) for g in groups]
    # Same order as build: by the ${id} token of the target group.
    forward.sort(key=lambda f: _order(f.target_group, names))
    return Action(type="forward", forward=tuple(forward))


def _condition(raw: dict[str, Any]) -> Condition:
    field = raw["Field"]
    if field == "http-header":
        cfg = raw.get("HttpHeaderConfig", {})
        return Condition(
            field=field,
            header_name=cfg.get("HttpHeaderName"),
            values=tuple(cfg.get("Values") or ()),
            regex_values=tuple(cfg.get("RegexValues") or ()),
        )
    if field == "query-string":
        pairs = raw.get("QueryStringConfig", {}).get("Values", [])
        return Condition(field=field, query=tuple(KeyValue(key=p.get("Key", ""), value=p["Value"]) for p in pairs))
    config_key = {
        "host-header": "HostHeaderConfig",
        "path-pattern": "PathPatternConfig",
        "http-request-method": "HttpRequestMethodConfig",
    }[field]
    config = raw.get(config_key, {})
    values = config.get("Values") or raw.get("Values", [])
    return Condition(field=field, values=tuple(values), regex_values=tuple(config.get("RegexValues") or ()))


def _transforms(raw: list[dict[str, Any]]) -> tuple[Transform, ...]:
    found = []
    for item in raw:
        config = item.get("UrlRewriteConfig") or item.get("HostHeaderRewriteConfig") or {}
        for rewrite in config.get("Rewrites") or ():
            found.append(Transform(type=item["Type"], regex=rewrite["Regex"], replace=rewrite.get("Replace", "")))
    return tuple(sorted(found, key=lambda t: (t.type, t.regex, t.replace)))


def _target_groups(elbv2: Any, owner: Owner) -> list[Observed]:
    found = []
    groups = list(_pages(elbv2.describe_target_groups, "TargetGroups"))
    owned = _owned(elbv2, owner, [g["TargetGroupArn"] for g in groups])
    for group in groups:
        arn = group["TargetGroupArn"]
        if arn not in owned:
            continue
        health = call(elbv2.describe_target_health, TargetGroupArn=arn).get("TargetHealthDescriptions", [])
        # A draining target is on its way out: it counts as not registered, so a pod IP that
        # comes back while draining is registered again (and is not deregistered twice).
        targets = sorted(
            {
                Target(id=h["Target"]["Id"], port=h["Target"]["Port"])
                for h in health
                if h.get("TargetHealth", {}).get("State") != "draining"
            },
            key=lambda t: (t.id, t.port),
        )
        matcher = group.get("Matcher", {})
        found.append(
            Observed(
                TARGET_GROUP,
                owned[arn][RESOURCE_TAG],
                arn,
                TargetGroupSpec(
                    name=group["TargetGroupName"],
                    protocol=group["Protocol"],
                    protocol_version=group.get("ProtocolVersion", "HTTP1"),
                    port=group["Port"],
                    vpc_id=group["VpcId"],
                    target_type=group.get("TargetType", "ip"),
                    health_check_path=group.get("HealthCheckPath", "/"),
                    matcher=matcher.get("GrpcCode") or matcher.get("HttpCode", ""),
                    targets=tuple(targets),
                    tags=user_tags(owned[arn]),
                ),
                marks=Marks(tags=owned[arn]),
            )
        )
    return found


def _listener_certificates(elbv2: Any, listener: dict[str, Any], names: Mapping[str, str]) -> tuple[str, ...]:
    if listener["Protocol"] != "HTTPS":
        return ()
    default = [c["CertificateArn"] for c in listener.get("Certificates", [])][:1]
    listed = call(elbv2.describe_listener_certificates, ListenerArn=listener["ListenerArn"])
    others = {c["CertificateArn"] for c in listed.get("Certificates", []) if not c.get("IsDefault")} - set(default)
    return tuple(default + sorted(others, key=lambda a: token_text(names[a]) if a in names else a))


def observe(clients: Any, owner: Owner) -> ObservedState:
    elbv2 = clients.client("elbv2")
    found: list[Observed] = observe_certificates(clients.client("acm"), owner)
    cert_names = {o.arn: o.id for o in found}
    groups = _target_groups(elbv2, owner)
    found += groups
    group_names = {o.arn: o.id for o in groups}
    balancers = list(_pages(elbv2.describe_load_balancers, "LoadBalancers"))
    owned = _owned(elbv2, owner, [b["LoadBalancerArn"] for b in balancers])
    dns_name = None
    for lb in balancers:
        arn = lb["LoadBalancerArn"]
        if arn not in owned:
            continue
        dns_name = lb.get("DNSName")
        found.append(
            Observed(
                LOAD_BALANCER,
                owned[arn][RESOURCE_TAG],
                arn,
                LoadBalancerSpec(
                    name=lb["LoadBalancerName"],
                    scheme=lb["Scheme"],
                    ip_address_type=lb.get("IpAddressType", "ipv4"),
                    subnets=tuple(sorted(z["SubnetId"] for z in lb.get("AvailabilityZones", []))),
                    security_groups=tuple(sorted(lb.get("SecurityGroups", []))),
                    tags=user_tags(owned[arn]),
                ),
                extra={"dns_name": lb.get("DNSName", "")},
                marks=Marks(tags=owned[arn]),
            )
        )
        listeners = list(_pages(elbv2.describe_listeners, "Listeners", LoadBalancerArn=arn))
        owned_listeners = _owned(elbv2, owner, [li["ListenerArn"] for li in listeners])
        for listener in listeners:
            larn = listener["ListenerArn"]
            if larn not in owned_listeners:
                continue
            found.append(
                Observed(
                    LISTENER,
                    owned_listeners[larn][RESOURCE_TAG],
                    larn,
                    ListenerSpec(
                        load_balancer=arn,
                        port=listener["Port"],
                        protocol=listener["Protocol"],
                        ssl_policy=listener.get("SslPolicy") if listener["Protocol"] == "HTTPS" else None,
                        certificates=_listener_certificates(elbv2, listener, cert_names),
                        default_action=_action(listener["DefaultActions"][0], group_names),
                        tags=user_tags(owned_listeners[larn]),
                    ),
                    marks=Marks(tags=owned_listeners[larn]),
                )
            )
            rules = [r for r in _pages(elbv2.describe_rules, "Rules", ListenerArn=larn) if not r.get("IsDefault")]
            owned_rules = _owned(elbv2, owner, [r["RuleArn"] for r in rules])
            for rule in rules:
                if rule["RuleArn"] not in owned_rules:
                    continue
                tags = owned_rules[rule["RuleArn"]]
                found.append(
                    Observed(
                        RULE,
                        tags[RESOURCE_TAG],
                        rule["RuleArn"],
                        RuleSpec(
                            listener=larn,
                            priority=int(rule["Priority"]),
                            conditions=canonical([_condition(c) for c in rule.get("Conditions", [])]),
                            action=_action(rule["Actions"][0], group_names),
                            transforms=_transforms(rule.get("Transforms") or []),
                            tags=user_tags(tags),
                        ),
                        marks=Marks(tags=tags),
                    )
                )
    addresses = (("Hostname", dns_name),) if dns_name else ()
    ec2 = clients.client("ec2")
    found += observe_security(ec2, owner)
    return ObservedState(owner, tuple(found), addresses, read_inventory(ec2, owner.cluster_id))


def _order(arn: Reference, ids: Mapping[str, str]) -> str:
    """Observed ARNs in the order build gives their references (by resource id token)."""
    text = order_key(arn)
    return token_text(ids[text]) if text in ids else text
