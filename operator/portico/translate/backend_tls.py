"""BackendTLSPolicy: which policy holds for a Service port, what it resolves to, and its status.

A policy's status lists one ancestor per Gateway that sends traffic to a Service it targets
(through a route's backendRef or mirror), written by that Gateway's controller when its class
claims the `BackendTLSPolicy` feature.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from portico.api import Snapshot
from portico.api.base import GATEWAY_GROUP
from portico.api.core import ServicePort
from portico.api.policies import BackendTLSPolicy
from portico.ir import Backend, BackendTLS, GatewayIR, ObjectKey, SubjectAltName
from portico.translate import conditions as c

FEATURE = "BackendTLSPolicy"
CA_KEY = "ca.crt"
TargetKey = tuple[str, str, str | None]  # (namespace, Service, sectionName or None for every port)
PolicyKey = tuple[str, str]


@dataclass(frozen=True)
class PolicyVerdict:
    policy: BackendTLSPolicy
    accepted: c.Condition
    resolved: c.Condition
    tls: BackendTLS  # its `ca_pem` is empty and `usable` False when no CA certificate is valid
    usable: bool


def ca_pem_problem(pem: str) -> str | None:
    """Why a ca.crt value cannot serve as trust anchors (parsed in memory, nothing is read)."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem)
    except (ssl.SSLError, ValueError) as exc:
        return f"no PEM certificate could be read ({exc.__class__.__name__}: {exc})"
    return None


def read_ca_config_map(snapshot: Snapshot, namespace: str, name: str, where: str) -> str | tuple[str, str]:
    """The PEM of a CA ConfigMap's ca.crt, or (InvalidCACertificateRef, message naming `where`)."""
    config_map = snapshot.config_maps.get((namespace, name))
    pem = config_map.data.get(CA_KEY) if config_map is not None else None
    if config_map is None:
        return "InvalidCACertificateRef", f"{where}: ConfigMap {namespace}/{name} not found"
    if pem is None:
        return "InvalidCACertificateRef", f"{where}: ConfigMap {namespace}/{name} has no key {CA_KEY}"
    if (why := ca_pem_problem(pem)) is not None:
        return "InvalidCACertificateRef", f"{where}: {CA_KEY} of ConfigMap {namespace}/{name}: {why}"
    return pem.strip() + "\n"


def _evaluate(policy: BackendTLSPolicy, snapshot: Snapshot, conflict: str | None) -> PolicyVerdict:
    validation = policy.spec.validation
    namespace = policy.metadata.namespace
    bundles: list[str] = []
    problems: list[tuple[str, str]] = []
    for index, ref in enumerate(validation.ca_certificate_refs):
        where = f"spec.validation.caCertificateRefs[{index}]"
        if ref.group != "" or ref.kind != "ConfigMap":
            problems.append(
                (
                    "InvalidKind",
                    f"{where}: kind {ref.group or 'core'}/{ref.kind} is not supported; only core ConfigMaps are",
                )
            )
            continue
        read = read_ca_config_map(snapshot, namespace, ref.name, where)
        if isinstance(read, str):
            bundles.append(read)
        else:
            problems.append(read)
    system = validation.well_known_ca_certificates == "System"
    usable = system or bool(bundles)
    if problems:
        resolved = c.false("ResolvedRefs", problems[0][0], "; ".join(message for _, message in problems))
    else:
        resolved = c.true("ResolvedRefs", message="every CA certificate reference resolves")
    if conflict is not None:
        accepted = c.false("Accepted", "Conflicted", conflict)
    elif not usable:
        accepted = c.false("Accepted", "NoValidCACertificate", "no caCertificateRefs entry is a valid CA certificate")
    else:
        trust = "the system's CAs" if system else f"{len(bundles)} CA bundle(s)"
        accepted = c.true("Accepted", message=f"TLS to the backend, verified against {trust}")
    tls = BackendTLS(
        hostname=validation.hostname,
        ca_pem="".join(bundles),
        subject_alt_names=tuple(SubjectAltName(type=s.type, value=s.value) for s in validation.subject_alt_names),
        policy=ObjectKey(namespace=namespace, name=policy.metadata.name),
    )
    return PolicyVerdict(policy, accepted, resolved, tls, usable)


@dataclass(frozen=True)
class PolicyIndex:
    by_target: dict[TargetKey, PolicyVerdict]  # the policy in force per target
    verdicts: dict[PolicyKey, PolicyVerdict]
    shadowed: dict[PolicyKey, set[PolicyKey]]  # policy in force -> the policies it beat on a target


