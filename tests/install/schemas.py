"""Comparing a CRD's OpenAPI schema with a pydantic model's JSON schema, field by field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]


def _resolve(node: Schema, defs: Mapping[str, Schema]) -> Schema:
    """Follow $ref and drop the `null` branch of Optional fields (an absent field is the CRD's null)."""
    while "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    branches = [b for b in node.get("anyOf", ()) if b.get("type") != "null"]
    if "anyOf" in node and len(branches) == 1:
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return _resolve({**branches[0], **rest}, defs)
    return node


def _kind(node: Schema) -> str:
    if "enum" in node and "type" not in node:
        return type(node["enum"][0]).__name__.replace("str", "string")
    if node.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    if {b.get("type") for b in node.get("anyOf", ())} == {"integer", "string"}:
        return "int-or-string"
    return str(node.get("type", "any"))


def differences(crd: Schema, model: Schema, path: str, defs: Mapping[str, Schema] | None = None) -> Iterator[str]:
    """Every way the two schemas disagree: fields present in one only, types, enums, defaults."""
    defs = {**(defs or {}), **model.get("$defs", {})}
    model = _resolve(model, defs)
    crd_kind, model_kind = _kind(crd), _kind(model)
    if crd_kind != model_kind:
        yield f"{path}: type {crd_kind} in the CRD, {model_kind} in the model"
        return
    if sorted(map(str, crd.get("enum", []))) != sorted(map(str, model.get("enum", []))):
        yield f"{path}: enum {crd.get('enum')} in the CRD, {model.get('enum')} in the model"
    if "default" in crd and crd["default"] != model.get("default"):
        yield f"{path}: default {crd['default']!r} in the CRD, {model.get('default')!r} in the model"
    for bound in ("minimum", "maximum", "maxItems", "minItems"):
        if bound in crd and crd[bound] != model.get(bound):
            yield f"{path}: {bound} {crd[bound]} in the CRD, {model.get(bound)} in the model"
    crd_fields, model_fields = crd.get("properties", {}), model.get("properties", {})
    for name in sorted(set(crd_fields) | set(model_fields)):
        if name not in model_fields:
            yield f"{path}.{name}: in the CRD, not in the model"
        elif name not in crd_fields:
            yield f"{path}.{name}: in the model, not in the CRD"
        else:
            yield from differences(crd_fields[name], model_fields[name], f"{path}.{name}", defs)
    for key in ("items", "additionalProperties"):
        if isinstance(crd.get(key), Mapping) or isinstance(model.get(key), Mapping):
            if not (isinstance(crd.get(key), Mapping) and isinstance(model.get(key), Mapping)):
                yield f"{path}[{key}]: only one side has it"
            else:
                yield from differences(crd[key], model[key], f"{path}[{key}]", defs)


# Kubernetes' rules for a CRD's openAPIV3Schema (apiextensions v1 validation and "structural
# schema" in the CRD docs): what the API server refuses or what breaks pruning and defaulting.
_FORBIDDEN = ("$ref", "$schema", "id", "definitions", "dependencies", "patternProperties", "additionalItems")
_JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
_NOT_IN_JUNCTORS = ("type", "description", "default", "additionalProperties", "nullable", "properties", "items")
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


def _junctor_branches(node: Schema) -> list[Schema]:
    branches: list[Schema] = []
    for junctor in _JUNCTORS:
        value = node.get(junctor)
        if isinstance(value, Mapping):
            branches.append(value)
        elif isinstance(value, list):
            branches.extend(value)
    return branches


def structural_violations(node: Schema, path: str = "openAPIV3Schema") -> Iterator[str]:
    """Every way `node` is not a valid structural schema, each naming where."""
    special = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    if not node.get("type") and not special:
        yield f"{path}: no type"
    for key in _FORBIDDEN:
        if key in node:
            yield f"{path}: {key} is not allowed"
    if node.get("uniqueItems") is True:
        yield f"{path}: uniqueItems true is not allowed (use x-kubernetes-list-type: set)"
    if "properties" in node and "additionalProperties" in node:
        yield f"{path}: properties and additionalProperties together"
    if node.get("additionalProperties") is False:
        yield f"{path}: additionalProperties false is not allowed"
    if node.get("x-kubernetes-int-or-string") and node.get("anyOf", _INT_OR_STRING) != _INT_OR_STRING:
        yield f"{path}: int-or-string with anyOf other than integer, string"
    elif not node.get("x-kubernetes-int-or-string"):
        for index, branch in enumerate(_junctor_branches(node)):
            for key in _NOT_IN_JUNCTORS:
                if key in branch:
                    yield f"{path}[junctor {index}]: {key} inside allOf/anyOf/oneOf/not"
    for name, child in (node.get("properties") or {}).items():
        yield from structural_violations(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), Mapping):
            yield from structural_violations(node[key], f"{path}[{key}]")
