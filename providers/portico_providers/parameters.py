"""The whole `spec` of a GatewayParameters object: one optional section per installed provider.

Each provider's `ProviderSpec` names its section and its parameters model; this module composes
them (a new cloud edits nothing here), and scripts/generate.py derives the GatewayParameters CRD
(crds/portico.dev_gatewayparameters.yaml, via `parameters_crd`), the chart's values schema and
docs/parameters.md from the result.
It lives here, not in `portico.api`, because `portico.api` may not import providers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from portico.provider import ProviderSpec, available_providers, load_provider_spec
from portico_providers.kit.parameters import SectionModel


def provider_specs() -> list[ProviderSpec]:
    """Every installed provider that has a parameters section, by name (imports no SDK)."""
    specs = []
    for name in available_providers():
        spec = load_provider_spec(name, check_requirements=False)
        if spec.section and spec.parameters is not None:
            specs.append(spec)
    return specs


def spec_model(specs: list[ProviderSpec]) -> type[BaseModel]:
    """GatewayParameters.spec for these providers: each one's `section` typed by its `parameters`."""
    fields: dict[str, Any] = {}
    for spec in specs:
        if spec.section and spec.parameters is not None:
            fields[spec.section] = (spec.parameters | None, None)
    return create_model(
        "GatewayParametersSpec",
        __base__=SectionModel,
        __doc__="One optional section per provider; a provider ignores the other sections.",
        **fields,
    )


GatewayParametersSpec = spec_model(provider_specs())
