"""HTTPRoute and GRPCRoute (gateway.networking.k8s.io/v1, standard channel); TLSRoute, TCPRoute and
UDPRoute share the route shell and take their rule model from l4routes.py.

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
    HeaderValue,
    Hostname,
    Kind,
    Model,
    ObjectName,
    PortNumber,
    Resource,
    SectionName,
    parse_as,
)
from portico.api.filters import (
    BackendObjectReference,
    HTTPRouteFilter,
    check_filter_list,
)
from portico.api.l4routes import L4_ROUTE_KINDS, L4RouteRule, l4_shell_problems

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
    value: HeaderValue


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
    rule: HTTPRouteRule | GRPCRouteRule | L4RouteRule | None = None
    errors: tuple[FieldError, ...] = ()


class Route(Resource):
    """An HTTPRoute or GRPCRoute with its rules parsed one by one."""

    spec: RouteSpecShell
    rules: tuple[ParsedRule, ...] = ()

    @property
    def is_grpc(self) -> bool:
        return self.kind == "GRPCRoute"

    @property
    def is_l4(self) -> bool:
        return self.kind in L4_ROUTE_KINDS


MAX_TOTAL_MATCHES = 128


def parse_route(data: Any, kind: str) -> Route | list[FieldError]:
    shell = parse_as(RouteShell, data)
    if not isinstance(shell, RouteShell):
        return shell
    raw_rules = list(shell.spec.rules)
    if kind == "HTTPRoute" and not raw_rules:
        raw_rules = [{}]
    if kind in L4_ROUTE_KINDS:
        problems = l4_shell_problems(kind, len(shell.spec.hostnames), len(raw_rules))
        if problems:
            return [FieldError(path, message) for path, message in problems]
    rule_model: type[HTTPRouteRule] | type[GRPCRouteRule] | type[L4RouteRule] = (
        L4RouteRule if kind in L4_ROUTE_KINDS else GRPCRouteRule if kind == "GRPCRoute" else HTTPRouteRule
    )
    parsed: list[ParsedRule] = []
    total_matches = 0
    for index, raw in enumerate(raw_rules):
        result = parse_as(rule_model, raw, f"spec.rules[{index}]")
        if isinstance(result, L4RouteRule):
            parsed.append(ParsedRule(index=index, rule=result))
        elif isinstance(result, HTTPRouteRule | GRPCRouteRule):
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
