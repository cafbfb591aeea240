"""Request bodies checked against the API model of the api-version the SDK sends.

azure-mgmt-network's generated models carry the REST spec of that api-version (property names,
types, enums, read-only visibility, required properties): the fake refuses what ARM would refuse
with 400 InvalidRequestFormat / InvalidRequestContent, so the provider cannot rely on leniency.
"""

from __future__ import annotations

import enum
import typing
from functools import cache
from typing import Any

from azure.mgmt.network import models
from azure.mgmt.network.models import _models

API_VERSION = "2026-03-01"  # what azure-mgmt-network's operations send by default (checked by a test)


@cache
def _fields(cls: type) -> dict[str, tuple[Any, bool, bool]]:
    """{rest name: (type, read-only, required)} of a generated model class."""
    cls()  # the model computes its field table on first construction
    namespace = dict(vars(_models))
    namespace["_models"] = models
    hints = typing.get_type_hints(cls, globalns=namespace)
    table: dict[str, tuple[Any, bool, bool]] = {}
    for attr, field in cls._attr_to_rest_field.items():  # type: ignore[attr-defined]
        hint = hints.get(attr, Any)
        optional = typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)
        table[field._rest_name] = (hint, field._visibility == ["read"], not optional)
    return table


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and hasattr(kind, "_is_model")


def _check(value: Any, kind: Any, where: str, errors: list[str]) -> None:
    if value is None or kind is Any:
        return
    origin = typing.get_origin(kind)
    if origin is typing.Union:
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        enums = [a for a in options if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums:
            allowed = {str(m.value).lower() for m in enums[0]}
            if not isinstance(value, str) or value.lower() not in allowed:
                errors.append(f"{where}: {value!r} is not one of {sorted(str(m.value) for m in enums[0])}")
            return
        if len(options) == 1:
            _check(value, options[0], where, errors)
        return
    if origin is list:
        if not isinstance(value, list):
            errors.append(f"{where}: expected an array")
            return
        (item,) = typing.get_args(kind)
        for index, element in enumerate(value):
            _check(element, item, f"{where}[{index}]", errors)
        return
    if origin is dict:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object")
            return
        _, item = typing.get_args(kind)
        for key, element in value.items():
            _check(element, item, f"{where}[{key}]", errors)
        return
    if kind is bool:
        if not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean")
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: expected an integer")
    elif kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            errors.append(f"{where}: expected a number")
    elif kind is str:
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string")
    elif _is_model(kind):
        validate(value, kind, where, errors)


def validate(body: Any, cls: type, where: str = "", errors: list[str] | None = None) -> list[str]:
    """Every problem of `body` as a `cls` request body; empty when ARM would accept its shape."""
    errors = [] if errors is None else errors
    if not isinstance(body, dict):
        errors.append(f"{where or 'body'}: expected an object")
        return errors
    table = _fields(cls)
    for key, value in body.items():
        path = f"{where}.{key}" if where else key
        if key not in table:
            errors.append(f"{path}: unknown property")
            continue
        kind, read_only, _ = table[key]
        if read_only:
            errors.append(f"{path}: read-only property in a request")
            continue
        _check(value, kind, path, errors)
    for key, (_, read_only, required) in table.items():
        if required and not read_only and key not in body:
            errors.append(f"{where + '.' if where else ''}{key}: required property missing")
    return errors
