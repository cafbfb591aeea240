"""The whole `spec` of a GatewayParameters object: one optional section per installed provider.

Each provider's `ProviderSpec` names its section and its parameters model; this module composes
them (a new cloud edits nothing here), so that one check can prove the CRD
(crds/portico.dev_gatewayparameters.yaml) and the Python side agree, field by field, and
scripts/generate.py derives the chart's schema and docs/parameters.md from the same list.
It lives here, not in `portico.api`, because `portico.api` may not import providers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.alias_generators import to_camel

from portico.provider import ProviderSpec, available_providers, load_provider_spec


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


def provider_specs() -> list[ProviderSpec]:
    """Every installed provider that has a parameters section, by name (imports no SDK)."""
    specs = []
    for name in available_providers():
        spec = load_provider_spec(name, check_requirements=False)
        if spec.section and spec.parameters is not None:
            specs.append(spec)
    return specs


def _model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for spec in provider_specs():
        if spec.section and spec.parameters is not None:
            fields[spec.section] = (spec.parameters | None, None)
    return create_model("GatewayParametersSpec", __base__=_Spec, **fields)


GatewayParametersSpec = _model()
