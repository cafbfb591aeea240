"""GatewayClass and Gateway (gateway.networking.k8s.io/v1, standard channel)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from portico.api.base import (
    GATEWAY_GROUP,
    FieldError,
    Group,
    Hostname,
    Kind,
    Model,
    ObjectName,
    PortNumber,
    Resource,
    SectionName,
    parse_as,
)

GatewayController = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[^/]+/.+$")]


class ParametersReference(Model):
    group: Group
    kind: Kind
    name: ObjectName
    namespace: str | None = None


class GatewayClassSpec(Model):
    controller_name: GatewayController
    parameters_ref: ParametersReference | None = None
    description: Annotated[str, StringConstraints(max_length=64)] | None = None


class GatewayClass(Resource):
    spec: GatewayClassSpec


class LabelSelectorRequirement(Model):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()


class LabelSelector(Model):
    match_labels: dict[str, str] = Field(default_factory=dict)
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        for req in self.match_expressions:
            present = req.key in labels
            if req.operator == "In" and not (present and labels[req.key] in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
        return True


class RouteNamespaces(Model):
    from_: Literal["All", "Same", "Selector"] = Field("Same", alias="from")
    selector: LabelSelector | None = None


class RouteGroupKind(Model):
    group: Group = GATEWAY_GROUP
    kind: Kind


class AllowedRoutes(Model):
    namespaces: RouteNamespaces = RouteNamespaces()
    kinds: tuple[RouteGroupKind, ...] = Field((), max_length=8)


class SecretObjectReference(Model):
    group: Group = ""
    kind: Kind = "Secret"
    name: ObjectName
    namespace: str | None = None


class GatewayBackendTLS(Model):
    client_certificate_ref: SecretObjectReference | None = None


class ObjectReference(Model):
    """A reference to any object; frontend CA certificates are core ConfigMaps (checked in translation)."""

    group: Group
    kind: Kind
    name: ObjectName
    namespace: str | None = None


class FrontendTLSValidation(Model):
    ca_certificate_refs: tuple[ObjectReference, ...] = Field(min_length=1, max_length=16)
    mode: Literal["AllowValidOnly", "AllowInsecureFallback"] = "AllowValidOnly"


class FrontendTLSSettings(Model):
    validation: FrontendTLSValidation | None = None


class FrontendTLSPortConfig(Model):
    port: PortNumber
    tls: FrontendTLSSettings


class FrontendTLS(Model):
    """spec.tls.frontend: client-certificate validation for HTTPS listeners, per port or by default."""

    default: FrontendTLSSettings
    per_port: tuple[FrontendTLSPortConfig, ...] = Field((), max_length=64)

    @model_validator(mode="after")
    def _unique_ports(self) -> FrontendTLS:
        ports = [entry.port for entry in self.per_port]
        twice = sorted({port for port in ports if ports.count(port) > 1})
        if twice:
            raise ValueError(f"perPort lists port {', '.join(map(str, twice))} more than once")
        return self


class GatewaySpecTLS(Model):
    """Gateway-wide TLS settings (spec.tls): the backend client certificate, frontend validation."""

    backend: GatewayBackendTLS | None = None
    frontend: FrontendTLS | None = None


class GatewayTLSConfig(Model):
    mode: Literal["Terminate", "Passthrough"] = "Terminate"
    certificate_refs: tuple[SecretObjectReference, ...] = Field((), max_length=64)
    options: dict[str, str] = Field(default_factory=dict)


class Listener(Model):
    name: SectionName
    hostname: Hostname | None = None
    port: PortNumber
    protocol: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    tls: GatewayTLSConfig | None = None
    allowed_routes: AllowedRoutes = AllowedRoutes()


class ListenerNamespaces(Model):
    """spec.allowedListeners.namespaces: which namespaces' ListenerSets may attach (default: none)."""

    from_: Literal["All", "Same", "Selector", "None"] = Field("None", alias="from")
    selector: LabelSelector | None = None


class AllowedListeners(Model):
    namespaces: ListenerNamespaces = ListenerNamespaces()


class GatewaySpecAddress(Model):
    type: str = "IPAddress"
    value: str = ""


class LocalParametersReference(Model):
    group: Group
    kind: Kind
    name: ObjectName


class GatewayInfrastructure(Model):
    labels: dict[str, str] = Field(default_factory=dict, max_length=8)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=16)
    parameters_ref: LocalParametersReference | None = None


class GatewaySpecShell(Model):
    """Everything but the listeners, which are parsed one by one so one bad listener stays local."""

    gateway_class_name: ObjectName
    listeners: list[Any] = Field(min_length=1, max_length=64)
    addresses: tuple[GatewaySpecAddress, ...] = Field((), max_length=16)
    infrastructure: GatewayInfrastructure | None = None
    tls: GatewaySpecTLS | None = None
    allowed_listeners: AllowedListeners = AllowedListeners()


class GatewayShell(Resource):
    spec: GatewaySpecShell


class ParsedListener(Model):
    """A listener, or the reasons its spec could not be read (kept for its status entry)."""

    name: str
    index: int
    listener: Listener | None = None
    errors: tuple[str, ...] = ()


class Gateway(Resource):
    spec: GatewaySpecShell
    listeners: tuple[ParsedListener, ...] = ()

    @property
    def class_name(self) -> str:
        return self.spec.gateway_class_name


def parse_listeners(raw: list[Any]) -> tuple[ParsedListener, ...]:
    parsed: list[ParsedListener] = []
    for index, item in enumerate(raw):
        where = f"spec.listeners[{index}]"
        name = item.get("name") if isinstance(item, dict) else None
        result = parse_as(Listener, item, where)
        if isinstance(result, Listener):
            parsed.append(ParsedListener(name=result.name, index=index, listener=result))
        else:
            parsed.append(
                ParsedListener(
                    name=str(name or f"listener-{index}"),
                    index=index,
                    errors=tuple(str(e) for e in result),
                )
            )
    return tuple(parsed)


def parse_gateway(data: Any) -> Gateway | list[FieldError]:
    shell = parse_as(GatewayShell, data)
    if not isinstance(shell, GatewayShell):
        return shell
    return Gateway(
        api_version=shell.api_version,
        kind=shell.kind,
        metadata=shell.metadata,
        spec=shell.spec,
        listeners=parse_listeners(shell.spec.listeners),
    )
