"""`azure-appgw`: a Gateway becomes an Azure Application Gateway v2 (see docs/providers/azure.md).

Importing this package does not import the Azure SDK; the provider module is loaded by the factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.provider import ProviderContext, ProviderSpec
from portico_providers.azure_appgw.params import SECTION, AppGwParameters

if TYPE_CHECKING:
    from portico.provider import AnyProvider


def _create(context: ProviderContext) -> AnyProvider:
    from portico_providers.azure_appgw.provider import create

    return create(context)


SPEC = ProviderSpec(
    name="azure-appgw",
    factory=_create,
    requires=("azure.mgmt.network", "azure.identity"),
    extra="azure",
    section=SECTION,
    parameters=AppGwParameters,
)
