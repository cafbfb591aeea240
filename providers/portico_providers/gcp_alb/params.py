"""`spec.gcp` of a GatewayParameters object: which Application Load Balancer a Gateway becomes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

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


class HealthCheckParameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    request_path: str = Field("/", pattern=r"^/[^\s?#]*$", max_length=1024)
    check_interval_sec: int = Field(5, ge=1, le=300)
    timeout_sec: int = Field(5, ge=1, le=300)
    healthy_threshold: int = Field(2, ge=1, le=10)
    unhealthy_threshold: int = Field(2, ge=1, le=10)


class GcpParameters(BaseModel):
    """Every field is optional except where a scheme needs it; defaults give a global external ALB."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    # GlobalExternal: EXTERNAL_MANAGED, global resources. RegionalExternal: EXTERNAL_MANAGED in
    # `region`. RegionalInternal: INTERNAL_MANAGED in `region` (needs a proxy-only subnet).
    scheme: Literal["GlobalExternal", "RegionalExternal", "RegionalInternal"] = "GlobalExternal"
    project: str | None = Field(None, pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    region: str | None = Field(None, pattern=r"^[a-z]+-[a-z]+[0-9]+$")
    network: Name = "default"
    # The subnet the internal address comes from (RegionalInternal only).
    subnetwork: Annotated[str | None, AfterValidator(_rfc1035)] = None
    # An existing reserved address, by name, used instead of one Portico reserves.
    address: Annotated[str | None, AfterValidator(_rfc1035)] = None
    # The zone of endpoints whose EndpointSlice carries no zone.
    default_zone: Annotated[str | None, AfterValidator(_zone)] = None
    # Gateway listener name -> existing SSL certificate names, used instead of its Secrets.
    ssl_certificates: dict[str, tuple[Name, ...]] = Field(default_factory=dict)
    # A Certificate Manager certificate map (GlobalExternal only), used instead of SSL certificates.
    certificate_map: str | None = Field(None, pattern=r"^projects/[^/]+/locations/global/certificateMaps/[^/]+$")
    ssl_policy: Annotated[str | None, AfterValidator(_rfc1035)] = None
    health_check: HealthCheckParameters = HealthCheckParameters()
    backend_timeout_sec: int = Field(30, ge=1, le=2147483647)
    # NEG: zonal GCE_VM_IP_PORT NEGs of the pods (VPC-native clusters). InstanceGroup: Portico's
    # unmanaged instance groups of the nodes, reached at each Service's nodePort.
    backend_type: Literal["NEG", "InstanceGroup"] = "NEG"

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
