"""Gateway spec.tls.frontend: client-certificate validation on HTTPS listeners, per port.

A `perPort` entry overrides `default` for every HTTPS listener on its port. The CA certificates are
ConfigMaps with a `ca.crt` key (another namespace needs a ReferenceGrant from the Gateway). Problems
go on every HTTPS listener of the affected port: ResolvedRefs=False for any bad reference, and
Accepted=False/NoValidCACertificate when none is usable, so such a port never serves unverified.
"""

from __future__ import annotations

from dataclasses import dataclass

from portico.api import Snapshot
from portico.api.gateway import FrontendTLS, FrontendTLSValidation, Gateway
from portico.ir import ClientValidation
from portico.provider import Capabilities
from portico.translate import conditions as c
from portico.translate.backend_tls import read_ca_config_map
from portico.translate.listeners import ListenerState
from portico.translate.refs import reference_permitted

FEATURE = "GatewayFrontendClientCertificateValidation"
FALLBACK = "AllowInsecureFallback"


@dataclass(frozen=True)
class PortValidation:
    where: str  # the field it comes from, e.g. spec.tls.frontend.perPort[1].tls.validation
    validation: FrontendTLSValidation


def validation_for_port(frontend: FrontendTLS, port: int) -> PortValidation | None:
    """The perPort entry for `port` if there is one (even without validation), else the default."""
    for index, entry in enumerate(frontend.per_port):
        if entry.port == port:
            where = f"spec.tls.frontend.perPort[{index}].tls.validation"
            return PortValidation(where, entry.tls.validation) if entry.tls.validation else None
    default = frontend.default.validation
    return PortValidation("spec.tls.frontend.default.validation", default) if default else None


def _ca_bundle(gateway: Gateway, found: PortValidation, snapshot: Snapshot) -> tuple[str, list[tuple[str, str]]]:
    """The PEM bundle of the usable references, and (reason, message) per unusable one."""
    bundles: list[str] = []
    problems: list[tuple[str, str]] = []
    for index, ref in enumerate(found.validation.ca_certificate_refs):
        where = f"{found.where}.caCertificateRefs[{index}]"
        namespace = ref.namespace or gateway.metadata.namespace
        if ref.group != "" or ref.kind != "ConfigMap":
            kind = f"{ref.group or 'core'}/{ref.kind}"
            problems.append(("InvalidCACertificateKind", f"{where}: kind {kind} is not supported; use a ConfigMap"))
            continue
        if not reference_permitted(
            snapshot,
            from_kind="Gateway",
            from_namespace=gateway.metadata.namespace,
            to_group="",
            to_kind="ConfigMap",
            to_namespace=namespace,
            to_name=ref.name,
        ):
            message = f"{where}: ConfigMap {namespace}/{ref.name}: no ReferenceGrant in namespace {namespace} allows it"
            problems.append(("RefNotPermitted", message))
            continue
        read = read_ca_config_map(snapshot, namespace, ref.name, where)
        if isinstance(read, str):
            bundles.append(read)
        else:
            problems.append(read)
    return "".join(bundles), problems


def apply_frontend_validation(
    gateway: Gateway, states: list[ListenerState], snapshot: Snapshot, capabilities: Capabilities, controller: str
) -> c.Condition | None:
    """Set each HTTPS listener's client validation (or its problem); the Gateway's
    InsecureFrontendValidationMode condition when some validation in force uses AllowInsecureFallback."""
    tls = gateway.spec.tls
    frontend = tls.frontend if tls is not None else None
    if frontend is None:
        return None
    https_ports = sorted({s.spec.port for s in states if s.spec is not None and s.spec.protocol == "HTTPS"})
    insecure: list[str] = []
    for port in https_ports:
        found = validation_for_port(frontend, port)
        if found is None:
            continue
        on_port = [s for s in states if s.spec is not None and s.spec.port == port and s.spec.protocol == "HTTPS"]
        if FEATURE not in capabilities.features:
            for state in on_port:
                if state.is_accepted:
                    message = f"{found.where}: client certificate validation is not supported by {controller}"
                    state.accepted = c.false("Accepted", "UnsupportedValue", message)
            continue
        bundle, problems = _ca_bundle(gateway, found, snapshot)
        for state in on_port:
            if problems and state.resolved.status is True:
                state.resolved = c.false("ResolvedRefs", problems[0][0], "; ".join(m for _, m in problems))
            if not bundle and state.is_accepted:
                message = f"{found.where}.caCertificateRefs: no entry is a valid CA certificate"
                state.accepted = c.false("Accepted", "NoValidCACertificate", message)
            elif bundle:
                state.client_validation = ClientValidation(ca_pem=bundle, mode=found.validation.mode)
        if found.validation.mode == FALLBACK and f"{found.where} (port {port})" not in insecure:
            insecure.append(f"{found.where} (port {port})")
    if not insecure:
        return None
    message = f"{', '.join(insecure)}: mode is {FALLBACK}; connections without a valid client certificate may be served"
    return c.true("InsecureFrontendValidationMode", "ConfigurationChanged", message)
