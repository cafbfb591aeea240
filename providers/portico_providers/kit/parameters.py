"""A provider's section of GatewayParameters: the base model and the marks the CRD generator reads.

The GatewayParameters CRD, the chart's values schema and docs/parameters.md are generated from
these models (scripts/generate.py), so a field's description, enum, default and bounds are written
once, here, on the model: a docstring under the field (or `Field(description=...)`), `Literal[...]`,
`ge=`, `max_length=`; the model's own docstring describes the section.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Key of a field's json_schema_extra that makes it a column of `kubectl get gatewayparameters`.
PRINTER_COLUMN = "x-portico-printer-column"


class SectionModel(BaseModel):
    """camelCase keys as in the CRD; unknown keys are errors so a typo surfaces; a field's docstring
    is its description in the CRD and the docs."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, use_attribute_docstrings=True
    )


def printer_column(name: str, description: str) -> dict[str, Any]:
    """`Field(json_schema_extra=printer_column(...))`: show this field in `kubectl get`."""
    return {PRINTER_COLUMN: {"name": name, "description": description}}
