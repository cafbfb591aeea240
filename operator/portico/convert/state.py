"""The converter's working state, shared by its steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portico.convert.hosts import Host
from portico.convert.model import Ingress, Inputs
from portico.convert.report import Finding, Outcome
from portico.convert.routes import Routes
from portico.translate import DEFAULT_CAPABILITIES


@dataclass(frozen=True)
class Options:
    ingress_classes: tuple[str, ...] = ("nginx",)
    gateway_class: str = "portico"
    controller: str = "portico.dev/proxy"
    gateway: str = "ingress-nginx"
    gateway_namespace: str = "default"
    # What the target can express (from the provider's capabilities): the converter leaves out,
    # and reports, what it cannot, instead of emitting rules the target would reject.
    features: frozenset[str] = DEFAULT_CAPABILITIES.features
    listener_protocols: frozenset[str] = frozenset({"HTTP", "HTTPS"})
    # ingress-nginx's --default-ssl-certificate (namespace, name): used where spec.tls names no Secret.
    default_certificate: tuple[str, str] | None = None


@dataclass
class State:
    inputs: Inputs
    options: Options
    hosts: dict[str, Host]
    routes: Routes = field(default_factory=Routes)
    findings: list[Finding] = field(default_factory=list)
    policies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    redirect_code: int = 308
    ssl_redirect_default: bool = True
    force_redirect_default: bool = False
    snippets_allowed: bool = False

    def note(self, ing: Ingress | str, subject: str, outcome: Outcome, message: str) -> None:
        key = ing if isinstance(ing, str) else ing.key
        self.findings.append(Finding(key, subject, outcome, message))

    def redirects(self, ing: Ingress, host: Host) -> bool:
        """ingress-nginx redirects HTTP to HTTPS when forced, or when the host has a certificate and
        ssl-redirect (default true, from the controller ConfigMap) is on."""
        if ing.flag("force-ssl-redirect", self.force_redirect_default):
            return True
        return host.tls is not None and ing.flag("ssl-redirect", self.ssl_redirect_default)
