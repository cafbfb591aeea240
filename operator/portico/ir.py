"""The intermediate representation: one cloud-neutral, frozen document per Gateway.

It is the only input providers and the proxy receive. Everything in it is already
resolved: hostnames are intersected, rules are in the spec's precedence order,
backends carry their endpoints, invalid references are marked so the data plane
can answer 500 for their share. Round-trips through JSON and YAML unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from portico.ir_rules_table import share_rules

IR_VERSION: Final = "portico.dev/ir/v2"
# v1 documents repeat each rule inline on every listener; still read during a rolling upgrade.
IR_VERSION_V1: Final = "portico.dev/ir/v1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObjectKey(_Frozen):
    """namespace/name of a Kubernetes object."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class RouteKind(StrEnum):
    HTTP = "HTTPRoute"
    GRPC = "GRPCRoute"
    TLS = "TLSRoute"
    TCP = "TCPRoute"
    UDP = "UDPRoute"


class ListenerProtocol(StrEnum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"
    TLS = "TLS"
    TCP = "TCP"
    UDP = "UDP"


class TLSMode(StrEnum):
    TERMINATE = "Terminate"
    PASSTHROUGH = "Passthrough"


class MatchType(StrEnum):
    EXACT = "Exact"
    PATH_PREFIX = "PathPrefix"
    REGULAR_EXPRESSION = "RegularExpression"


class PathMatch(_Frozen):
    type: MatchType
    value: str


class HeaderMatch(_Frozen):
    """Header names are lower-cased in the IR (they match case-insensitively)."""

    type: MatchType
    name: str
    value: str


class QueryParamMatch(_Frozen):
    """Query parameter names match case-sensitively."""

    type: MatchType
    name: str
    value: str


class GRPCMethodMatch(_Frozen):
    """Empty service or method means any."""

    type: MatchType
    service: str = ""
    method: str = ""


class _Named(Protocol):
    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=_Named)


def first_by_name(items: Sequence[NamedT], *, fold: bool) -> list[NamedT]:
    """The spec's rule for a match that lists one name twice: only the first entry counts.

    Header names compare case-insensitively (`fold`), query parameter names exactly.
    """
    seen: set[str] = set()
    out: list[NamedT] = []
    for item in items:
        key = item.name.lower() if fold else item.name
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


class Match(_Frozen):
    path: PathMatch | None = None
    method: str | None = None
    headers: tuple[HeaderMatch, ...] = ()
    query_params: tuple[QueryParamMatch, ...] = ()
    grpc: GRPCMethodMatch | None = None


class HeaderValue(_Frozen):
    name: str
    value: str


class HeaderModifier(_Frozen):
    """set/add keep the spec's case of the name; remove is lower-cased."""

    set: tuple[HeaderValue, ...] = ()
    add: tuple[HeaderValue, ...] = ()
    remove: tuple[str, ...] = ()


class PathModifierType(StrEnum):
    REPLACE_FULL_PATH = "ReplaceFullPath"
    REPLACE_PREFIX_MATCH = "ReplacePrefixMatch"


class PathModifier(_Frozen):
    """For ReplacePrefixMatch, `matched_prefix` is the rule's PathPrefix value."""

    type: PathModifierType
    value: str
    matched_prefix: str | None = None


class RequestHeaderModifierFilter(_Frozen):
    type: Literal["RequestHeaderModifier"] = "RequestHeaderModifier"
    modifier: HeaderModifier


class ResponseHeaderModifierFilter(_Frozen):
    type: Literal["ResponseHeaderModifier"] = "ResponseHeaderModifier"
    modifier: HeaderModifier


class RequestRedirectFilter(_Frozen):
    type: Literal["RequestRedirect"] = "RequestRedirect"
    scheme: str | None = None
    hostname: str | None = None
    port: int | None = None
    path: PathModifier | None = None
    status_code: int = 302


class URLRewriteFilter(_Frozen):
    type: Literal["URLRewrite"] = "URLRewrite"
    hostname: str | None = None
    path: PathModifier | None = None


class RequestMirrorFilter(_Frozen):
    """Mirror `numerator`/`denominator` of requests (percent p is p/100) to `backend`."""

    type: Literal["RequestMirror"] = "RequestMirror"
    backend: Backend
    numerator: int = 100
    denominator: int = 100


class CORSFilter(_Frozen):
    """HTTPRouteCORS as the spec defines it; `*` stays a value of its own (translation checked it stands alone)."""

    type: Literal["CORS"] = "CORS"
    allow_origins: tuple[str, ...] = ()
    allow_credentials: bool = False
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int = 5


