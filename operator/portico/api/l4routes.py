"""TLSRoute, TCPRoute and UDPRoute rules (gateway.networking.k8s.io/v1, standard since v1.5/v1.6).

Their rules only name weighted backends; a TLSRoute also needs hostnames (matched against the SNI).
The route shell (parentRefs, hostnames) is the one HTTPRoute uses (routes.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from portico.api.base import Model, SectionName
from portico.api.filters import BackendObjectReference

L4_ROUTE_KINDS = ("TLSRoute", "TCPRoute", "UDPRoute")


class L4BackendRef(BackendObjectReference):
    weight: Annotated[int, Field(ge=0, le=1_000_000)] = 1


class L4RouteRule(Model):
    name: SectionName | None = None
    backend_refs: tuple[L4BackendRef, ...] = Field(min_length=1, max_length=16)


def l4_shell_problems(kind: str, hostnames: int, rules: int) -> list[tuple[str, str]]:
    """What the CRDs refuse about a whole L4 route: (field, message) pairs."""
    problems: list[tuple[str, str]] = []
    if kind == "TLSRoute" and hostnames == 0:
        problems.append(("spec.hostnames", "a TLSRoute needs at least one hostname (matched against the SNI)"))
    if kind != "TLSRoute" and hostnames:
        problems.append(("spec.hostnames", f"{kind} has no hostnames field"))
    if rules != 1:
        problems.append(("spec.rules", f"{kind} needs exactly one rule (got {rules})"))
    return problems
