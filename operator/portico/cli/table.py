"""`portico status -o wide`: one row per object, like `kubectl get -o wide`, and the `--strict` verdict."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# Conditions where True is the bad news (Gateway API "negative polarity").
NEGATIVE_POLARITY = {"Conflicted", "OverlappingTLSConfig", "PartiallyInvalid"}
COLUMNS = ("KIND", "NAME", "ACCEPTED", "PROGRAMMED", "ROUTES", "REASON", "MESSAGE")


def _display_name(item: Mapping[str, Any]) -> str:
    meta = item["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def _conditions(item: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, condition) for every condition in the item's status, object first."""
    status = item.get("status") or {}
    for cond in status.get("conditions") or []:
        yield "", cond
    for listener in status.get("listeners") or []:
        for cond in listener.get("conditions") or []:
            yield f"listener {listener.get('name')}: ", cond
    for parent in status.get("parents") or []:
        ref = parent.get("parentRef") or {}
        section = f".{ref['sectionName']}" if ref.get("sectionName") else ""
        for cond in parent.get("conditions") or []:
            namespace = f"{ref['namespace']}/" if ref.get("namespace") else ""
            yield f"parent {namespace}{ref.get('name')}{section}: ", cond
    for ancestor in status.get("ancestors") or []:
        ref = ancestor.get("ancestorRef") or {}
        for cond in ancestor.get("conditions") or []:
            yield f"ancestor {ref.get('namespace')}/{ref.get('name')}: ", cond


def is_bad(cond: Mapping[str, Any]) -> bool:
    bad_value = "True" if cond.get("type") in NEGATIVE_POLARITY else "False"
    return cond.get("status") == bad_value


def _summary(item: Mapping[str, Any], kind: str) -> str:
    """A condition's value for the whole object: its own, or all parents' agreed value."""
    values = {str(cond.get("status")) for _, cond in _conditions(item) if cond.get("type") == kind}
    if not values:
        return "-"
    return "False" if "False" in values else ("Unknown" if "Unknown" in values else "True")


def _row(item: Mapping[str, Any]) -> tuple[str, ...]:
    status = item.get("status") or {}
    listeners = status.get("listeners")
    routes = str(sum(int(lst.get("attachedRoutes", 0)) for lst in listeners)) if listeners is not None else "-"
    first_bad = next(((where, cond) for where, cond in _conditions(item) if is_bad(cond)), None)
    reason = str(first_bad[1].get("reason", "")) if first_bad else ""
    message = f"{first_bad[0]}{first_bad[1].get('message', '')}" if first_bad else ""
    programmed = _summary(item, "Programmed")
    return (str(item["kind"]), _display_name(item), _summary(item, "Accepted"), programmed, routes, reason, message)


def render_table(items: Sequence[Mapping[str, Any]]) -> str:
    rows = [COLUMNS, *(_row(item) for item in items)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["   ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def false_conditions(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """`Kind ns/name: where Type=Status Reason: message` for every condition that reports a problem."""
    out = []
    for item in items:
        for where, cond in _conditions(item):
            if is_bad(cond):
                out.append(
                    f"{item['kind']} {_display_name(item)}: {where}{cond.get('type')}={cond.get('status')} "
                    f"{cond.get('reason')}: {cond.get('message', '')}"
                )
    return out