Filter = Annotated[
    RequestHeaderModifierFilter
    | ResponseHeaderModifierFilter
    | RequestRedirectFilter
    | URLRewriteFilter
    | RequestMirrorFilter
    | CORSFilter,
    Field(discriminator="type"),
]


class Endpoint(_Frozen):
    """`node_address` is the InternalIP of `node_name` (same address family as `address`), for
    clouds that reach a Service through its nodePort on the node's own address."""

    address: str
    port: int
    zone: str | None = None
    node_name: str | None = None
    node_address: str | None = None


class HealthCheck(_Frozen):
    """An HTTP health check learnt from the backend's pods: the readinessProbe (else the livenessProbe)
    httpGet of the container serving the Service's target port. `port` is a container port (a named
    probe port already resolved); `host` is the probe's Host header, if it sets one; seconds."""

    source: Literal["readinessProbe", "livenessProbe"]
    path: str = "/"
    port: int
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    host: str | None = None
    period_s: int = 10
    timeout_s: int = 1
    failure_threshold: int = 3
    success_threshold: int = 1


class BackendProtocol(StrEnum):
    HTTP = "http"
    H2C = "h2c"
    HTTPS = "https"


class SubjectAltName(_Frozen):
    type: Literal["Hostname", "URI"]
    value: str


class BackendTLS(_Frozen):
    """How the proxy authenticates a TLS backend: SNI `hostname`, trust `ca_pem` (empty: the system's
    CAs), and the names the certificate must carry (`subject_alt_names`, else `hostname`).

    `policy` names the BackendTLSPolicy; None is the default for appProtocol https without one,
    which only an explicit opt-out (`--insecure-backend-tls`) leaves unverified."""

    hostname: str
    ca_pem: str = ""
    subject_alt_names: tuple[SubjectAltName, ...] = ()
    policy: ObjectKey | None = None


class Backend(_Frozen):
    """One weighted backendRef. `invalid_reason` set means: answer 500 for this share."""

    kind: str = "Service"
    group: str = ""
    namespace: str
    name: str
    port: int | None = None
    weight: int = 1
    protocol: BackendProtocol = BackendProtocol.HTTP
    target_port: int | None = None
    node_port: int | None = None
    endpoints: tuple[Endpoint, ...] = ()
    health_check: HealthCheck | None = None
    filters: tuple[Filter, ...] = ()
    invalid_reason: str | None = None
    invalid_message: str | None = None
    tls: BackendTLS | None = None  # set for every HTTPS backend

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}"


class Timeouts(_Frozen):
    """Milliseconds; 0 disables; None is the implementation's default."""

    request_ms: int | None = None
    backend_request_ms: int | None = None


