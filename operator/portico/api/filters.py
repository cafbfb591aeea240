"""Filters and backend references shared by HTTPRoute and GRPCRoute rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from portico.api.base import (
    Group,
    HeaderName,
    HeaderValue,
    Kind,
    Model,
    ObjectName,
    PortNumber,
    PreciseHostname,
    no_line_breaks,
)


class BackendObjectReference(Model):
    group: Group = ""
    kind: Kind = "Service"
    name: ObjectName
    namespace: str | None = None
    port: PortNumber | None = None

    @model_validator(mode="after")
    def _service_needs_port(self) -> BackendObjectReference:
        if self.group == "" and self.kind == "Service" and self.port is None:
            raise ValueError("port is required when referring to a Service")
        return self


class HTTPHeader(Model):
    name: HeaderName
    value: HeaderValue


class HTTPHeaderFilter(Model):
    set: tuple[HTTPHeader, ...] = Field((), max_length=16)
    add: tuple[HTTPHeader, ...] = Field((), max_length=16)
    remove: tuple[HeaderName, ...] = Field((), max_length=16)

    @model_validator(mode="after")
    def _one_action_per_header(self) -> HTTPHeaderFilter:
        seen: dict[str, str] = {}
        names = [("set", h.name) for h in self.set] + [("add", h.name) for h in self.add]
        names += [("remove", n) for n in self.remove]
        for op, name in names:
            lowered = name.lower()
            if lowered in seen:
                raise ValueError(
                    f"header {name!r} appears in {seen[lowered]} and {op}: only one action per header name"
                )
            seen[lowered] = op
        return self


PathText = Annotated[str, StringConstraints(max_length=1024), AfterValidator(no_line_breaks)]


class HTTPPathModifier(Model):
    type: Literal["ReplaceFullPath", "ReplacePrefixMatch"]
    replace_full_path: PathText | None = None
    replace_prefix_match: PathText | None = None

    @model_validator(mode="after")
    def _type_matches_field(self) -> HTTPPathModifier:
        if self.type == "ReplaceFullPath" and (self.replace_full_path is None or self.replace_prefix_match is not None):
            raise ValueError("type ReplaceFullPath needs replaceFullPath and only it")
        if self.type == "ReplacePrefixMatch" and (
            self.replace_prefix_match is None or self.replace_full_path is not None
        ):
            raise ValueError("type ReplacePrefixMatch needs replacePrefixMatch and only it")
        return self

    @property
    def value(self) -> str:
        return (self.replace_full_path if self.type == "ReplaceFullPath" else self.replace_prefix_match) or ""


class HTTPRequestRedirectFilter(Model):
    scheme: Literal["http", "https"] | None = None
    hostname: PreciseHostname | None = None
    path: HTTPPathModifier | None = None
    port: PortNumber | None = None
    status_code: Literal[301, 302, 303, 307, 308] = 302


class HTTPURLRewriteFilter(Model):
    hostname: PreciseHostname | None = None
    path: HTTPPathModifier | None = None


class Fraction(Model):
    numerator: Annotated[int, Field(ge=0)]
    denominator: Annotated[int, Field(ge=1)] = 100

    @model_validator(mode="after")
    def _proper(self) -> Fraction:
        if self.numerator > self.denominator:
            raise ValueError("numerator must be less than or equal to denominator")
        return self


class HTTPRequestMirrorFilter(Model):
    backend_ref: BackendObjectReference
    percent: Annotated[int, Field(ge=0, le=100)] | None = None
    fraction: Fraction | None = None

    @model_validator(mode="after")
    def _one_of(self) -> HTTPRequestMirrorFilter:
        if self.percent is not None and self.fraction is not None:
            raise ValueError("only one of percent or fraction may be specified")
        return self


CORS_ORIGIN_PATTERN = r"^(\*|https?://(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?)$"
CORSOrigin = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=CORS_ORIGIN_PATTERN)]
CORSMethod = Literal["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"]


class HTTPCORSFilter(Model):
    """Every field ends up in an Access-Control-* response header, so each is checked like a header."""

    allow_origins: tuple[CORSOrigin, ...] = Field((), max_length=64)
    allow_credentials: bool | None = None
    allow_methods: tuple[CORSMethod, ...] = Field((), max_length=9)
    allow_headers: tuple[HeaderName, ...] = Field((), max_length=64)
    expose_headers: tuple[HeaderName, ...] = Field((), max_length=64)
    max_age: Annotated[int, Field(ge=1)] = 5

    @model_validator(mode="after")
    def _wildcard_alone(self) -> HTTPCORSFilter:
        for field, values in (
            ("allowOrigins", self.allow_origins),
            ("allowMethods", self.allow_methods),
            ("allowHeaders", self.allow_headers),
        ):
            if "*" in values and len(values) > 1:
                raise ValueError(f"{field}: '*' cannot be combined with other values")
        return self


class LocalObjectReference(Model):
    group: Group
    kind: Kind
    name: ObjectName


_FILTER_FIELDS = {
    "RequestHeaderModifier": "request_header_modifier",
    "ResponseHeaderModifier": "response_header_modifier",
    "RequestRedirect": "request_redirect",
    "URLRewrite": "url_rewrite",
    "RequestMirror": "request_mirror",
    "ExtensionRef": "extension_ref",
    "CORS": "cors",
}
REPEATABLE_FILTERS = frozenset({"RequestMirror", "ExtensionRef"})


class HTTPRouteFilter(Model):
    type: Literal[
        "RequestHeaderModifier",
        "ResponseHeaderModifier",
        "RequestRedirect",
        "URLRewrite",
        "RequestMirror",
        "ExtensionRef",
        "CORS",
    ]
    request_header_modifier: HTTPHeaderFilter | None = None
    response_header_modifier: HTTPHeaderFilter | None = None
    request_redirect: HTTPRequestRedirectFilter | None = None
    url_rewrite: HTTPURLRewriteFilter | None = Field(None, alias="urlRewrite")
    request_mirror: HTTPRequestMirrorFilter | None = None
    extension_ref: LocalObjectReference | None = None
    cors: HTTPCORSFilter | None = None

    @model_validator(mode="after")
    def _exactly_its_own_config(self) -> HTTPRouteFilter:
        wanted = _FILTER_FIELDS[self.type]
        for filter_type, attr in _FILTER_FIELDS.items():
            present = getattr(self, attr) is not None
            if attr == wanted and not present:
                raise ValueError(f"filter type {self.type} needs its {attr_to_camel(attr)} field")
            if attr != wanted and present:
                raise ValueError(f"filter type {self.type} must not set {attr_to_camel(attr)} ({filter_type})")
        return self


def attr_to_camel(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(p.capitalize() if p != "url" else "URL" for p in rest).replace("Url", "URL")


def check_filter_list(filters: tuple[HTTPRouteFilter, ...]) -> None:
    types = [f.type for f in filters]
    for t in set(types):
        if t not in REPEATABLE_FILTERS and types.count(t) > 1:
            raise ValueError(f"filter {t} may appear at most once")
    if "RequestRedirect" in types and "URLRewrite" in types:
        raise ValueError("RequestRedirect and URLRewrite cannot be used together")
