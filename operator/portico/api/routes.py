"""HTTPRoute and GRPCRoute (gateway.networking.k8s.io/v1, standard channel).

A route is parsed as a shell (metadata, parentRefs, hostnames) plus rules parsed one by
one: a rule the controller cannot read is dropped on its own (PartiallyInvalid), while the
rest of the route keeps serving.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from portico.api.base import (
    GATEWAY_GROUP,
    Duration,
    FieldError,
    Group,
    HeaderName,
    Hostname,
    Kind,
    Model,
    ObjectName,
    PortNumber,
    PreciseHostname,
    Resource,
    SectionName,
    parse_as,
)

HeaderValueText = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
PATH_CHARS = r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$"
_PATH_FORBIDDEN = ("//", "/./", "/../", "%2f", "%2F", "#")


class ParentReference(Model):
    group: Group = GATEWAY_GROUP
    kind: Kind = "Gateway"
    namespace: str | None = None
    name: ObjectName
    section_name: SectionName | None = None
    port: PortNumber | None = None

    def as_status(self, route_namespace: str) -> dict[str, Any]:
        """The parentRef as echoed in status.parents (defaults made explicit)."""
        out: dict[str, Any] = {
            "group": self.group,
            "kind": self.kind,
            "namespace": self.namespace or route_namespace,
            "name": self.name,
        }
        if self.section_name is not None:
            out["sectionName"] = self.section_name
        if self.port is not None:
            out["port"] = self.port
        return out


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


class HTTPPathMatch(Model):
    type: Literal["Exact", "PathPrefix", "RegularExpression"] = "PathPrefix"
    value: Annotated[str, StringConstraints(max_length=1024)] = "/"

    @model_validator(mode="after")
    def _valid_path(self) -> HTTPPathMatch:
        if self.type == "RegularExpression":
            return self
        check_path_value(self.value)
        return self


def check_path_value(value: str) -> None:
    import re

    if not value.startswith("/"):
        raise ValueError(f"path must be an absolute path starting with '/' (got {value!r})")
    for bad in _PATH_FORBIDDEN:
        if bad in value:
            raise ValueError(f"path must not contain {bad!r} (got {value!r})")
    if value.endswith(("/..", "/.")):
        raise ValueError(f"path must not end with '/..' or '/.' (got {value!r})")
    if not re.match(PATH_CHARS, value):
        raise ValueError(f"path contains characters that are not allowed (got {value!r})")


class HTTPHeaderMatch(Model):
    type: Literal["Exact", "RegularExpression"] = "Exact"
    name: HeaderName
    value: HeaderValueText


class HTTPQueryParamMatch(Model):
    type: Literal["Exact", "RegularExpression"] = "Exact"
    name: HeaderName
    value: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


HTTPMethod = Literal["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]


class HTTPRouteMatch(Model):
    path: HTTPPathMatch = HTTPPathMatch()
    headers: tuple[HTTPHeaderMatch, ...] = Field((), max_length=16)
    query_params: tuple[HTTPQueryParamMatch, ...] = Field((), max_length=16)
    method: HTTPMethod | None = None


class HTTPHeader(Model):
    name: HeaderName
    value: Annotated[str, StringConstraints(min_length=0, max_length=4096)]


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


class HTTPPathModifier(Model):
    type: Literal["ReplaceFullPath", "ReplacePrefixMatch"]
    replace_full_path: Annotated[str, StringConstraints(max_length=1024)] | None = None
    replace_prefix_match: Annotated[str, StringConstraints(max_length=1024)] | None = None

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
    cors: dict[str, Any] | None = None

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


class HTTPBackendRef(BackendObjectReference):
    weight: Annotated[int, Field(ge=0, le=1_000_000)] = 1
    filters: tuple[HTTPRouteFilter, ...] = Field((), max_length=16)

    @model_validator(mode="after")
    def _filters_ok(self) -> HTTPBackendRef:
        check_filter_list(self.filters)
        return self


class HTTPRouteTimeouts(Model):
    request: Duration | None = None
    backend_request: Duration | None = None


class HTTPRouteRule(Model):
    name: SectionName | None = None
    matches: tuple[HTTPRouteMatch, ...] = Field((HTTPRouteMatch(),), max_length=64)
    filters: tuple[HTTPRouteFilter, ...] = Field((), max_length=16)
    backend_refs: tuple[HTTPBackendRef, ...] = Field((), max_length=16)
    timeouts: HTTPRouteTimeouts | None = None

    @model_validator(mode="after")
    def _rule_constraints(self) -> HTTPRouteRule:
        check_filter_list(self.filters)
        types = {f.type for f in self.filters}
        if "RequestRedirect" in types and self.backend_refs:
            raise ValueError("RequestRedirect filter must not be used together with backendRefs")
        modifiers = [f.request_redirect.path for f in self.filters if f.request_redirect]
        modifiers += [f.url_rewrite.path for f in self.filters if f.url_rewrite]
        for ref in self.backend_refs:
            modifiers += [f.request_redirect.path for f in ref.filters if f.request_redirect]
            modifiers += [f.url_rewrite.path for f in ref.filters if f.url_rewrite]
        if any(m is not None and m.type == "ReplacePrefixMatch" for m in modifiers) and (
            len(self.matches) != 1 or self.matches[0].path.type != "PathPrefix"
        ):
            raise ValueError("ReplacePrefixMatch needs exactly one match, and it must be a PathPrefix match")
        if not self.matches:
            return self.model_copy(update={"matches": (HTTPRouteMatch(),)})
        return self


class GRPCMethodMatchSpec(Model):
    type: Literal["Exact", "RegularExpression"] = "Exact"
    service: Annotated[str, StringConstraints(max_length=1024)] | None = None
    method: Annotated[str, StringConstraints(max_length=1024)] | None = None

    @model_validator(mode="after")
    def _one_set(self) -> GRPCMethodMatchSpec:
        import re

        if not self.service and not self.method:
            raise ValueError("one or both of service or method must be specified")
        if self.type == "Exact":
            if self.service and not re.match(
                r"^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$", self.service, re.IGNORECASE
            ):
                raise ValueError(f"service must be a fully qualified gRPC service name (got {self.service!r})")
            if self.method and not re.match(r"^[A-Za-z_][A-Za-z_0-9]*$", self.method):
                raise ValueError(f"method must be a gRPC method name (got {self.method!r})")
        return self


class GRPCRouteMatch(Model):
    method: GRPCMethodMatchSpec | None = None
    headers: tuple[HTTPHeaderMatch, ...] = Field((), max_length=16)


class GRPCRouteFilter(HTTPRouteFilter):
    type: Literal["RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "ExtensionRef"]


class GRPCBackendRef(BackendObjectReference):
    weight: Annotated[int, Field(ge=0, le=1_000_000)] = 1
    filters: tuple[GRPCRouteFilter, ...] = Field((), max_length=16)

    @model_validator(mode="after")
    def _filters_ok(self) -> GRPCBackendRef:
        check_filter_list(self.filters)
        return self


class GRPCRouteRule(Model):
    name: SectionName | None = None
    matches: tuple[GRPCRouteMatch, ...] = Field((), max_length=64)
    filters: tuple[GRPCRouteFilter, ...] = Field((), max_length=16)
    backend_refs: tuple[GRPCBackendRef, ...] = Field((), max_length=16)

    @model_validator(mode="after")
    def _filters_ok(self) -> GRPCRouteRule:
        check_filter_list(self.filters)
        return self


class RouteSpecShell(Model):
    parent_refs: tuple[ParentReference, ...] = Field((), max_length=32)
    hostnames: tuple[Hostname, ...] = Field((), max_length=16)
    rules: list[Any] = Field(default_factory=list, max_length=16)

    @model_validator(mode="after")
    def _distinct_parents(self) -> RouteSpecShell:
        groups: dict[tuple[str, str, str | None, str], list[ParentReference]] = {}
        for ref in self.parent_refs:
            groups.setdefault((ref.group, ref.kind, ref.namespace, ref.name), []).append(ref)
        for refs in groups.values():
            if len(refs) < 2:
                continue
            with_section = [r for r in refs if r.section_name is not None]
            if with_section and len(with_section) != len(refs):
                raise ValueError("parentRefs to the same parent must all set sectionName or none")
            sections = [(r.section_name, r.port) for r in refs]
            if len(set(sections)) != len(sections):
                raise ValueError("parentRefs to the same parent must be distinct (sectionName/port)")
        return self


class RouteShell(Resource):
    spec: RouteSpecShell = RouteSpecShell()


class ParsedRule(Model):
    index: int
    rule: HTTPRouteRule | GRPCRouteRule | None = None
    errors: tuple[FieldError, ...] = ()


class Route(Resource):
    """An HTTPRoute or GRPCRoute with its rules parsed one by one."""

    spec: RouteSpecShell
    rules: tuple[ParsedRule, ...] = ()

    @property
    def is_grpc(self) -> bool:
        return self.kind == "GRPCRoute"


MAX_TOTAL_MATCHES = 128


def parse_route(data: Any, kind: str) -> Route | list[FieldError]:
    shell = parse_as(RouteShell, data)
    if not isinstance(shell, RouteShell):
        return shell
    raw_rules = list(shell.spec.rules)
    if kind == "HTTPRoute" and not raw_rules:
        raw_rules = [{}]
    rule_model: type[HTTPRouteRule] | type[GRPCRouteRule] = GRPCRouteRule if kind == "GRPCRoute" else HTTPRouteRule
    parsed: list[ParsedRule] = []
    total_matches = 0
    for index, raw in enumerate(raw_rules):
        result = parse_as(rule_model, raw, f"spec.rules[{index}]")
        if isinstance(result, HTTPRouteRule | GRPCRouteRule):
            total_matches += len(result.matches)
            parsed.append(ParsedRule(index=index, rule=result))
        else:
            parsed.append(ParsedRule(index=index, errors=tuple(result)))
    if total_matches > MAX_TOTAL_MATCHES:
        return [FieldError("spec.rules", f"total matches across rules must be <= 128 (got {total_matches})")]
    return Route(
        api_version=shell.api_version,
        kind=kind,
        metadata=shell.metadata,
        spec=shell.spec,
        rules=tuple(parsed),
    )
