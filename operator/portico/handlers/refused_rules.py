"""Route rules the cloud refused while the rest of their Gateway was programmed: pure status edits.

A provider reports them by IR rule id (`ApplyResult.refused_rules`). Each becomes a dropped rule
on its route's entry for that Gateway, the way translation reports a rule the provider's own
limits reject: `PartiallyInvalid` with the cloud's reason, or `Accepted=False` when no rule of
the route is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portico.handlers.gateway_status import condition, with_condition
from portico.handlers.status import parent_key
from portico.ir import GatewayIR

RouteKey = tuple[str, str, str]  # (kind, namespace, name), as the store keys objects


def by_route(ir: GatewayIR, refused: Mapping[str, str]) -> dict[RouteKey, dict[int, str]]:
    """{route: {rule index: the cloud's reason}} for the refused IR rules still in `ir`."""
    out: dict[RouteKey, dict[int, str]] = {}
    for listener in ir.listeners:
        for rule in listener.rules:
            reason = refused.get(rule.id)
            if reason is not None:
                key = (rule.route_kind.value, rule.route.namespace, rule.route.name)
                out.setdefault(key, {}).setdefault(rule.rule_index, reason)
    return out


def with_refused_rules(
    status: Mapping[str, Any],
    gateway: tuple[str, str],
    route_namespace: str,
    refused: Mapping[int, str],
    rule_count: int,
    now: str,
) -> dict[str, Any]:
    """The route's status with `refused` (rule index -> reason) reported on its entry for `gateway`."""
    parents = []
    for entry in status.get("parents") or ():
        if parent_key(entry.get("parentRef") or {}, route_namespace)[2:4] != gateway:
            parents.append(entry)
            continue
        conditions = {c.get("type"): c for c in entry.get("conditions") or ()}
        accepted = conditions.get("Accepted") or {}
        if accepted.get("status") != "True":
            parents.append(entry)
            continue
        generation = int(accepted.get("observedGeneration") or 0)
        earlier = conditions.get("PartiallyInvalid") or {}
        # Rules translation already dropped stay named next to the refused ones.
        dropped = str(earlier.get("message") or "").removeprefix("Dropped Rule(s): ")
        ours = [f"spec.rules[{i}]: refused by the cloud: {reason}" for i, reason in sorted(refused.items())]
        text = "; ".join([dropped, *ours] if dropped and earlier.get("status") == "True" else ours)
        if rule_count and len(refused) >= rule_count:
            new = condition("Accepted", False, "UnsupportedValue", f"no rule can be served: {text}", generation, now)
        else:
            new = condition("PartiallyInvalid", True, "UnsupportedValue", f"Dropped Rule(s): {text}", generation, now)
        parents.append(with_condition(entry, {**new, "message": new["message"][:32768]}))
    return {**status, "parents": parents}
