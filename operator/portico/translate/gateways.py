"""GatewayClass and Gateway acceptance (before routes are looked at)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portico.api import Snapshot
from portico.api.base import HOSTNAME_PATTERN, ObjectMeta
from portico.api.gateway import Gateway, GatewayClass, GatewaySpecShell, parse_listeners
from portico.api.snapshot import PARAMETERS_KIND, PORTICO_GROUP, Unreadable
from portico.ir import Certificate
from portico.provider import Capabilities, provider_name_for
from portico.translate import conditions as c
from portico.translate.features import ALL_FEATURES
from portico.translate.frontend_tls import apply_frontend_validation
from portico.translate.listeners import ListenerState, evaluate_listeners
from portico.translate.refs import resolve_certificate

DEFAULT_CAPABILITIES = Capabilities(
    features=ALL_FEATURES,
    route_kinds=frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"}),
    listener_protocols=frozenset({"HTTP", "HTTPS", "TLS", "TCP", "UDP"}),
)
CLIENT_CERTIFICATE_FIELD = "spec.tls.backend.clientCertificateRef"


@dataclass
class ClassState:
    resource: GatewayClass
    capabilities: Capabilities | None
    accepted: c.Condition
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def controller(self) -> str:
        return self.resource.spec.controller_name


@dataclass
class GatewayState:
    resource: Gateway
    gateway_class: ClassState
    accepted: c.Condition
    listeners: list[ListenerState] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    client_certificate: Certificate | None = None
    client_certificate_problem: c.Condition | None = None
    insecure_frontend: c.Condition | None = None  # InsecureFrontendValidationMode, while in force

    @property
    def is_accepted(self) -> bool:
        return self.accepted.status is True


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def evaluate_class(
    gc: GatewayClass,
    snapshot: Snapshot,
    capabilities: Mapping[str, Capabilities] | None,
    unavailable: Mapping[str, str],
) -> ClassState:
    controller = gc.spec.controller_name
    if controller in unavailable:
        return ClassState(gc, None, c.false("Accepted", "InvalidParameters", unavailable[controller]))
    caps = DEFAULT_CAPABILITIES if capabilities is None else capabilities.get(controller)
    if caps is None:
        return ClassState(
            gc, None, c.false("Accepted", "Unsupported", f"no Portico provider is installed for {controller}")
        )
    ref = gc.spec.parameters_ref
    if ref is None:
        return ClassState(gc, caps, c.true("Accepted", message="GatewayClass is accepted"))

    def invalid(message: str) -> ClassState:
        return ClassState(gc, caps, c.false("Accepted", "InvalidParameters", f"spec.parametersRef: {message}"))

    if ref.group != PORTICO_GROUP or ref.kind != PARAMETERS_KIND:
        return invalid(f"kind {ref.group}/{ref.kind} is not supported; use {PORTICO_GROUP}/{PARAMETERS_KIND}")
    if not ref.namespace:
        return invalid("namespace is required: GatewayParameters is namespaced")
    params = snapshot.parameters.get((ref.namespace, ref.name))
    if params is None:
        bad = snapshot.unreadable_parameters(ref.namespace, ref.name)
        if bad is not None:
            return invalid(f"GatewayParameters {ref.namespace}/{ref.name} is invalid: {bad.message}")
        return invalid(f"GatewayParameters {ref.namespace}/{ref.name} not found")
    return ClassState(gc, caps, c.true("Accepted", message="GatewayClass is accepted"), dict(params.spec))


def _address_problem(address_type: str, value: str) -> str | None:
    if address_type == "IPAddress":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not an IP address"
        return None
    if address_type == "Hostname":
        return None if re.match(HOSTNAME_PATTERN, value) else f"{value!r} is not a hostname"
    return f"address type {address_type} is not supported"


def _rejection(gw: Gateway, cls: ClassState, snapshot: Snapshot) -> tuple[c.Condition | None, dict[str, Any]]:
    """Why the Gateway as a whole cannot be accepted (None if it can), and its merged parameters."""
    caps = cls.capabilities
    if caps is None or cls.accepted.status is not True:
        message = f"GatewayClass {cls.resource.metadata.name} is not accepted: {cls.accepted.message}"
        return c.false("Accepted", "Invalid", message), {}
    parameters = dict(cls.parameters)
    infra = gw.spec.infrastructure
    if infra is not None and infra.parameters_ref is not None:
        ref = infra.parameters_ref
        found = snapshot.parameters.get((gw.metadata.namespace, ref.name))
        bad = snapshot.unreadable_parameters(gw.metadata.namespace, ref.name)
        if ref.group != PORTICO_GROUP or ref.kind != PARAMETERS_KIND or found is None:
            why = "is not supported" if found is not None else f"is invalid: {bad.message}" if bad else "not found"
            message = f"spec.infrastructure.parametersRef: {ref.group}/{ref.kind} {ref.name} {why}"
            return c.false("Accepted", "InvalidParameters", message), parameters
        parameters = deep_merge(parameters, found.spec)
    problems = caps.check_parameters(parameters) if caps.check_parameters is not None else ()
    if problems:
        return c.false("Accepted", "InvalidParameters", "GatewayParameters: " + "; ".join(problems)), parameters
    for index, address in enumerate(gw.spec.addresses):
        where = f"spec.addresses[{index}]"
        if "GatewayStaticAddresses" not in caps.features:
            message = f"{where}: provider {provider_name_for(cls.controller)} does not support static addresses"
            return c.false("Accepted", "UnsupportedAddress", message), parameters
        if address.type not in caps.address_types:
            supported = ", ".join(sorted(caps.address_types))
            message = (
                f"{where}.type: {address.type} is not supported by provider {provider_name_for(cls.controller)}"
                f" (supported: {supported})"
            )
            return c.false("Accepted", "UnsupportedAddress", message), parameters
        problem = _address_problem(address.type, address.value) if address.value else None
        if problem:
            return c.false("Accepted", "UnsupportedAddress", f"{where}: {problem}"), parameters
    return None, parameters


def evaluate_gateway(gw: Gateway, cls: ClassState, snapshot: Snapshot) -> GatewayState:
    rejection, parameters = _rejection(gw, cls, snapshot)
    # Listeners are evaluated even for a rejected Gateway: status.listeners lists every one of them.
    states = evaluate_listeners(gw, snapshot, cls.capabilities or DEFAULT_CAPABILITIES)
    insecure = apply_frontend_validation(gw, states, snapshot, cls.capabilities or DEFAULT_CAPABILITIES, cls.controller)
    if rejection is not None:
        for state in states:
            state.gateway_problem = f"Gateway is not accepted: {rejection.message}"
        return GatewayState(gw, cls, rejection, states, parameters)
    valid = [s for s in states if s.is_accepted]
    invalid = [s for s in states if not s.is_accepted]
    if not valid:
        accepted = c.false(
            "Accepted",
            "ListenersNotValid",
            f"no valid listener: {', '.join(s.name for s in invalid)} rejected",
        )
    elif invalid:
        accepted = c.true(
            "Accepted",
            "ListenersNotValid",
            f"listeners {', '.join(s.name for s in invalid)} are not valid; "
            f"{', '.join(s.name for s in valid)} accepted",
        )
    else:
        accepted = c.true("Accepted", message="Gateway is accepted")
    result = GatewayState(gw, cls, accepted, states, parameters, insecure_frontend=insecure)
    _resolve_client_certificate(result, snapshot)
    return result


def _resolve_client_certificate(state: GatewayState, snapshot: Snapshot) -> None:
    """spec.tls.backend.clientCertificateRef: a problem sets ResolvedRefs only (not Accepted/Programmed)."""
    tls = state.resource.spec.tls
    ref = tls.backend.client_certificate_ref if tls and tls.backend else None
    if ref is None:
        return
    result = resolve_certificate(
        snapshot,
        state.resource.metadata.namespace,
        ref,
        None,
        field=CLIENT_CERTIFICATE_FIELD,
        invalid_reason="InvalidClientCertificateRef",
    )
    if result.certificate is None:
        message = result.message
        if not message.startswith(CLIENT_CERTIFICATE_FIELD):
            message = f"{CLIENT_CERTIFICATE_FIELD}: {message}"
        state.client_certificate_problem = c.false(
            "ResolvedRefs", result.reason or "InvalidClientCertificateRef", message
        )
    else:
        state.client_certificate = result.certificate


def unreadable_gateway_listeners(bad: Unreadable, cls: ClassState, snapshot: Snapshot) -> list[ListenerState]:
    """The listeners of a Gateway whose spec cannot be read, each evaluated on its own, none programmed."""
    spec = bad.raw.get("spec")
    raw = spec.get("listeners") if isinstance(spec, dict) else None
    if not isinstance(raw, list):
        return []
    # Only what evaluate_listeners reads: the namespace (for certificate refs) and the parsed listeners.
    shell = Gateway.model_construct(
        metadata=ObjectMeta(name=bad.name, namespace=bad.namespace),
        spec=GatewaySpecShell.model_construct(gateway_class_name=cls.resource.metadata.name, listeners=raw),
        listeners=parse_listeners(raw),
    )
    states = evaluate_listeners(shell, snapshot, cls.capabilities or DEFAULT_CAPABILITIES)
    for state in states:
        state.gateway_problem = f"Gateway is not accepted: {bad.message}"
    return states


def gateway_conditions(state: GatewayState) -> list[c.Condition]:
    if not state.is_accepted:
        return [state.accepted, c.false("Programmed", "Invalid", state.accepted.message)]
    programmable = [s for s in state.listeners if s.is_programmable]
    programmed = (
        c.true("Programmed", message="Gateway is programmed")
        if programmable
        else c.false("Programmed", "Invalid", "no listener can be programmed")
    )
    unresolved = [s.name for s in state.listeners if s.resolved.status is not True]
    extra = [state.insecure_frontend] if state.insecure_frontend is not None else []
    if state.client_certificate_problem is not None:
        return [state.accepted, programmed, state.client_certificate_problem, *extra]
    resolved = (
        c.false(
            "ResolvedRefs",
            "ListenersNotResolved",
            f"listeners with unresolved references: {', '.join(unresolved)}",
        )
        if unresolved
        else c.true("ResolvedRefs", message="all references resolved")
    )
    return [state.accepted, programmed, resolved, *extra]
