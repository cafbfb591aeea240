"""Pure builders: the Kubernetes objects that run one Gateway's proxy, from its IR.

Per Gateway: a ConfigMap with the redacted IR, a Deployment running `portico proxy`, a Service
exposing every listener port, and (for certificates in other namespaces, which a pod cannot
mount) a copy of each such TLS Secret. Everything carries ownership labels and an
ownerReference to the Gateway.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any

from pydantic import ValidationError

from portico.api.base import field_errors, join_errors
from portico.ir import Certificate, GatewayIR, ListenerProtocol, ObjectKey
from portico.kube.resources import MANAGED_BY_LABEL
from portico.provider import Undeliverable
from portico.translate.features import parse_duration_ms
from portico_providers.proxy.params import SECTION, ProxyParameters
from portico_providers.proxy.static_addresses import service_fields

CONFIG_DIR = "/etc/portico"
CONFIG_FILE = f"{CONFIG_DIR}/ir.json"
SECRETS_DIR = f"{CONFIG_DIR}/tls"
CONFIG_KEY = "ir.json"
DEFAULT_IMAGE = "portico/portico:0.1.0"
# The API server refuses a ConfigMap whose data and binaryData hold more than 1 MiB together.
CONFIG_MAP_LIMIT = 1024 * 1024
# Up to this size the IR stays readable JSON in `data`; above, it goes gzip-compressed in
# `binaryData` under the same key (the proxy recognises gzip by its magic bytes).
INLINE_LIMIT = 256 * 1024
MIB = 1024 * 1024

MANAGED_BY = MANAGED_BY_LABEL  # the operator watches what carries it (portico.kube.resources)
GATEWAY_NAME = "portico.dev/gateway-name"
GATEWAY_NAMESPACE = "portico.dev/gateway-namespace"
COMPONENT = "app.kubernetes.io/component"


def object_name(gateway: str, suffix: str = "") -> str:
    """`portico-<gateway>[-suffix]`, shortened with a hash to stay a valid 63-character name."""
    name = f"portico-{gateway}{'-' + suffix if suffix else ''}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54].rstrip('-')}-{digest}"


def owner_labels(gateway: ObjectKey) -> dict[str, str]:
    return {MANAGED_BY: "portico", GATEWAY_NAME: gateway.name[:63], GATEWAY_NAMESPACE: gateway.namespace[:63]}


def pod_labels(gateway: ObjectKey) -> dict[str, str]:
    return {COMPONENT: "proxy", GATEWAY_NAME: gateway.name[:63]}


class InvalidProxyParameters(ValueError):
    """`spec.proxy` of the Gateway's GatewayParameters cannot be used; the message names the field."""


def proxy_settings(ir: GatewayIR) -> ProxyParameters:
    """The Gateway's `spec.proxy` parameters, validated (a typo or a bad value is an error, never a default)."""
    section = ir.infrastructure.parameters.get(SECTION) or {}
    try:
        return ProxyParameters.model_validate(section)
    except ValidationError as error:
        problems = join_errors(field_errors(error, f"GatewayParameters spec.{SECTION}"))
        raise InvalidProxyParameters(problems) from None


def service_type(ir: GatewayIR) -> str:
    return proxy_settings(ir).service_type


# Kubernetes reserves the kubernetes.io and k8s.io prefixes (and their subdomains) for its own
# components; gateway.networking.k8s.io is among them. app.kubernetes.io is the exception, meant
# for applications' recommended labels. Reserved keys are not propagated, so a Gateway cannot
# steer the cluster through the proxy's objects (e.g. a kubectl.kubernetes.io/restartedAt).
RESERVED_DOMAINS = ("kubernetes.io", "k8s.io")
OPEN_PREFIXES = ("app.kubernetes.io",)


def is_reserved_key(key: str) -> bool:
    prefix = key.rpartition("/")[0]
    if not prefix or prefix in OPEN_PREFIXES:
        return False
    return any(prefix == domain or prefix.endswith("." + domain) for domain in RESERVED_DOMAINS)


def propagated(values: dict[str, str]) -> dict[str, str]:
    """spec.infrastructure labels or annotations without the keys Kubernetes reserves."""
    return {key: value for key, value in values.items() if not is_reserved_key(key)}


def _metadata(ir: GatewayIR, name: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": ir.gateway.namespace,
        "labels": {**propagated(ir.infrastructure.labels), **owner_labels(ir.gateway)},
    }
    annotations = propagated(ir.infrastructure.annotations)
    if annotations:
        meta["annotations"] = annotations
    if ir.uid:
        meta["ownerReferences"] = [
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "Gateway",
                "name": ir.gateway.name,
                "uid": ir.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return meta


def certificates(ir: GatewayIR) -> list[Certificate]:
    """Each referenced certificate once, in a stable order."""
    seen: dict[str, Certificate] = {}
    for listener in ir.listeners:
        for cert in listener.certificates:
            seen.setdefault(str(cert.secret), cert)
    if ir.client_certificate is not None:  # mounted the same way: the proxy reads its key from the volume
        seen.setdefault(str(ir.client_certificate.secret), ir.client_certificate)
    return [seen[k] for k in sorted(seen)]


def mounted_secret_name(ir: GatewayIR, cert: Certificate) -> str:
    """Same-namespace Secrets are mounted as they are; others through Portico's copy."""
    if cert.secret.namespace == ir.gateway.namespace:
        return cert.secret.name
    digest = hashlib.sha256(str(cert.secret).encode()).hexdigest()[:10]
    return object_name(ir.gateway.name, f"tls-{digest}")


def config_map(ir: GatewayIR) -> dict[str, Any]:
    """The redacted IR: JSON in `data`, or gzip in `binaryData` when large; Undeliverable above 1 MiB."""
    document = ir.redacted().to_json()
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(ir, object_name(ir.gateway.name)),
    }
    raw = document.encode()
    if len(raw) <= INLINE_LIMIT:
        return {**obj, "data": {CONFIG_KEY: document}}
    packed = gzip.compress(raw, compresslevel=6, mtime=0)  # mtime=0: the same IR gives the same bytes
    if len(packed) + len(CONFIG_KEY) > CONFIG_MAP_LIMIT:
        raise Undeliverable(
            f"the proxy configuration is {len(raw) / MIB:.1f} MiB, {len(packed) / MIB:.2f} MiB compressed; "
            "a ConfigMap holds at most 1 MiB: spread the routes over more Gateways"
        )
    return {**obj, "binaryData": {CONFIG_KEY: base64.b64encode(packed).decode()}}


