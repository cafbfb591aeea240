"""The desired-vs-observed planner both AWS providers share.

Desired resources come from a pure `build`; observed ones from tag-filtered describe calls.
Both carry a typed spec of the same class. Cross-references are tokens `${resource-id}`,
resolved to ARNs from what already exists (plan) or what was just created (apply).

`diff` is pure and yields steps in execution order: per kind in forward order, that kind's
early deletes, then updates, then creates; afterwards the late deletes in reverse kind order,
so nothing is deleted while something Portico manages still points at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

TOKEN = re.compile(r"^\$\{(?P<id>[^}]+)\}$")


class Spec(BaseModel):
    """Base of every typed resource spec: frozen, no unknown fields, YAML-friendly."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def ref(resource_id: str) -> str:
    """A token that apply replaces with the ARN (or id) of `resource_id`."""
    return "${" + resource_id + "}"


def token_id(value: str) -> str | None:
    match = TOKEN.match(value)
    return match.group("id") if match else None


def resolve(value: Any, arns: Mapping[str, str]) -> Any:
    """Replace every token whose resource is known; unknown tokens stay (and compare unequal)."""
    if isinstance(value, str):
        rid = token_id(value)
        return arns.get(rid, value) if rid else value
    if isinstance(value, dict):
        return {k: resolve(v, arns) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, arns) for v in value]
    return value


def unresolved(value: Any) -> list[str]:
    """Tokens still present after resolution (their resources do not exist yet)."""
    if isinstance(value, str):
        rid = token_id(value)
        return [rid] if rid else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in unresolved(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in unresolved(v)]
    return []


def dump(spec: BaseModel) -> dict[str, Any]:
    """Canonical comparable form: JSON types, tuples as lists, unset (None) fields left out."""
    return resolve(spec.model_dump(mode="json", exclude_none=True), {})  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Desired:
    kind: str
    id: str
    spec: Spec
    secret: Any = field(default=None, repr=False, compare=False)  # never shown in documents


@dataclass(frozen=True)
class Observed:
    kind: str
    id: str
    arn: str
    spec: Spec
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KindRules:
    """How one resource kind is planned: its place in the forward order, what forces a replace."""

    kind: str
    immutable: frozenset[str] = frozenset()
    delete_early: bool = False


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

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"action": self.action, "kind": self.kind, "id": self.id}
        if self.observed is not None:
            doc["arn"] = self.observed.arn
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
    arns: Mapping[str, str]  # resource id -> ARN of the kept, existing resource


def _pick_keeper(resolved: dict[str, Any], candidates: Sequence[Observed]) -> Observed:
    """Among duplicates (a create whose answer was lost), keep the one already right, else the oldest ARN."""
    ordered = sorted(candidates, key=lambda o: o.arn)
    return next((o for o in ordered if dump(o.spec) == resolved), ordered[0])


def diff(desired: Sequence[Desired], observed: Sequence[Observed], kinds: Sequence[KindRules]) -> Diff:
    arns: dict[str, str] = {}
    early: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    updates: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    creates: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    late: dict[str, list[Step]] = {k.kind: [] for k in kinds}
    for rules in kinds:
        wanted = [d for d in desired if d.kind == rules.kind]
        found: dict[str, list[Observed]] = {}
        for o in observed:
            if o.kind == rules.kind:
                found.setdefault(o.id, []).append(o)
        deletes = early[rules.kind] if rules.delete_early else late[rules.kind]
        wanted_ids = {d.id for d in wanted}
        for rid in sorted(set(found) - wanted_ids):
            deletes.extend(
                Step("delete", rules.kind, rid, observed=o, reason="no longer desired")
                for o in sorted(found[rid], key=lambda o: o.arn)
            )
        for want in wanted:
            candidates = found.get(want.id, [])
            if not candidates:
                creates[rules.kind].append(Step("create", rules.kind, want.id, desired=want))
                continue
            resolved = resolve(dump(want.spec), arns)
            keeper = _pick_keeper(resolved, candidates)
            deletes.extend(
                Step("delete", rules.kind, want.id, observed=o, reason="duplicate")
                for o in candidates
                if o is not keeper
            )
            current = dump(keeper.spec)
            changed = tuple(k for k in {**current, **resolved} if resolved.get(k) != current.get(k))
            forced = [k for k in changed if k in rules.immutable]
            if forced:
                reason = f"replace: {', '.join(forced)} cannot change in place"
                creates[rules.kind].append(Step("create", rules.kind, want.id, desired=want, reason=reason))
                deletes.append(Step("delete", rules.kind, want.id, observed=keeper, reason=reason))
                continue
            arns[want.id] = keeper.arn
            if changed:
                updates[rules.kind].append(
                    Step("update", rules.kind, want.id, desired=want, observed=keeper, fields=changed)
                )
    steps: list[Step] = []
    for rules in kinds:
        steps += early[rules.kind] + updates[rules.kind] + creates[rules.kind]
    for rules in reversed(kinds):
        steps += late[rules.kind]
    return Diff(steps=tuple(steps), arns=arns)
