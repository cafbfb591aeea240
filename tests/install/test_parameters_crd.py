"""A new cloud adds its parameters model and regenerates: the CRD built from it keeps everything."""

from __future__ import annotations

from typing import Any, Literal

import kubernetes_validate
import pytest
from pydantic import BaseModel, Field

from portico.provider import ProviderContext, ProviderSpec
from portico_providers.kit.parameters import SectionModel, printer_column
from portico_providers.parameters import GatewayParametersSpec, provider_specs, spec_model
from portico_providers.parameters_crd import SchemaError, parameters_crd
from tests.install.chart import KUBE_VERSIONS, ROOT, load_script
from tests.install.schemas import differences, structural_violations


class Probe(SectionModel):
    """How the new cloud checks backends."""

    path: str = "/healthz"
    """Path of the HTTP probe."""
    interval_seconds: int = Field(default=5, ge=1, le=300)
    """Seconds between probes."""


class NewCloudParameters(SectionModel):
    """Settings of the new-cloud provider (one balancer per Gateway)."""

    region: str
    """Region of the balancer; required."""
    tier: Literal["Standard", "Premium"] = Field(
        default="Standard", json_schema_extra=printer_column("Tier", "Tier of the balancers (new-cloud provider).")
    )
    """Pricing tier."""
    zones: tuple[str, ...] = Field(default=(), max_length=3)
    """Zones of the balancer; empty: every zone of the region."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels of every resource Portico creates."""
    probe: Probe | None = None
    """Health probe; when unset, the cloud's default."""
    capacity: dict[str, int | str] = Field(default_factory=dict)
    """Capacity units per listener, a number or a quantity."""


def _unused_factory(context: ProviderContext) -> Any:
    raise AssertionError("the CRD is built without creating a provider")


NEW_CLOUD = ProviderSpec(name="new-cloud", factory=_unused_factory, section="newCloud", parameters=NewCloudParameters)


def _crd_with_new_cloud() -> tuple[type[BaseModel], dict[str, Any]]:
    specs = [*provider_specs(), NEW_CLOUD]
    model = spec_model(specs)
    return model, parameters_crd(model, specs)


def _version(crd: dict[str, Any]) -> dict[str, Any]:
    version: dict[str, Any] = crd["spec"]["versions"][0]
    return version


def test_a_new_section_is_a_valid_structural_crd() -> None:
    _, crd = _crd_with_new_cloud()
    for kube_version in KUBE_VERSIONS:
        kubernetes_validate.validate(crd, kube_version, strict=True)
    found = list(structural_violations(_version(crd)["schema"]["openAPIV3Schema"]))
    assert not found, "\n".join(found)


def test_a_new_section_keeps_descriptions_enums_defaults_bounds_and_required() -> None:
    model, crd = _crd_with_new_cloud()
    spec = _version(crd)["schema"]["openAPIV3Schema"]["properties"]["spec"]
    section = spec["properties"]["newCloud"]
    assert section["description"] == "Settings of the new-cloud provider (one balancer per Gateway)."
    assert section["required"] == ["region"]
    assert section["properties"]["tier"] == {
        "type": "string",
        "description": "Pricing tier.",
        "enum": ["Standard", "Premium"],
        "default": "Standard",
    }
    assert section["properties"]["zones"]["maxItems"] == 3
    assert "default" not in section["properties"]["zones"]  # empty defaults are not written into objects
    probe = section["properties"]["probe"]
    assert probe["description"] == "Health probe; when unset, the cloud's default."
    assert probe["properties"]["intervalSeconds"] == {
        "type": "integer",
        "description": "Seconds between probes.",
        "default": 5,
        "minimum": 1,
        "maximum": 300,
    }
    assert section["properties"]["capacity"]["additionalProperties"]["x-kubernetes-int-or-string"] is True
    found = list(differences(spec, model.model_json_schema(by_alias=True), "spec"))
    assert not found, "\n".join(found)


def test_a_new_section_brings_its_printer_columns_before_age() -> None:
    _, crd = _crd_with_new_cloud()
    columns = _version(crd)["additionalPrinterColumns"]
    assert [c["name"] for c in columns] == ["ALB Scheme", "Lattice VPC", "Proxy Service", "Tier", "Age"]
    assert columns[3] == {
        "name": "Tier",
        "type": "string",
        "jsonPath": ".spec.newCloud.tier",
        "description": "Tier of the balancers (new-cloud provider).",
    }


def test_a_field_with_no_structural_schema_is_an_error_naming_it() -> None:
    class Bad(SectionModel):
        """A section with a union Kubernetes cannot express."""

        value: str | list[str] = "x"

    spec = ProviderSpec(name="bad", factory=_unused_factory, section="bad", parameters=Bad)
    with pytest.raises(SchemaError, match=r"spec\.bad\.value: a union of \['array', 'string'\]"):
        parameters_crd(spec_model([spec]), [spec])


def test_a_model_change_makes_the_generated_files_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    generate = load_script("generate")
    assert generate.stale_files() == []
    crd = parameters_crd(GatewayParametersSpec, provider_specs())
    spec = _version(crd)["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["proxy"]["properties"]["replicas"]["description"] = "A description changed in the model."
    monkeypatch.setattr(generate, "parameters_crd", lambda model, specs: crd)
    stale = {path.relative_to(ROOT).as_posix() for path in generate.stale_files()}
    assert stale == {
        "crds/portico.dev_gatewayparameters.yaml",
        "charts/portico/crds/portico.dev_gatewayparameters.yaml",
        "charts/portico/values.schema.json",
        "docs/parameters.md",
    }