def secret_copies(ir: GatewayIR) -> list[dict[str, Any]]:
    out = []
    for cert in certificates(ir):
        if cert.secret.namespace == ir.gateway.namespace or cert.key_pem is None:
            continue
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": _metadata(ir, mounted_secret_name(ir, cert)),
                "data": {
                    "tls.crt": base64.b64encode(cert.cert_pem.encode()).decode(),
                    "tls.key": base64.b64encode(cert.key_pem.encode()).decode(),
                },
            }
        )
    return out


def listener_ports(ir: GatewayIR) -> list[tuple[str, int, str]]:
    """(port name, number, protocol) of every listener port: a UDP listener's port is a UDP port, and
    a TCP and a UDP listener may share a number (two Service ports, told apart by their names)."""
    ports = {
        (listener.port, "UDP" if listener.protocol is ListenerProtocol.UDP else "TCP") for listener in ir.listeners
    }
    return [(f"{'udp' if protocol == 'UDP' else 'port'}-{port}", port, protocol) for port, protocol in sorted(ports)]


def _projected_volume(ir: GatewayIR) -> dict[str, Any]:
    """One volume for config and certificates, so both update in place (no subPath)."""
    sources: list[dict[str, Any]] = [
        {"configMap": {"name": object_name(ir.gateway.name), "items": [{"key": CONFIG_KEY, "path": CONFIG_KEY}]}}
    ]
    for cert in certificates(ir):
        folder = f"tls/{cert.secret.namespace}/{cert.secret.name}"
        sources.append(
            {
                "secret": {
                    "name": mounted_secret_name(ir, cert),
                    "items": [
                        {"key": "tls.crt", "path": f"{folder}/tls.crt"},
                        {"key": "tls.key", "path": f"{folder}/tls.key"},
                    ],
                }
            }
        )
    return {"name": "portico", "projected": {"sources": sources}}


# Non-root, yet able to bind listener ports below 1024: the namespaced, "safe" sysctl
# (Kubernetes >= 1.22) does that without granting a capability, which non-root containers
# often do not receive on containerd anyway.
POD_SECURITY: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
    "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
}


def proxy_flags(settings: ProxyParameters) -> list[str]:
    """`portico proxy` flags for what spec.proxy sets (nothing for what it leaves to the defaults)."""
    flags = [] if settings.merge_slashes else ["--no-merge-slashes"]
    if settings.insecure_backend_tls:
        flags.append("--insecure-backend-tls")
    timeouts = settings.timeouts
    if timeouts is not None:
        for flag, value in (
            ("--connect-timeout", timeouts.connect),
            ("--response-header-timeout", timeouts.response_header),
            ("--body-idle-timeout", timeouts.request_body_idle),
        ):
            if value is not None:
                flags += [flag, f"{parse_duration_ms(value) / 1000:g}"]
    return flags


def deployment(ir: GatewayIR, image: str = DEFAULT_IMAGE) -> dict[str, Any]:
    settings = proxy_settings(ir)
    labels = pod_labels(ir.gateway)
    container: dict[str, Any] = {
        "name": "proxy",
        "image": settings.image or image,
        "args": ["proxy", "--config", CONFIG_FILE, "--secrets-dir", SECRETS_DIR, *proxy_flags(settings)],
        "ports": [
            {"name": name, "containerPort": port, "protocol": protocol} for name, port, protocol in listener_ports(ir)
        ],
        "volumeMounts": [{"name": "portico", "mountPath": CONFIG_DIR, "readOnly": True}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if settings.resources is not None:
        container["resources"] = settings.resources.model_dump(mode="json", by_alias=True)
    # The pods carry them too: mesh injection (istio-injection, linkerd.io/inject) reads the pod.
    pod_meta: dict[str, Any] = {"labels": {**propagated(ir.infrastructure.labels), **labels}}
    annotations = propagated(ir.infrastructure.annotations)
    if annotations:
        pod_meta["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(ir, object_name(ir.gateway.name)),
        "spec": {
            "replicas": settings.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": pod_meta,
                "spec": {
                    "securityContext": POD_SECURITY,
                    "containers": [container],
                    "volumes": [_projected_volume(ir)],
                },
            },
        },
    }


def service(ir: GatewayIR) -> dict[str, Any]:
    kind = service_type(ir)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(ir, object_name(ir.gateway.name)),
        "spec": {
            "type": kind,
            "selector": pod_labels(ir.gateway),
            "ports": [
                {"name": name, "port": port, "targetPort": port, "protocol": protocol}
                for name, port, protocol in listener_ports(ir)
            ],
            **service_fields(ir, kind),
        },
    }


def desired_objects(ir: GatewayIR, image: str = DEFAULT_IMAGE) -> list[dict[str, Any]]:
    """In creation order: what the Deployment mounts comes before it, the Service last."""
    return [*secret_copies(ir), config_map(ir), deployment(ir, image), service(ir)]
