"""Reading a provider's section of GatewayParameters with a precise error per bad field."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from portico_providers.kit.parameters import SectionModel

M = TypeVar("M", bound=BaseModel)

RESERVED_TAG_PREFIXES = ("portico.dev/", "aws:")
# AWS: 50 tags per resource, keys up to 128 characters, values up to 256. Portico puts up to 4 of
# its own on a resource (cluster, Gateway, resource id, and a certificate's fingerprint).
MAX_TAGS = 50
PORTICO_TAGS = 4
MAX_USER_TAGS = MAX_TAGS - PORTICO_TAGS
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


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
    """Validator body: user tags may not use Portico's or AWS's reserved prefixes, and must fit AWS's
    limits next to Portico's own tags (so no create fails half-way with TooManyTags)."""
    if len(tags) > MAX_USER_TAGS:
        raise ValueError(
            f"{len(tags)} tags; AWS allows {MAX_TAGS} per resource and Portico adds up to {PORTICO_TAGS}, "
            f"so at most {MAX_USER_TAGS}"
        )
    for key, value in tags.items():
        if key.startswith(RESERVED_TAG_PREFIXES):
            raise ValueError(f"tag key {key!r} uses a reserved prefix ({', '.join(RESERVED_TAG_PREFIXES)})")
        if not key or len(key) > MAX_TAG_KEY:
            raise ValueError(f"tag key {key[:40]!r} is {len(key)} characters; AWS allows 1 to {MAX_TAG_KEY}")
        if len(value) > MAX_TAG_VALUE:
            raise ValueError(f"tag {key[:40]!r}: the value is {len(value)} characters; AWS allows {MAX_TAG_VALUE}")
    return tags


def check_cidr(value: str) -> str:
    """Validator body: an IPv4 or IPv6 network in CIDR notation (host bits clear), as EC2 wants it."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR block such as 203.0.113.0/24 ({error})") from None
    if "/" not in value:
        raise ValueError(f"{value!r} is not a CIDR block: add the prefix length, e.g. {value}/32")
    return value
