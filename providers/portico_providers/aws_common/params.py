"""Reading a provider's section of GatewayParameters with a precise error per bad field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from portico_providers.kit.parameters import SectionModel

M = TypeVar("M", bound=BaseModel)

RESERVED_TAG_PREFIXES = ("portico.dev/", "aws:")


class Parameters(SectionModel):
    """camelCase keys as in the GatewayParameters CRD; unknown keys are errors (typos surface)."""


def parse_section(model: type[M], parameters: Mapping[str, Any], section: str) -> M | list[str]:
    """`spec.<section>` of the parameters as `model`, or one message per invalid field."""
    raw = parameters.get(section, {})
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return [f"spec.{section}: must be an object, got {type(raw).__name__}"]
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        messages = []
        for item in error.errors():
            loc = list(item["loc"])
            if loc and isinstance(loc[0], str):  # a field checked by default is located by its Python name
                loc[0] = to_camel(loc[0])
            path = ".".join(str(p) for p in loc)
            messages.append(f"spec.{section}.{path}: {item['msg']}")
        return messages


def section_problems(model: type[BaseModel], section: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """A Capabilities.check_parameters: the messages `parse_section` gives, none when the section is valid."""

    def check(parameters: Mapping[str, Any]) -> list[str]:
        parsed = parse_section(model, parameters, section)
        return parsed if isinstance(parsed, list) else []

    return check


def check_user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Validator body: user tags may not use Portico's or AWS's reserved prefixes."""
    for key in tags:
        if key.startswith(RESERVED_TAG_PREFIXES):
            raise ValueError(f"tag key {key!r} uses a reserved prefix ({', '.join(RESERVED_TAG_PREFIXES)})")
    return tags
