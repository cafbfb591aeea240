"""The whole `spec` of a GatewayParameters object: one optional section per provider.

Each provider parses only its own section (see `<provider>.params`); this model composes them
so that one check can prove the CRD (crds/portico.dev_gatewayparameters.yaml) and the Python
side agree, field by field. It lives here, not in `portico.api`, because `portico.api` may not
import providers (import-linter contract).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from portico_providers.aws_alb.params import AlbParameters
from portico_providers.aws_lattice.params import LatticeParameters
from portico_providers.gcp_alb.params import GcpParameters
from portico_providers.proxy.params import ProxyParameters


class GatewayParametersSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    aws: AlbParameters | None = None
    aws_lattice: LatticeParameters | None = None
    gcp: GcpParameters | None = None
    proxy: ProxyParameters | None = None
