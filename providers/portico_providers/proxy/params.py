"""`spec.proxy` of a GatewayParameters object: how each Gateway's in-cluster proxy is run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from portico_providers.kit.parameters import SectionModel, printer_column

SECTION = "proxy"
Quantity = int | str


class ProxyResources(SectionModel):
    """A Kubernetes ResourceRequirements for the proxy container."""

    limits: dict[str, Quantity] = Field(default_factory=dict)
    """Maximum resources, e.g. cpu 500m, memory 256Mi."""
    requests: dict[str, Quantity] = Field(default_factory=dict)
    """Resources the scheduler reserves, e.g. cpu 100m, memory 64Mi."""


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