class Rule(_Frozen):
    """One (route, rule, match) in precedence order within its listener."""

    id: str
    route_kind: RouteKind
    route: ObjectKey
    rule_index: int
    match_index: int
    rule_name: str | None = None
    hostnames: tuple[str, ...] = ()
    match: Match = Match()
    filters: tuple[Filter, ...] = ()
    backends: tuple[Backend, ...] = ()
    timeouts: Timeouts = Timeouts()
    # The route's creationTimestamp, for providers that must choose between routes the way the spec
    # does (the oldest wins); left out of documents when unknown.
    route_created: str = Field(default="", repr=False)

    @model_serializer(mode="wrap")
    def _without_unknown_age(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if isinstance(out, dict) and not out.get("route_created"):
            out.pop("route_created", None)
        return out


class Certificate(_Frozen):
    """A kubernetes.io/tls Secret. `key_pem` is None in redacted IR (key mounted separately)."""

    secret: ObjectKey
    cert_pem: str
    key_pem: str | None = None
    hostnames: tuple[str, ...] = ()
    sha256: str = ""


class ClientValidation(_Frozen):
    """Gateway spec.tls.frontend for an HTTPS listener's port: client certificates are verified against
    `ca_pem`; AllowInsecureFallback also serves connections that present none."""

    ca_pem: str
    mode: Literal["AllowValidOnly", "AllowInsecureFallback"] = "AllowValidOnly"


class Listener(_Frozen):
    name: str
    port: int
    protocol: ListenerProtocol
    hostname: str | None = None
    # TLS listeners only: Passthrough routes by the ClientHello's SNI without terminating.
    tls_mode: TLSMode | None = None
    certificates: tuple[Certificate, ...] = ()
    rules: tuple[Rule, ...] = ()
    client_validation: ClientValidation | None = None

    @model_serializer(mode="wrap")
    def _without_no_validation(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out when unset, so documents (and goldens) without frontend validation stay as they were.
        out = handler(self)
        if isinstance(out, dict) and out.get("client_validation", 0) is None:
            out.pop("client_validation")
        return out


class Address(_Frozen):
    type: str = "IPAddress"
    value: str = ""


class Infrastructure(_Frozen):
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)


class GatewayIR(_Frozen):
    """In memory every listener holds its own Rule objects; see to_dict for the shared rule table."""

    version: Literal["portico.dev/ir/v2"] = IR_VERSION
    gateway: ObjectKey
    uid: str = ""
    generation: int = 0
    gateway_class: str
    controller_name: str
    listeners: tuple[Listener, ...] = ()
    addresses: tuple[Address, ...] = ()
    infrastructure: Infrastructure = Infrastructure()
    # spec.tls.backend.clientCertificateRef: presented to backends that request a client certificate.
    client_certificate: Certificate | None = None

    def validate_ir(self) -> list[str]:
        """Structural problems a provider must never see; empty when the IR is sound."""
        problems: list[str] = []
        seen_names: set[str] = set()
        for listener in self.listeners:
            where = f"listeners[{listener.name}]"
            if listener.name in seen_names:
                problems.append(f"{where}: duplicate listener name")
            seen_names.add(listener.name)
            if not 1 <= listener.port <= 65535:
                problems.append(f"{where}.port: {listener.port} is outside 1-65535")
            if listener.protocol is ListenerProtocol.HTTPS and not listener.certificates:
                problems.append(f"{where}.certificates: an HTTPS listener needs a certificate")
            if listener.client_validation is not None and (
                listener.protocol is not ListenerProtocol.HTTPS or not listener.client_validation.ca_pem
            ):
                problems.append(f"{where}.client_validation: only an HTTPS listener, with a CA bundle")
            if listener.protocol is ListenerProtocol.TLS:
                if listener.tls_mode is None:
                    problems.append(f"{where}.tls_mode: a TLS listener needs a mode")
                elif listener.tls_mode is TLSMode.TERMINATE and not listener.certificates:
                    problems.append(f"{where}.certificates: a TLS Terminate listener needs a certificate")
            rule_ids: set[str] = set()
            for rule in listener.rules:
                if rule.id in rule_ids:
                    problems.append(f"{where}.rules[{rule.id}]: duplicate rule id")
                rule_ids.add(rule.id)
                for backend in rule.backends:
                    if backend.weight < 0:
                        problems.append(f"{where}.rules[{rule.id}]: negative weight on {backend.id}")
        return problems

    def redacted(self) -> GatewayIR:
        """The same IR without private keys (safe for a ConfigMap or a log)."""
        listeners = tuple(
            listener.model_copy(
                update={"certificates": tuple(c.model_copy(update={"key_pem": None}) for c in listener.certificates)}
            )
            for listener in self.listeners
        )
        client = self.client_certificate
        return self.model_copy(
            update={
                "listeners": listeners,
                "client_certificate": client.model_copy(update={"key_pem": None}) if client else None,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The v2 document: one copy of each rule in `rules`, listeners list indexes into it."""
        document = self.model_dump(mode="json", exclude={"listeners": {"__all__": {"rules"}}})
        document["rules"] = share_rules(self.listeners, document["listeners"])
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def to_yaml(self) -> str:
        import yaml  # here, not at the top: the proxy reads JSON only and starts without it

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    # Documents are read by portico.ir_document (imported here, not at the top: it builds on these models).
    @classmethod
    def from_dict(cls, data: Any) -> GatewayIR:
        from portico.ir_document import gateway_from_python

        return gateway_from_python(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> GatewayIR:
        from portico.ir_document import gateway_from_json

        return gateway_from_json(text)

    @classmethod
    def from_yaml(cls, text: str) -> GatewayIR:
        import yaml

        return cls.from_dict(yaml.safe_load(text))


class IRBundle(_Frozen):
    """Several Gateways' IR in one document (the proxy's config file)."""

    version: Literal["portico.dev/ir/v2"] = IR_VERSION
    gateways: tuple[GatewayIR, ...] = ()

    def to_json(self) -> str:
        document = {"version": self.version, "gateways": [gateway.to_dict() for gateway in self.gateways]}
        return json.dumps(document, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> IRBundle:
        from portico.ir_document import bundle_from_json

        return bundle_from_json(text)


RequestMirrorFilter.model_rebuild()
