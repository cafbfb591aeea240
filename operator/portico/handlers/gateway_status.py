"""Pure edits of translated statuses with what only the provider knows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portico.handlers.status import parent_key
from portico.provider import ApplyResult


def condition(type_: str, ok: bool, reason: str, message: str, generation: int, now: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": now,
    }


def with_condition(status: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`status` with the condition of `new`'s type replaced (or appended)."""
    conditions = [dict(c) for c in status.get("conditions") or () if c.get("type") != new["type"]]
    conditions.append(dict(new))
    order = {"Accepted": 0, "Programmed": 1, "ResolvedRefs": 2}
    conditions.sort(key=lambda c: order.get(str(c.get("type")), 9))
    return {**status, "conditions": conditions}


def programmed_status(status: Mapping[str, Any], result: ApplyResult, generation: int, now: str) -> dict[str, Any]:
    """The Gateway status once the provider has applied: Programmed and addresses from the cloud."""
    if result.programmed:
        cond = condition("Programmed", True, "Programmed", result.message or "Gateway is programmed", generation, now)
    else:
        reason = result.reason or "Pending"
        cond = condition("Programmed", False, reason, result.message or "waiting for the data plane", generation, now)
    out = with_condition(status, cond)
    out["addresses"] = [{"type": kind, "value": value} for kind, value in result.addresses]
    return out


def failed_status(status: Mapping[str, Any], message: str, generation: int, now: str) -> dict[str, Any]:
    """Programmed=False with the provider's error; addresses are left as the cloud last reported."""
    cond = condition("Programmed", False, "Pending", f"provider error: {message}"[:1024], generation, now)
    return with_condition(status, cond)


def invalid_status(status: Mapping[str, Any], message: str, generation: int, now: str) -> dict[str, Any]:
    """Programmed=False, reason Invalid: the configuration cannot be delivered as it is."""
    return with_condition(status, condition("Programmed", False, "Invalid", message[:1024], generation, now))


def programmed_of(status: Mapping[str, Any] | None) -> str | None:
    for cond in (status or {}).get("conditions") or ():
        if cond.get("type") == "Programmed":
            return str(cond.get("status"))
    return None


def parents_for_gateway(
    status: Mapping[str, Any], gateway: tuple[str, str], route_namespace: str, kind: str = "Gateway"
) -> dict[str, Any]:
    """Only the route parents entries that point at `gateway` (or at a ListenerSet, with `kind`)."""
    parents: Sequence[Mapping[str, Any]] = status.get("parents") or ()
    wanted = (kind, *gateway)
    kept = [p for p in parents if parent_key(p.get("parentRef") or {}, route_namespace)[1:4] == wanted]
    return {**status, "parents": kept}
