"""Pure: desired resources vs what Compute holds -> ordered steps.

Compute answers GET with every field, defaults included, and full URLs for references, so a
desired body is compared as a subset of the observed one, with URLs made relative. Steps come
in dependency order: per kind (addresses first, forwarding rules last) its updates and
creates; then every delete in reverse kind order, so nothing is deleted while something
still refers to it (and a replaced certificate is deleted only after the proxy switched).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from portico_providers.gcp_alb.model import COLLECTIONS, INSTANCE_GROUP, KINDS, NEG, Desired, NetworkEndpoint

API_ROOT = "https://www.googleapis.com/compute/v1/"
# Compute answers the forwarding rule's IPAddress as the IP itself even when given the address URL.
NOT_COMPARED = frozenset({"IPAddress"})


@dataclass(frozen=True)
class Observed:
    kind: str
    id: str
    scope: str
    body: Mapping[str, Any]
    endpoints: tuple[NetworkEndpoint, ...] = ()
    instances: tuple[str, ...] = ()  # an instance group's members (relative instance URLs)


Action = Literal["create", "update", "delete", "attach", "detach"]


@dataclass(frozen=True)
class Step:
    action: Action
    kind: str
    id: str
    scope: str
    desired: Desired | None = None
    observed: Observed | None = None
    fields: tuple[str, ...] = ()
    endpoints: tuple[NetworkEndpoint, ...] = ()
    instances: tuple[str, ...] = ()
    reason: str = ""

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"action": self.action, "kind": self.kind, "id": self.id, "scope": self.scope}
        if self.reason:
            doc["reason"] = self.reason
        if self.fields:
            doc["fields"] = list(self.fields)
        if self.desired is not None and self.action == "create":
            doc["body"] = self.desired.body.dump()
        elif self.desired is not None and self.action == "update":
            body = self.desired.body.dump()
            doc["body"] = {k: body.get(k) for k in self.fields}
        if self.endpoints:
            doc["endpoints"] = [e.dump() for e in self.endpoints]
        if self.instances:
            doc["instances"] = list(self.instances)
        return doc


def relative(value: Any) -> Any:
    if isinstance(value, str):
        return value.removeprefix(API_ROOT)
    if isinstance(value, Mapping):
        return {k: relative(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [relative(v) for v in value]
    return value


def covered(desired: Any, observed: Any) -> bool:
    """Whether `observed` holds everything `desired` says (extra observed fields are defaults)."""
    if isinstance(desired, Mapping):
        return isinstance(observed, Mapping) and all(covered(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(observed, list)
            and len(desired) == len(observed)
            and all(covered(d, o) for d, o in zip(desired, observed, strict=True))
        )
    if isinstance(desired, int) and not isinstance(desired, bool) and isinstance(observed, str):
        return observed.lstrip("-").isdigit() and int(observed) == desired  # JSON carries int64 as a string
    if isinstance(desired, float) or isinstance(observed, float):
        return isinstance(observed, int | float) and abs(float(desired) - float(observed)) < 1e-9
    return bool(desired == observed)


def changed_fields(desired: Desired, observed: Observed) -> tuple[str, ...]:
    want = desired.body.dump()
    have = relative(dict(observed.body))
    return tuple(k for k in want if k not in NOT_COMPARED and not covered(want[k], have.get(k)))


# Fields each kind can change in place (anything else replaces the resource).
MUTABLE: Mapping[str, frozenset[str]] = {
    "urlMap": frozenset({"defaultRouteAction", "hostRules", "pathMatchers", "description"}),
    "backendService": frozenset({"backends", "healthChecks", "timeoutSec", "protocol", "description"}),
    "healthCheck": frozenset(
        {
            "description",
            "httpHealthCheck",
            "httpsHealthCheck",
            "http2HealthCheck",
            "grpcHealthCheck",
            "checkIntervalSec",
            "timeoutSec",
            "healthyThreshold",
            "unhealthyThreshold",
        }
    ),
    "targetHttpProxy": frozenset({"urlMap"}),
    "targetHttpsProxy": frozenset({"urlMap", "sslCertificates"}),
    "forwardingRule": frozenset({"target"}),
    "instanceGroup": frozenset({"namedPorts"}),
}


@dataclass(frozen=True)
class Diff:
    steps: tuple[Step, ...]
    conflicts: tuple[str, ...] = field(default_factory=tuple)


def diff(
    desired: Sequence[Desired], observed: Sequence[Observed], foreign: Sequence[tuple[str, str, str]] = ()
) -> Diff:
    """`foreign`: (kind, scope, name suffix id) of resources holding a wanted name without our marker."""
    taken = set(foreign)
    creates: dict[str, list[Step]] = {k: [] for k in KINDS}
    updates: dict[str, list[Step]] = {k: [] for k in KINDS}
    deletes: dict[str, list[Step]] = {k: [] for k in KINDS}
    conflicts: list[str] = []
    found = {(o.kind, o.scope, o.id): o for o in observed}
    wanted = {(d.kind, d.scope, d.id) for d in desired}
    for key, extra in sorted(found.items()):
        if key not in wanted:
            deletes[extra.kind].append(
                Step("delete", extra.kind, extra.id, extra.scope, observed=extra, reason="no longer desired")
            )
    for want in desired:
        key = (want.kind, want.scope, want.id)
        have = found.get(key)
        if have is None:
            if key in taken:
                conflicts.append(
                    f"{COLLECTIONS[want.kind]} {want.body.dump()['name']} in {want.scope} exists but is not Portico's "
                    "(no ownership marker in its description): left alone, this Gateway cannot be programmed"
                )
                continue
            creates[want.kind].append(Step("create", want.kind, want.id, want.scope, desired=want))
            if want.kind == NEG and want.endpoints:
                updates[want.kind].append(
                    Step("attach", NEG, want.id, want.scope, desired=want, endpoints=want.endpoints)
                )
            if want.kind == INSTANCE_GROUP and want.instances:
                updates[want.kind].append(
                    Step("attach", INSTANCE_GROUP, want.id, want.scope, desired=want, instances=want.instances)
                )
            continue
        changed = changed_fields(want, have)
        forced = [k for k in changed if k not in MUTABLE.get(want.kind, frozenset())]
        if forced:
            reason = f"replace: {', '.join(forced)} cannot change in place"
            deletes[want.kind].insert(0, Step("delete", want.kind, want.id, want.scope, observed=have, reason=reason))
            creates[want.kind].append(Step("create", want.kind, want.id, want.scope, desired=want, reason=reason))
        elif changed:
            updates[want.kind].append(
                Step("update", want.kind, want.id, want.scope, desired=want, observed=have, fields=changed)
            )
        if want.kind == NEG and not forced:
            gone = tuple(e for e in have.endpoints if e not in want.endpoints)
            new = tuple(e for e in want.endpoints if e not in have.endpoints)
            if gone:
                updates[NEG].append(Step("detach", NEG, want.id, want.scope, observed=have, endpoints=gone))
            if new:
                updates[NEG].append(Step("attach", NEG, want.id, want.scope, desired=want, endpoints=new))
        if want.kind == INSTANCE_GROUP and not forced:
            left = tuple(i for i in have.instances if i not in want.instances)
            joined = tuple(i for i in want.instances if i not in have.instances)
            if left:
                updates[want.kind].append(Step("detach", want.kind, want.id, want.scope, observed=have, instances=left))
            if joined:
                updates[want.kind].append(
                    Step("attach", want.kind, want.id, want.scope, desired=want, instances=joined)
                )
    steps: list[Step] = []
    for kind in KINDS:
        replaced = [s for s in deletes[kind] if s.reason.startswith("replace")]
        steps += replaced + list(creates[kind]) + [s for s in updates[kind] if s.action != "attach"]
        steps += [s for s in updates[kind] if s.action == "attach"]
        deletes[kind] = [s for s in deletes[kind] if s not in replaced]
    for kind in reversed(KINDS):
        steps += deletes[kind]
    return Diff(tuple(steps), tuple(conflicts))
