"""Pure status merging: what Portico writes, given what is there and what translate computed.

Kept free of I/O so every rule (keep other controllers' route parents, keep a condition's
lastTransitionTime unless its status flips, drop parents a route no longer references) is
unit-tested on plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

GATEWAY_GROUP = "gateway.networking.k8s.io"

ParentKey = tuple[str, str, str, str, str, int | None]


def parent_key(ref: Mapping[str, Any], route_namespace: str) -> ParentKey:
    """A parentRef with the spec's defaults filled in, so equal references compare equal."""
    port = ref.get("port")
    return (
        str(ref.get("group", GATEWAY_GROUP) if ref.get("group") is not None else GATEWAY_GROUP),
        str(ref.get("kind") or "Gateway"),
        str(ref.get("namespace") or route_namespace),
        str(ref.get("name", "")),
        str(ref.get("sectionName") or ""),
        int(port) if isinstance(port, int) else None,
    )


def carry_conditions(old: Sequence[Mapping[str, Any]] | None, new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """New conditions, keeping the old lastTransitionTime of each type whose status did not flip."""
    previous = {c.get("type"): c for c in old or () if isinstance(c, Mapping)}
    out: list[dict[str, Any]] = []
    for condition in new:
        merged = dict(condition)
        before = previous.get(condition.get("type"))
        if before is not None and before.get("status") == condition.get("status") and before.get("lastTransitionTime"):
            merged["lastTransitionTime"] = before["lastTransitionTime"]
        out.append(merged)
    return out


def _by(items: Iterable[Any], key: str) -> dict[Any, Mapping[str, Any]]:
    return {item.get(key): item for item in items if isinstance(item, Mapping)}


def _carry_entry(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(new)
    if "conditions" in new:
        merged["conditions"] = carry_conditions((old or {}).get("conditions"), new["conditions"])
    return merged


def merge_owned_status(existing: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> dict[str, Any]:
    """GatewayClass and Gateway: Portico owns the whole status; only timestamps carry over."""
    existing = existing or {}
    merged = dict(desired)
    if "conditions" in desired:
        merged["conditions"] = carry_conditions(existing.get("conditions"), desired["conditions"])
    if "listeners" in desired:
        old_listeners = _by(existing.get("listeners") or (), "name")
        merged["listeners"] = [_carry_entry(old_listeners.get(item.get("name")), item) for item in desired["listeners"]]
    return merged


def merge_route_status(
    existing: Mapping[str, Any] | None,
    desired: Mapping[str, Any],
    *,
    controller_prefix: str,
    route_namespace: str,
    spec_parent_refs: Sequence[Mapping[str, Any]],
    covers: tuple[str, str] | None = None,
    covers_kind: str = "Gateway",
) -> dict[str, Any]:
    """Routes: replace our entries for the parents in `desired`, keep everyone else's.

    Ours are the entries whose controllerName starts with `controller_prefix` (every Portico
    provider's controller). Entries of other controllers stay untouched. `covers` is the Gateway
    (namespace, name) whose worker wrote `desired` (a ListenerSet, with `covers_kind`, when the
    parent Gateway's worker writes a ListenerSet's entries): all our entries for it are exactly those in
    `desired`, so a Gateway that is gone, moved to another controller or no longer attached
    leaves nothing behind. Our entries for other parents not in `desired` stay while the route
    still references that parent (another Gateway's worker owns them) and go once it does not.
    """
    existing = existing or {}
    wanted = {parent_key(p.get("parentRef") or {}, route_namespace): p for p in desired.get("parents") or ()}
    referenced = {parent_key(ref, route_namespace) for ref in spec_parent_refs if isinstance(ref, Mapping)}
    parents: list[dict[str, Any]] = []
    placed: set[ParentKey] = set()
    for entry in existing.get("parents") or ():
        if not isinstance(entry, Mapping):
            continue
        key = parent_key(entry.get("parentRef") or {}, route_namespace)
        if not str(entry.get("controllerName", "")).startswith(controller_prefix):
            parents.append(dict(entry))
        elif key in wanted and key not in placed:
            parents.append(_carry_entry(entry, wanted[key]))
            placed.add(key)
        elif key in referenced and key not in wanted and (covers is None or key[1:4] != (covers_kind, *covers)):
            parents.append(dict(entry))
    parents.extend(dict(entry) for key, entry in wanted.items() if key not in placed)
    merged = {k: v for k, v in existing.items() if k != "parents"}
    if parents or "parents" in existing:  # no empty list where there was nothing: that is no change
        merged["parents"] = parents
    return merged


def merge_policy_status(
    existing: Mapping[str, Any] | None, desired: Mapping[str, Any], *, controller_prefix: str, covers: tuple[str, str]
) -> dict[str, Any]:
    """Policies (status.ancestors): the Gateway `covers` owns exactly our entry for it in `desired`
    (none when absent); entries of other Gateways and of other controllers stay."""
    existing = existing or {}
    desired_entries = [dict(a) for a in desired.get("ancestors") or () if isinstance(a, Mapping)]
    by_gateway = {_ancestor_gateway(a): a for a in desired_entries}
    ancestors: list[dict[str, Any]] = []
    for entry in existing.get("ancestors") or ():
        if not isinstance(entry, Mapping):
            continue
        gateway = _ancestor_gateway(entry)
        ours = str(entry.get("controllerName", "")).startswith(controller_prefix)
        if not ours or gateway != covers:
            ancestors.append(dict(entry))
        elif gateway in by_gateway:
            ancestors.append(_carry_entry(entry, by_gateway.pop(gateway)))
    ancestors.extend(by_gateway.values())
    merged = {k: v for k, v in existing.items() if k != "ancestors"}
    if ancestors or "ancestors" in existing:
        merged["ancestors"] = ancestors[:16]  # the CRD's limit
    return merged


def _ancestor_gateway(entry: Mapping[str, Any]) -> tuple[str, str]:
    ref = entry.get("ancestorRef") or {}
    return (str(ref.get("namespace") or ""), str(ref.get("name") or ""))


def released_gateway_status(existing: Mapping[str, Any] | None, generation: int) -> dict[str, Any]:
    """A Gateway Portico no longer manages: without our conditions, listeners and addresses.

    What Portico wrote describes a generation before the one that moved the Gateway away; a
    status whose conditions all describe an older generation is ours and goes. Once a condition
    describes the current generation, the new controller has written: its status stays."""
    existing = existing or {}
    conditions = [c for c in existing.get("conditions") or () if isinstance(c, Mapping)]
    if any(int(c.get("observedGeneration") or 0) >= generation for c in conditions):
        return dict(existing)
    return {k: v for k, v in existing.items() if k not in ("conditions", "listeners", "addresses")}


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7386) that turns `old` into `new`; empty when they are equal."""
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if key in old and before == value:
            continue
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            patch[key] = merge_patch(before, value)
        else:
            patch[key] = value
    return patch
