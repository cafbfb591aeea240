"""Shared pieces of the typed Kubernetes views: model config, metadata, string types, errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticSerializationError, to_json

GATEWAY_GROUP = "gateway.networking.k8s.io"

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
HOSTNAME_PATTERN = rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$"
PRECISE_HOSTNAME_PATTERN = rf"^{_LABEL}(\.{_LABEL})*$"
SECTION_NAME_PATTERN = rf"^{_LABEL}(\.{_LABEL})*$"
HEADER_NAME_PATTERN = r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$"
DURATION_PATTERN = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"

Hostname = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=HOSTNAME_PATTERN)]
PreciseHostname = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=PRECISE_HOSTNAME_PATTERN)]
SectionName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=SECTION_NAME_PATTERN)]
ObjectName = Annotated[str, StringConstraints(min_length=1, max_length=253)]
HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=HEADER_NAME_PATTERN)]
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
PortNumber = Annotated[int, Field(ge=1, le=65535)]
Kind = Annotated[str, StringConstraints(min_length=1, max_length=63)]
Group = Annotated[str, StringConstraints(max_length=253)]

_LINE_BREAKERS = ("\r", "\n", "\x00")


def no_line_breaks(value: str) -> str:
    """CR, LF or NUL in a value that reaches a header or a request line would split it (RFC 9110 5.5)."""
    if any(ch in value for ch in _LINE_BREAKERS):
        raise ValueError(f"must not contain CR, LF or NUL characters (got {value!r})")
    return value


# Header values as the CRD types them (1-4096), refusing the characters that allow header injection.
HeaderValue = Annotated[str, StringConstraints(min_length=1, max_length=4096), AfterValidator(no_line_breaks)]


def without_nulls(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """`obj` as the API server stores it: null fields pruned (then the models apply the CRD defaults).

    Objects read from the API server never hold a null, so the common case is a check: one serialisation
    in pydantic-core (Rust), about a tenth of parsing. Only an object that may hold one is copied.
    """
    try:
        if b"null" not in to_json(obj, serialize_unknown=True):
            return obj
    except PydanticSerializationError:
        pass
    return dict(drop_nulls(dict(obj)))


def drop_nulls(value: Any) -> Any:
    """The object as the API server stores it: a field set to null is pruned, i.e. absent.

    List items are kept as they are (a null item is still an error, as it is for the API server).
    """
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(item) for item in value]
    return value


class Model(BaseModel):
    """camelCase on the wire, snake_case in Python, frozen, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ObjectMeta(Model):
    name: str
    namespace: str = "default"
    uid: str = ""
    generation: int = 0
    resource_version: str = ""
    creation_timestamp: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    deletion_timestamp: str | None = None


class Resource(Model):
    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta

    @property
    def key(self) -> tuple[str, str]:
        return (self.metadata.namespace, self.metadata.name)

    @property
    def display(self) -> str:
        return f"{self.metadata.namespace}/{self.metadata.name}"


@dataclass(frozen=True)
class FieldError:
    """One precise problem: a dotted field path with indexes, and what is wrong there."""

    path: str
    message: str
    enum_value: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _format_loc(prefix: str, loc: Sequence[int | str]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union[")):
            continue
        else:
            out += f".{part}" if out else part
    return out


MAPPING_EXPECTED = {"model_type", "model_attributes_type"}
SHOWN_MAX = 40


def yaml_type(value: object) -> str:
    """The kind of value as a YAML/JSON author sees it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else f"a {type(value).__name__}"


def _shown(value: object) -> str:
    text = repr(value)
    return f"({text[:SHOWN_MAX]}...)" if len(text) > SHOWN_MAX else f"({text})"


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as field paths the way a Kubernetes user writes them."""
    out: list[FieldError] = []
    for item in error.errors(include_url=False):
        loc = [part for part in item["loc"] if not (isinstance(part, str) and part.startswith("literal["))]
        enum_value = item["type"] in {"literal_error", "enum", "union_tag_invalid"}
        value = item.get("input")
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] in MAPPING_EXPECTED:  # pydantic would name our Python class ("instance of RouteSpecShell")
            message = f"expected a mapping (an object with fields), got {yaml_type(value)} {_shown(value)}"
        elif enum_value or item["type"].startswith("string_pattern"):
            message = f"{message} (got {value!r})"
        out.append(FieldError(_format_loc(prefix, loc), message, enum_value))
    return out


M = TypeVar("M", bound=BaseModel)


def parse_as(model: type[M], data: Any, prefix: str = "") -> M | list[FieldError]:
    """Parse or return the field errors; never raises on bad input."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        return field_errors(error, prefix)


def join_errors(errors: Sequence[FieldError], limit: int = 5) -> str:
    shown = "; ".join(str(e) for e in errors[:limit])
    more = len(errors) - limit
    return shown + (f"; and {more} more" if more > 0 else "")
