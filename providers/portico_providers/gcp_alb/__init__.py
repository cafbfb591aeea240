"""`gcp-alb`: a Gateway becomes a Google Cloud Application Load Balancer (see docs/providers/gcp.md).

Importing this package imports neither google-cloud-compute nor google-re2; the factory does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.provider import ProviderContext, ProviderSpec
from portico_providers.gcp_alb.params import SECTION, GcpParameters

if TYPE_CHECKING:
    from portico.provider import AnyProvider


def _create(context: ProviderContext) -> AnyProvider:
    from portico_providers.gcp_alb.provider import create

    return create(context)


SPEC = ProviderSpec(
    name="gcp-alb",
    factory=_create,
    requires=("google.cloud.compute_v1", "re2"),
    extra="gcp",
    section=SECTION,
    parameters=GcpParameters,
)
