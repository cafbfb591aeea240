"""The pure desired-vs-observed planner every cloud provider shares.

Desired resources come from a provider's pure `build`; observed ones from its marked-resource
reads. Both carry a typed spec of the same class, with `Ref` fields resolved against the cloud
ids already known. Steps come out in execution order: per kind in forward order, that kind's
early deletes, then updates, then creates; afterwards the late deletes in reverse kind order,
so nothing is deleted while something the plan manages still points at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from portico_providers.kit.references import dump, resolved
from portico_providers.kit.resources import Desired, KindRules, Observed, member_set

Action = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Step:
    action: Action
    kind: str
    id: str
    desired: Desired | None = None
    observed: Observed | None = None
    fields: tuple[str, ...] = ()
    reason: str = ""

    def to_document(self, id_label: str = "cloud_id") -> dict[str, Any]:
        doc: dict[str, Any] = {"action": self.action, "kind": self.kind, "id": self.id}
        if self.observed is not None:
            doc[id_label] = self.observed.cloud_id
        if self.reason:
            doc["reason"] = self.reason
        if self.fields:
            doc["fields"] = list(self.fields)
        if self.desired is not None and self.action != "delete":
            spec = dump(self.desired.spec)
            if self.action == "update":
                doc["spec"] = {k: _readable(spec.get(k)) for k in self.fields}
            else:
                doc["spec"] = _readable(spec)
        return doc


def _readable(value: Any) -> Any:
    """Plan documents leave out empty lists and maps (an update that empties a field keeps it)."""
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items() if v not in ([], {})}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


@dataclass(frozen=True)
class Diff:
    steps: tuple[Step, ...]
    ids: Mapping[str, str]  # resource id -> cloud id of the kept, existing resource


def _same_field(rules: KindRules, key: str, current: Any, wanted: Any) -> bool:
    if key in rules.ignored:
        return True
    if key in rules.members:
        return member_set(current) == member_set(wanted)
    return rules.same(current, wanted)


def _changed(rules: KindRules, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[str, ...]:
    return tuple(k for k in {**current, **wanted} if not _same_field(rules, k, current.get(k), wanted.get(k)))


def _pick_keeper(rules: KindRules, wanted: dict[str, Any], candidates: Sequence[Observed]) -> Observed:
    """Among duplicates (a create whose answer was lost), keep the one already right, else the oldest id."""
    ordered = sorted(candidates, key=lambda o: o.cloud_id)
    return next((o for o in ordered if not _changed(rules, dump(o.spec), wanted)), ordered[0])


def diff(desired: Sequence[Desired], observed: Sequence[Observed], kinds: Sequence[KindRules]) -> Diff:
    ids: dict[str, str] = {}
    early: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    updates: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    creates: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    late: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    for rules in kinds:
        wanted = [d for d in desired if d.kind == rules.kind]
        found: dict[str, list[Observed]] = {}
        for o in observed:
            if o.kind == rules.kind and not o.failed:
                found.setdefault(o.id, []).append(o)
        # A resource the cloud failed to create is never adopted: it goes first, and the desired
        # one is created anew (some clouds refuse a second one while the failed one exists).
        early[rules.kind].extend(
            Step("delete", rules.kind, o.id, observed=o, reason=f"replace: the cloud reports {o.failed}")
            for o in sorted(observed, key=lambda o: (o.id, o.cloud_id))
            if o.kind == rules.kind and o.failed
        )
        deletes = early[rules.kind] if rules.delete_early else late[rules.kind]
        wanted_ids = {d.id for d in wanted}
        for rid in sorted(set(found) - wanted_ids):
            deletes.extend(
                Step("delete", rules.kind, rid, observed=o, reason="no longer desired")
                for o in sorted(found[rid], key=lambda o: o.cloud_id)
            )
        for want in wanted:
            candidates = found.get(want.id, [])
            if not candidates:
                creates[rules.kind].append(Step("create", rules.kind, want.id, desired=want))
                continue
            target, _ = resolved(want.spec, ids)
            keeper = _pick_keeper(rules, target, candidates)
            deletes.extend(
                Step("delete", rules.kind, want.id, observed=o, reason="duplicate")
                for o in candidates
                if o is not keeper
            )
            changed = _changed(rules, dump(keeper.spec), target)
            forced = [k for k in changed if k in rules.immutable]
            if forced:
                reason = f"replace: {', '.join(forced)} cannot change in place"
                replaced = Step("delete", rules.kind, want.id, observed=keeper, reason=reason)
                # A name that is the identity is free again only once the old resource is gone.
                (early[rules.kind] if rules.reuses_name else deletes).append(replaced)
                creates[rules.kind].append(Step("create", rules.kind, want.id, desired=want, reason=reason))
                continue
            ids[want.id] = keeper.cloud_id
            if changed:
                updates[rules.kind].append(
                    Step("update", rules.kind, want.id, desired=want, observed=keeper, fields=changed)
                )
    steps: list[Step] = []
    for rules in kinds:
        steps += early[rules.kind] + updates[rules.kind] + creates[rules.kind]
    for rules in reversed(kinds):
        steps += late[rules.kind]
    return Diff(steps=tuple(steps), ids=ids)
