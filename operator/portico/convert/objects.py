"""Gateway API objects as plain dicts, with the names the converter gives them."""

from __future__ import annotations

from typing import Any

GATEWAY_API = "gateway.networking.k8s.io/v1"
SOURCE_ANNOTATION = "portico.dev/converted-from"
MAX_NAME = 253


def slug(host: str) -> str:
    """A DNS-label-friendly form of a hostname; "" (every host) is `all-hosts`."""
    if not host:
        return "all-hosts"
    # `-` doubles first so that a-b.com and a.b.com never share a listener or route name.
    return host.replace("-", "--").replace("*", "wildcard").replace(".", "-")


def object_name(*parts: str) -> str:
    return "-".join(p for p in parts if p)[:MAX_NAME].rstrip("-.")


def meta(name: str, namespace: str | None, source: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if namespace is not None:
        out["namespace"] = namespace
    if source:
        out["annotations"] = {SOURCE_ANNOTATION: source}
    return out


def gateway_class(name: str, controller: str) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": meta(name, None),
        "spec": {"controllerName": controller},
    }


def backend_ref(service: str, port: int) -> dict[str, Any]:
    return {"name": service, "port": port}


def reference_grant(namespace: str, gateway_namespace: str, secrets: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "ReferenceGrant",
        "metadata": meta(object_name("gateway-tls-from", gateway_namespace), namespace),
        "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": gateway_namespace}],
            "to": [{"group": "", "kind": "Secret", "name": s} for s in sorted(set(secrets))],
        },
    }


def backend_tls_policy(namespace: str, service: str, hostname: str, ca_configmap: str | None) -> dict[str, Any]:
    validation: dict[str, Any] = {"hostname": hostname}
    if ca_configmap:
        validation["caCertificateRefs"] = [{"group": "", "kind": "ConfigMap", "name": ca_configmap}]
    else:
        validation["wellKnownCACertificates"] = "System"
    return {
        "apiVersion": GATEWAY_API,
        "kind": "BackendTLSPolicy",
        "metadata": meta(object_name(service, "tls"), namespace),
        "spec": {"targetRefs": [{"group": "", "kind": "Service", "name": service}], "validation": validation},
    }
