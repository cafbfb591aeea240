"""Pure: desired Application Gateway vs what Azure holds -> at most one PUT per resource.

Application Gateway is one big resource: every change of a reconcile goes into one PUT of the
whole gateway, and none when the canonical comparison finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from portico.ir import GatewayIR, ObjectKey
from portico_providers.azure_appgw.build import APPGW, PIP, DesiredGateway
from portico_providers.azure_appgw.compare import differences, sections

Action = Literal["create", "update", "delete"]
BUSY = frozenset({"Updating", "Deleting"})


@dataclass(frozen=True)
class Observed:
    """Portico's resources for one Gateway as Azure reports them (None: not there)."""

    gateway: dict[str, Any] | None = None
    public_ip: dict[str, Any] | None = None
    key: ObjectKey = field(default_factory=lambda: ObjectKey(namespace="", name=""))  # the Gateway they belong to
    foreign: tuple[str, ...] = ()  # resources with Portico's name but without its tags
    problem: str = ""  # why nothing could be read (the operator is not configured for Azure)


def state_of(resource: dict[str, Any] | None) -> str:
    return str(((resource or {}).get("properties") or {}).get("provisioningState") or "")


@dataclass(frozen=True)
class Step:
    action: Action
    kind: str
    name: str
    fields: tuple[str, ...] = ()
    reason: str = ""

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"action": self.action, "kind": self.kind, "name": self.name}
        if self.fields:
            doc["fields"] = list(self.fields)
        if self.reason:
            doc["reason"] = self.reason
        return doc


@dataclass(frozen=True)
class AppGwPlan:
    provider: str
    gateway: ObjectKey
    ir: GatewayIR | None = None
    desired: DesiredGateway | None = None
    observed: Observed | None = None
    steps: tuple[Step, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    offline: bool = False
    deleting: bool = False
    names: dict[str, str] = field(default_factory=dict)  # kind -> Portico's resource name

    @property
    def is_empty(self) -> bool:
        return not self.steps

    def to_document(self) -> dict[str, Any]:
        counts = {a: sum(1 for s in self.steps if s.action == a) for a in ("create", "update", "delete")}
        doc: dict[str, Any] = {
            "provider": self.provider,
            "gateway": str(self.gateway),
            "mode": "offline dry run" if self.offline else "diff against the Azure subscription",
            "summary": counts,
        }
        if self.problems:
            doc["problems"] = list(self.problems)
        if self.notes:
            doc["notes"] = list(self.notes)
        doc["steps"] = [step.to_document() for step in self.steps]
        if self.desired is not None and not self.deleting:
            doc["applicationGateway"] = {"name": self.desired.name, **_shown(self.desired)}
            if self.desired.public_ip is not None:
                doc["publicIPAddress"] = self.desired.public_ip
        return doc


def _shown(desired: DesiredGateway) -> dict[str, Any]:
    """The body with each certificate upload named by its Secret (the PFX is made at apply)."""
    body = dict(desired.body)
    props = dict(body["properties"])
    certs = []
    for cert in props.get("sslCertificates", []):
        upload = desired.uploads.get(cert["name"])
        shown = dict(cert["properties"]) or {"data": f"PFX of Secret {upload.secret}" if upload else ""}
        certs.append({"name": cert["name"], "properties": shown})
    props["sslCertificates"] = certs
    body["properties"] = props
    return body


def plan_changes(desired: DesiredGateway, observed: Observed) -> list[Step]:
    steps: list[Step] = []
    if desired.public_ip is not None:
        name = desired.public_ip_id.rsplit("/", 1)[1] if desired.public_ip_id else ""
        if observed.public_ip is None:
            steps.append(Step("create", PIP, name))
        else:
            changed = sections(differences(desired.public_ip, observed.public_ip))
            if changed or state_of(observed.public_ip) == "Failed":
                steps.append(Step("update", PIP, name, tuple(changed), _why_failed(observed.public_ip)))
    if observed.gateway is None:
        steps.append(Step("create", APPGW, desired.name))
    else:
        changed = sections(differences(desired.body, observed.gateway))
        if changed or state_of(observed.gateway) == "Failed":
            steps.append(Step("update", APPGW, desired.name, tuple(changed), _why_failed(observed.gateway)))
    if desired.public_ip is None and observed.public_ip is not None:
        steps.append(Step("delete", PIP, str(observed.public_ip.get("name", "")), reason="no longer desired"))
    return steps


def _why_failed(resource: dict[str, Any] | None) -> str:
    return "provisioningState is Failed: the same PUT again is Azure's fix" if state_of(resource) == "Failed" else ""


def plan_delete(observed: Observed) -> list[Step]:
    steps = []
    if observed.gateway is not None:
        steps.append(Step("delete", APPGW, str(observed.gateway.get("name", "")), reason="Gateway deleted"))
    if observed.public_ip is not None:
        steps.append(Step("delete", PIP, str(observed.public_ip.get("name", "")), reason="Gateway deleted"))
    return steps
