"""`spec.proxy` of a GatewayParameters object: how each Gateway's in-cluster proxy is run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from portico_providers.kit.parameters import SectionModel, printer_column

SECTION = "proxy"
Quantity = int | str
# A Gateway API duration (GEP-2257), e.g. "500ms", "1m30s"; "0s" turns a timeout off.
DURATION = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"


class ProxyResources(SectionModel):
    """A Kubernetes ResourceRequirements for the proxy container."""

    limits: dict[str, Quantity] = Field(default_factory=dict)
    """Maximum resources, e.g. cpu 500m, memory 256Mi."""
    requests: dict[str, Quantity] = Field(default_factory=dict)
    """Resources the scheduler reserves, e.g. cpu 100m, memory 64Mi."""


class ProxyTimeouts(SectionModel):
    """The proxy's default timeouts: responseHeader where a route sets no timeout of its own, connect
    and requestBodyIdle always; unset keeps the proxy's default (5s, 60s, 60s)."""

    connect: str | None = Field(default=None, pattern=DURATION)
    """Time to open a connection to a backend endpoint (default 5s)."""
    response_header: str | None = Field(default=None, pattern=DURATION)
    """Time a backend has to send its response head when the route sets no timeout (default 60s)."""
    request_body_idle: str | None = Field(default=None, pattern=DURATION)
    """Longest pause allowed while a client sends a request body (default 60s)."""


class ProxyParameters(SectionModel):
    """Settings of the proxy provider (Portico's own proxy, deployed in the cluster)."""

    service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = Field(
        default="LoadBalancer",
        json_schema_extra=printer_column("Proxy Service", "Service type in front of the proxy (proxy provider)."),
    )
    """Type of the Service in front of the proxy, which decides the Gateway's addresses - the load
    balancer's (LoadBalancer), the nodes' (NodePort) or the cluster IP (ClusterIP)."""
    replicas: int = Field(default=1, ge=0)
    """Proxy replicas per Gateway."""
    image: str | None = None
    """Proxy image; when empty, the operator's own image (`portico run --proxy-image`)."""
    resources: ProxyResources | None = None
    """Compute resources of the proxy container (a Kubernetes ResourceRequirements)."""
    timeouts: ProxyTimeouts | None = None
    """Default timeouts of the proxy (connect, responseHeader, requestBodyIdle)."""
    merge_slashes: bool = True
    """Merge repeated slashes in request paths before matching and forwarding."""
    insecure_backend_tls: bool = Field(default=False, alias="insecureBackendTLS")
    """Reach https backends (appProtocol https) that no BackendTLSPolicy covers without verifying
    their certificate. Off: their certificate must be valid for <service>.<namespace>.svc."""
