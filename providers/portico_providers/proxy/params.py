"""`spec.proxy` of a GatewayParameters object: how each Gateway's in-cluster proxy is run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

SECTION = "proxy"
Quantity = int | str
# A Gateway API duration (GEP-2257), e.g. "500ms", "1m30s"; "0s" turns a timeout off.
DURATION = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"


class _Section(BaseModel):
    """camelCase keys as in the CRD; unknown keys are errors so a typo surfaces."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ProxyResources(_Section):
    """A Kubernetes ResourceRequirements for the proxy container, e.g. {"cpu": "100m", "memory": "64Mi"}."""

    limits: dict[str, Quantity] = Field(default_factory=dict)
    requests: dict[str, Quantity] = Field(default_factory=dict)


class ProxyTimeouts(_Section):
    """The proxy's default timeouts: responseHeader where a route sets no timeout of its own, connect
    and requestBodyIdle always; unset keeps the proxy's default (5s, 60s, 60s)."""

    connect: str | None = Field(default=None, pattern=DURATION)
    response_header: str | None = Field(default=None, pattern=DURATION)
    request_body_idle: str | None = Field(default=None, pattern=DURATION)


class ProxyParameters(_Section):
    """Every field is optional; the defaults give one replica behind a LoadBalancer Service."""

    service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    replicas: int = Field(default=1, ge=0)
    # Empty: the operator's own image (`portico run --proxy-image`).
    image: str | None = None
    resources: ProxyResources | None = None
    timeouts: ProxyTimeouts | None = None
    merge_slashes: bool = True