def _index(snapshot: Snapshot) -> PolicyIndex:
    """The policy in force per Service target, the older (then the first by name) winning a tie."""
    by_target: dict[TargetKey, list[BackendTLSPolicy]] = {}
    for policy in sorted(snapshot.backend_tls_policies.values(), key=lambda p: p.precedence):
        for ref in policy.spec.target_refs:
            if ref.group == "" and ref.kind == "Service":
                by_target.setdefault((policy.metadata.namespace, ref.name, ref.section_name), []).append(policy)
    conflicts: dict[PolicyKey, str] = {}
    shadowed: dict[PolicyKey, set[PolicyKey]] = {}
    for (namespace, service, section), policies in by_target.items():
        winner = policies[0]
        target = f"Service {namespace}/{service}" + (f" port {section}" if section else "")
        for loser in policies[1:]:
            shadowed.setdefault(winner.key, set()).add(loser.key)
            conflicts.setdefault(
                loser.key, f"BackendTLSPolicy {winner.metadata.name} targets {target} too and takes precedence"
            )
    verdicts = {p.key: _evaluate(p, snapshot, conflicts.get(p.key)) for p in snapshot.backend_tls_policies.values()}
    return PolicyIndex({t: verdicts[ps[0].key] for t, ps in by_target.items()}, verdicts, shadowed)


def _memo_index(snapshot: Snapshot) -> PolicyIndex:
    index: PolicyIndex | None = snapshot.memo.get("backend_tls")
    if index is None:
        index = snapshot.memo["backend_tls"] = _index(snapshot)
    return index


def policy_for(snapshot: Snapshot, namespace: str, service: str, port: ServicePort) -> PolicyVerdict | None:
    """The policy for this Service port: one naming the port (sectionName) first, else one for every port."""
    if not snapshot.backend_tls_policies:
        return None
    index = _memo_index(snapshot).by_target
    if port.name:
        found = index.get((namespace, service, port.name))
        if found is not None:
            return found
    return index.get((namespace, service, None))


def _services_used(ir: GatewayIR) -> Iterator[tuple[str, str]]:
    for listener in ir.listeners:
        for rule in listener.rules:
            for backend in rule.backends:
                yield backend.namespace, backend.name
            for f in rule.filters:
                if f.type == "RequestMirror":
                    yield f.backend.namespace, f.backend.name


def _unreadable_statuses(
    snapshot: Snapshot,
    ir_by_gateway: Mapping[tuple[str, str], GatewayIR],
    claims: Mapping[tuple[str, str], bool],
    stamp: str,
) -> Iterator[tuple[tuple[str, str, str], dict[str, Any]]]:
    """A policy whose spec cannot be read: Accepted=False/Invalid naming the field, on the Gateways
    that reach a Service it names."""
    for bad in snapshot.unreadable:
        if bad.kind != "BackendTLSPolicy":
            continue
        spec = bad.raw.get("spec") if isinstance(bad.raw.get("spec"), dict) else {}
        refs = spec.get("targetRefs") if isinstance(spec, dict) else None
        names = {str(r.get("name")) for r in refs if isinstance(r, dict)} if isinstance(refs, list) else set()
        ancestors = [
            {
                "ancestorRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "namespace": key[0], "name": key[1]},
                "controllerName": ir.controller_name,
                "conditions": c.render_all([c.false("Accepted", "Invalid", bad.message)], bad.generation, stamp),
            }
            for key, ir in sorted(ir_by_gateway.items())
            if claims.get(key) and any(ns == bad.namespace and n in names for ns, n in _services_used(ir))
        ]
        if ancestors:
            yield ("BackendTLSPolicy", bad.namespace, bad.name), {"ancestors": ancestors[:16]}


def _policies_used(ir: GatewayIR) -> Iterator[ObjectKey]:
    def walk(backends: tuple[Backend, ...]) -> Iterator[ObjectKey]:
        for backend in backends:
            if backend.tls is not None and backend.tls.policy is not None:
                yield backend.tls.policy
            for f in backend.filters:
                if f.type == "RequestMirror":
                    yield from walk((f.backend,))

    for listener in ir.listeners:
        for rule in listener.rules:
            yield from walk(rule.backends)
            for f in rule.filters:
                if f.type == "RequestMirror":
                    yield from walk((f.backend,))


def policy_statuses(
    snapshot: Snapshot,
    ir_by_gateway: Mapping[tuple[str, str], GatewayIR],
    claims: Mapping[tuple[str, str], bool],
    stamp: str,
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """One ancestor entry per Gateway (whose class claims the feature, `claims`) using each policy."""
    out = dict(_unreadable_statuses(snapshot, ir_by_gateway, claims, stamp))
    if not snapshot.backend_tls_policies:
        return out
    ancestors: dict[PolicyKey, list[dict[str, Any]]] = {}
    index = _memo_index(snapshot)
    for key, ir in sorted(ir_by_gateway.items()):
        if not claims.get(key):
            continue
        used = {(p.namespace, p.name) for p in _policies_used(ir)}
        # A policy that lost a target to an older one is reported (Conflicted) where the winner applies.
        used |= {loser for winner in list(used) for loser in index.shadowed.get(winner, ())}
        for policy_key in sorted(used):
            verdict = index.verdicts[policy_key]
            generation = verdict.policy.metadata.generation
            ancestors.setdefault(policy_key, []).append(
                {
                    "ancestorRef": {"group": GATEWAY_GROUP, "kind": "Gateway", "namespace": key[0], "name": key[1]},
                    "controllerName": ir.controller_name,
                    "conditions": c.render_all([verdict.accepted, verdict.resolved], generation, stamp),
                }
            )
    out.update({("BackendTLSPolicy", *key): {"ancestors": entries[:16]} for key, entries in ancestors.items()})
    return out
