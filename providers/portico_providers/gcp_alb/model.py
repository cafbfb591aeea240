"""Typed desired resources (kit specs), each serialising to the Compute v1 JSON body it is sent as.

Field names are Compute's (camelCase, checked against the API model by the tests); unset
(None) fields are left out, so a desired body compares with what Compute answers on GET.
A NEG's endpoints and an instance group's instances are membership sets the handlers attach
and detach; they are never part of the body sent on insert (`MEMBERS`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from portico_providers.kit.resources import Desired, Spec


class Body(Spec):
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True
    )

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Duration(Body):
    seconds: int
    nanos: int | None = None


class HeaderOption(Body):
    header_name: str
    header_value: str
    replace: bool


class HeaderAction(Body):
    request_headers_to_add: tuple[HeaderOption, ...] | None = None
    request_headers_to_remove: tuple[str, ...] | None = None
    response_headers_to_add: tuple[HeaderOption, ...] | None = None
    response_headers_to_remove: tuple[str, ...] | None = None


class HeaderMatch(Body):
    header_name: str
    exact_match: str | None = None
    regex_match: str | None = None


class QueryParameterMatch(Body):
    name: str
    exact_match: str | None = None
    regex_match: str | None = None


class RouteRuleMatch(Body):
    full_path_match: str | None = None
    prefix_match: str | None = None
    regex_match: str | None = None
    path_template_match: str | None = None
    header_matches: tuple[HeaderMatch, ...] | None = None
    query_parameter_matches: tuple[QueryParameterMatch, ...] | None = None


class WeightedBackendService(Body):
    backend_service: str
    weight: int = Field(ge=0, le=1000)
    header_action: HeaderAction | None = None


class UrlRewrite(Body):
    path_prefix_rewrite: str | None = None
    host_rewrite: str | None = None
    path_template_rewrite: str | None = None


class RequestMirrorPolicy(Body):
    backend_service: str
    mirror_percent: float | None = None


class FaultAbort(Body):
    http_status: int
    percentage: float


class FaultInjectionPolicy(Body):
    abort: FaultAbort


class RouteAction(Body):
    weighted_backend_services: tuple[WeightedBackendService, ...] | None = None
    url_rewrite: UrlRewrite | None = None
    request_mirror_policy: RequestMirrorPolicy | None = None
    timeout: Duration | None = None
    fault_injection_policy: FaultInjectionPolicy | None = None


class RedirectAction(Body):
    host_redirect: str | None = None
    path_redirect: str | None = None
    prefix_redirect: str | None = None
    https_redirect: bool | None = None
    redirect_response_code: str
    strip_query: bool = False


class RouteRule(Body):
    priority: int = Field(ge=0, le=2147483647)
    description: str = Field(max_length=1024)
    match_rules: tuple[RouteRuleMatch, ...]
    route_action: RouteAction | None = None
    url_redirect: RedirectAction | None = None
    header_action: HeaderAction | None = None


class PathMatcher(Body):
    name: str
    default_route_action: RouteAction
    route_rules: tuple[RouteRule, ...] | None = None


class HostRule(Body):
    hosts: tuple[str, ...]
    path_matcher: str


class UrlMap(Body):
    name: str
    description: str
    default_route_action: RouteAction
    host_rules: tuple[HostRule, ...] = ()
    path_matchers: tuple[PathMatcher, ...] = ()


class Address(Body):
    name: str
    description: str
    address_type: Literal["EXTERNAL", "INTERNAL"]
    ip_version: Literal["IPV4"] | None = None
    subnetwork: str | None = None
    purpose: Literal["SHARED_LOADBALANCER_VIP"] | None = None
    address: str | None = None


class PortCheck(Body):
    port_specification: Literal["USE_SERVING_PORT"] = "USE_SERVING_PORT"
    request_path: str | None = None


class GrpcPortCheck(Body):
    port_specification: Literal["USE_SERVING_PORT"] = "USE_SERVING_PORT"


class HealthCheck(Body):
    name: str
    description: str
    type: Literal["HTTP", "HTTPS", "HTTP2", "GRPC"]
    http_health_check: PortCheck | None = None
    https_health_check: PortCheck | None = None
    http2_health_check: PortCheck | None = None
    grpc_health_check: GrpcPortCheck | None = None
    check_interval_sec: int
    timeout_sec: int
    healthy_threshold: int
    unhealthy_threshold: int


class Backend(Body):
    group: str
    balancing_mode: Literal["RATE"] = "RATE"
    max_rate_per_endpoint: float | None = None  # NEG backends
    max_rate_per_instance: float | None = None  # instance group backends


class BackendService(Body):
    name: str
    description: str
    load_balancing_scheme: Literal["EXTERNAL_MANAGED", "INTERNAL_MANAGED"]
    protocol: Literal["HTTP", "HTTPS", "HTTP2", "H2C"]
    health_checks: tuple[str, ...] | None = None
    backends: tuple[Backend, ...] | None = None
    port_name: str | None = None  # instance group backends: the named port of the Service's nodePort
    timeout_sec: int


class NetworkEndpoint(Body):
    ip_address: str
    port: int
    instance: str | None = None


class NetworkEndpointGroup(Body):
    name: str
    description: str
    network_endpoint_type: Literal["GCE_VM_IP_PORT"] = "GCE_VM_IP_PORT"
    network: str
    subnetwork: str | None = None
    default_port: int
    network_endpoints: tuple[NetworkEndpoint, ...] = ()  # members, attached once the NEG exists


class NamedPort(Body):
    name: str
    port: int


class InstanceGroup(Body):
    """An unmanaged instance group of the nodes, for clusters whose pod IPs are not VPC-routable."""

    name: str
    description: str
    network: str
    named_ports: tuple[NamedPort, ...] | None = None
    instances: tuple[str, ...] = ()  # members (instance URLs), added once the group exists


class SslCertificate(Body):
    name: str
    description: str
    certificate: str


class TargetHttpProxy(Body):
    name: str
    description: str
    url_map: str


class TargetHttpsProxy(Body):
    name: str
    description: str
    url_map: str
    ssl_certificates: tuple[str, ...] | None = None
    certificate_map: str | None = None
    ssl_policy: str | None = None


class ForwardingRule(Body):
    name: str
    description: str
    ip_address: str = Field(alias="IPAddress")
    ip_protocol: Literal["TCP"] = Field("TCP", alias="IPProtocol")
    port_range: str
    target: str
    load_balancing_scheme: Literal["EXTERNAL_MANAGED", "INTERNAL_MANAGED"]
    network: str | None = None
    subnetwork: str | None = None


# Kinds in dependency order: everything a kind refers to comes before it. Deletes run in reverse.
ADDRESS = "address"
HEALTH_CHECK = "healthCheck"
NEG = "networkEndpointGroup"
INSTANCE_GROUP = "instanceGroup"
SSL_CERTIFICATE = "sslCertificate"
BACKEND_SERVICE = "backendService"
URL_MAP = "urlMap"
TARGET_HTTP_PROXY = "targetHttpProxy"
TARGET_HTTPS_PROXY = "targetHttpsProxy"
FORWARDING_RULE = "forwardingRule"
KINDS = (
    ADDRESS,
    HEALTH_CHECK,
    NEG,
    INSTANCE_GROUP,
    SSL_CERTIFICATE,
    BACKEND_SERVICE,
    URL_MAP,
    TARGET_HTTP_PROXY,
    TARGET_HTTPS_PROXY,
    FORWARDING_RULE,
)
COLLECTIONS = {
    ADDRESS: "addresses",
    HEALTH_CHECK: "healthChecks",
    NEG: "networkEndpointGroups",
    INSTANCE_GROUP: "instanceGroups",
    SSL_CERTIFICATE: "sslCertificates",
    BACKEND_SERVICE: "backendServices",
    URL_MAP: "urlMaps",
    TARGET_HTTP_PROXY: "targetHttpProxies",
    TARGET_HTTPS_PROXY: "targetHttpsProxies",
    FORWARDING_RULE: "forwardingRules",
}


# The membership field of each kind that has one (not a body field: attached and detached).
MEMBERS = {NEG: "networkEndpoints", INSTANCE_GROUP: "instances"}
MODELS: dict[str, type[Body]] = {
    ADDRESS: Address,
    HEALTH_CHECK: HealthCheck,
    NEG: NetworkEndpointGroup,
    INSTANCE_GROUP: InstanceGroup,
    SSL_CERTIFICATE: SslCertificate,
    BACKEND_SERVICE: BackendService,
    URL_MAP: UrlMap,
    TARGET_HTTP_PROXY: TargetHttpProxy,
    TARGET_HTTPS_PROXY: TargetHttpsProxy,
    FORWARDING_RULE: ForwardingRule,
}


def desired(kind: str, scope: str, suffix: str, body: Body, secret: str | None = None) -> Desired:
    """One resource Portico wants, its id `<scope>/<suffix>`; `secret`: a certificate's private key."""
    return Desired(kind, f"{scope}/{suffix}", body, secret=secret)
