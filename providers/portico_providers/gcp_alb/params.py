"""`spec.gcp` of a GatewayParameters object: which Application Load Balancer a Gateway becomes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from portico_providers.kit.parameters import SectionModel

SECTION = "gcp"
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")


def _rfc1035(value: str | None) -> str | None:
    if value is not None and not NAME.match(value):
        raise ValueError(f"{value!r} is not a Compute resource name (RFC 1035, at most 63 characters)")
    return value


def _zone(value: str | None) -> str | None:
    if value is not None and not ZONE.match(value):
        raise ValueError(f"{value!r} is not a Compute zone name such as europe-west1-b")
    return value


Name = Annotated[str, AfterValidator(_rfc1035)]
Scheme = Literal["GlobalExternal", "RegionalExternal", "RegionalInternal"]


class HealthCheckParameters(SectionModel):
    """The health check of every backend service of the Gateway."""

    request_path: str = Field("/", pattern=r"^/[^\s?#]*$", max_length=1024)
    """HTTP path the health check requests."""
    check_interval_sec: int = Field(5, ge=1, le=300)
    """Seconds between two checks."""
    timeout_sec: int = Field(5, ge=1, le=300)
    """Seconds a check waits for an answer."""
    healthy_threshold: int = Field(2, ge=1, le=10)
    """Successes in a row that make an endpoint healthy."""
    unhealthy_threshold: int = Field(2, ge=1, le=10)
    """Failures in a row that make an endpoint unhealthy."""


class GcpParameters(SectionModel):
    """Settings of the gcp-alb provider: which Google Cloud Application Load Balancer a Gateway becomes.
    Every field is optional except where a scheme needs it; the defaults give a global external ALB."""

    scheme: Scheme = "GlobalExternal"
    """GlobalExternal: EXTERNAL_MANAGED, global resources. RegionalExternal: EXTERNAL_MANAGED in `region`.
    RegionalInternal: INTERNAL_MANAGED in `region` (needs a proxy-only subnet)."""
    project: str | None = Field(None, pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    """Google Cloud project of the load balancer (default: the operator's --gcp-project)."""
    region: str | None = Field(None, pattern=r"^[a-z]+-[a-z]+[0-9]+$")
    """Region of a regional load balancer, e.g. europe-west1."""
    network: Name = "default"
    """VPC network of the load balancer and the endpoints."""
    subnetwork: Annotated[str | None, AfterValidator(_rfc1035)] = None
    """The subnet the internal address comes from (RegionalInternal only)."""
    address: Annotated[str | None, AfterValidator(_rfc1035)] = None
    """An existing reserved address, by name, used instead of one Portico reserves."""
    default_zone: Annotated[str | None, AfterValidator(_zone)] = None
    """The zone of endpoints whose EndpointSlice carries no zone."""
    ssl_certificates: dict[str, tuple[Name, ...]] = Field(default_factory=dict)
    """Gateway listener name -> existing SSL certificate names, used instead of its Secrets."""
    certificate_map: str | None = Field(None, pattern=r"^projects/[^/]+/locations/global/certificateMaps/[^/]+$")
    """A Certificate Manager certificate map (GlobalExternal only), used instead of SSL certificates."""
    ssl_policy: Annotated[str | None, AfterValidator(_rfc1035)] = None
    """An SSL policy (by name) for the HTTPS target proxies."""
    health_check: HealthCheckParameters = HealthCheckParameters()
    """The health check of the backend services."""
    backend_timeout_sec: int = Field(30, ge=1, le=2147483647)
    """Backend service timeout in seconds where a route sets none."""
    backend_type: Literal["NEG", "InstanceGroup"] = "NEG"
    """NEG: zonal GCE_VM_IP_PORT NEGs of the pods (VPC-native clusters). InstanceGroup: Portico's
    unmanaged instance groups of the nodes, reached at each Service's nodePort."""

    @model_validator(mode="after")
    def _scheme_needs(self) -> GcpParameters:
        regional = self.scheme != "GlobalExternal"
        if regional and self.region is None:
            raise ValueError(f"region: scheme {self.scheme} needs a region")
        if not regional and self.region is not None:
            raise ValueError("region: a GlobalExternal load balancer has no region")
        if self.scheme != "RegionalInternal" and self.subnetwork is not None:
            raise ValueError("subnetwork: only a RegionalInternal load balancer takes its address from a subnet")
        if self.scheme == "RegionalInternal" and self.subnetwork is None:
            raise ValueError("subnetwork: scheme RegionalInternal needs the subnet its address comes from")
        if self.certificate_map is not None and regional:
            raise ValueError("certificateMap: certificate maps attach to global target HTTPS proxies only")
        return self

    @property
    def load_balancing_scheme(self) -> str:
        return "INTERNAL_MANAGED" if self.scheme == "RegionalInternal" else "EXTERNAL_MANAGED"

    @property
    def regional(self) -> bool:
        return self.scheme != "GlobalExternal"


def parse(parameters: dict[str, object]) -> GcpParameters | list[str]:
    """`spec.gcp` of the parameters, or one message per invalid field (`spec.gcp.<field>: why`)."""
    from pydantic import ValidationError

    raw = parameters.get(SECTION) or {}
    if not isinstance(raw, dict):
        return [f"spec.{SECTION}: must be an object, got {type(raw).__name__}"]
    try:
        return GcpParameters.model_validate(raw)
    except ValidationError as error:
        out = []
        for item in error.errors():
            path = ".".join(str(p) for p in item["loc"])
            out.append(f"spec.{SECTION}{'.' + path if path else ''}: {item['msg'].removeprefix('Value error, ')}")
        return out
