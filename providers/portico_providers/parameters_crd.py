"""The GatewayParameters CRD, built from the providers' parameter models (pure; scripts/generate.py writes it).

pydantic's JSON schema is turned into a Kubernetes *structural* schema: `$ref`s inlined, the
`null` branch of optional fields dropped (absent is the API's null), `int | str` as
int-or-string, no `additionalProperties: false` (the API server prunes unknown fields instead),
defaults kept only where they are not empty (an empty default would be written into every
stored object). Anything with no structural equivalent is an error naming the field, so nothing
in a model is silently lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from portico.provider import ProviderSpec
from portico_providers.kit.parameters import PRINTER_COLUMN

GROUP, VERSION, KIND, PLURAL = "portico.dev", "v1alpha1", "GatewayParameters", "gatewayparameters"
DESCRIPTION = (
    "Per-provider settings for Gateways. Referenced by GatewayClass.spec.parametersRef (which must name its"
    " namespace) or Gateway.spec.infrastructure.parametersRef (same namespace as the Gateway; its fields"
    " override the class's)."
)
# Value validations: kept as they are (the structural rules allow them anywhere).
_KEPT = (
    "enum", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "minProperties", "maxProperties", "required",
)  # fmt: skip
_DROPPED = ("title", "$defs")
_INT_OR_STRING = {"integer", "string"}
# Keys first in this order (as a person writes a schema), the rest as pydantic emits them.
_FIRST = ("type", "anyOf", "x-kubernetes-int-or-string", "description", "enum", "default")


class SchemaError(ValueError):
    """A model field that has no structural-schema equivalent."""


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Inline `$ref` (the referring node's own keys, e.g. its description, win) and drop `null` branches."""
    out = dict(node)
    while "$ref" in out:
        target = defs[out.pop("$ref").rsplit("/", 1)[-1]]
        out = {**target, **out}
    if "anyOf" in out:
        branches = [_resolve(b, defs) for b in out["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            rest = {k: v for k, v in out.items() if k != "anyOf"}
            return _resolve({**branches[0], **rest}, defs)
        out["anyOf"] = branches
    return out


def _description(text: str) -> str:
    return " ".join(text.split())


def _type_of(node: Mapping[str, Any], path: str) -> str:
    if "type" in node:
        return str(node["type"])
    values = node.get("enum", [])
    kinds = {type(value) for value in values}
    if kinds == {str}:
        return "string"
    if kinds == {int}:
        return "integer"
    raise SchemaError(f"{path}: no type (enum {values!r})")


def structural(node: Mapping[str, Any], defs: Mapping[str, Any], path: str) -> dict[str, Any]:
    """One node of a pydantic JSON schema as a structural OpenAPI v3 schema node."""
    node = _resolve(node, defs)
    if "const" in node:
        node = {**{k: v for k, v in node.items() if k != "const"}, "enum": [node["const"]]}
    if "anyOf" in node:
        kinds = {b.get("type") for b in node["anyOf"]}
        if kinds != _INT_OR_STRING or any(set(b) != {"type"} for b in node["anyOf"]):
            raise SchemaError(f"{path}: a union of {sorted(map(str, kinds))} has no structural schema")
        out: dict[str, Any] = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    else:
        out = {"type": _type_of(node, path)}
    if node.get("description"):
        out["description"] = _description(node["description"])
    for key, value in node.items():
        if key in ("type", "description", "anyOf", "const", PRINTER_COLUMN, *_DROPPED):
            continue
        if key == "properties":
            out[key] = {name: structural(child, defs, f"{path}.{name}") for name, child in value.items()}
        elif key == "items" and isinstance(value, Mapping):
            out[key] = structural(value, defs, f"{path}[items]")
        elif key == "additionalProperties" and isinstance(value, Mapping):
            out[key] = structural(value, defs, f"{path}[additionalProperties]")
        elif key == "additionalProperties" and value is False:
            continue
        elif key == "uniqueItems" and value is True:
            out["x-kubernetes-list-type"] = "set"
        elif key == "default":
            if value is not None and value not in ([], {}):
                out[key] = value
        elif key in _KEPT:
            out[key] = value
        else:
            raise SchemaError(f"{path}: {key!r} has no structural schema equivalent")
    return dict(sorted(out.items(), key=lambda item: _FIRST.index(item[0]) if item[0] in _FIRST else len(_FIRST)))


def _columns(node: Mapping[str, Any], defs: Mapping[str, Any], path: str) -> Iterator[dict[str, Any]]:
    """Printer columns marked on fields (kit.parameters.printer_column), depth first in field order."""
    node = _resolve(node, defs)
    if PRINTER_COLUMN in node:
        column = node[PRINTER_COLUMN]
        kind = structural(node, defs, path).get("type", "string")
        yield {"name": column["name"], "type": kind, "jsonPath": path, "description": column["description"]}
    for name, child in (node.get("properties") or {}).items():
        yield from _columns(child, defs, f"{path}.{name}")


def spec_schema(model: type[BaseModel]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The structural schema of `model` (GatewayParameters.spec) and its printer columns."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    return structural(schema, defs, "spec"), list(_columns(schema, defs, ".spec"))


def parameters_crd(model: type[BaseModel], specs: Sequence[ProviderSpec]) -> dict[str, Any]:
    """The whole CustomResourceDefinition of GatewayParameters, whose `spec` is `model`."""
    spec, columns = spec_schema(model)
    unknown = set(spec.get("properties", {})) - {s.section for s in specs}
    if unknown:
        raise SchemaError(f"spec: sections {sorted(unknown)} belong to no provider")
    meta = {"type": "string"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}", "labels": {"app.kubernetes.io/part-of": "portico"}},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": PLURAL,
                "shortNames": ["gwparams"],
                "categories": ["portico", "gateway-api"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": [
                        *columns,
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": DESCRIPTION,
                            "properties": {
                                "apiVersion": {
                                    **meta,
                                    "description": "APIVersion of this representation of the object.",
                                },
                                "kind": {**meta, "description": "Kind of the object."},
                                "metadata": {"type": "object"},
                                "spec": spec,
                            },
                            "required": ["spec"],
                        }
                    },
                }
            ],
        },
    }
