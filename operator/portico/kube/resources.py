"""Every Kubernetes resource Portico watches or writes, with the URL parts to reach it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def id(self) -> str:
        """`group/version/plural` as kmock and kopf spell a resource."""
        return f"{self.group}/{self.version}/{self.plural}" if self.group else f"{self.version}/{self.plural}"

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


GW = "gateway.networking.k8s.io"
GATEWAY_CLASS = ResourceType(GW, "v1", "gatewayclasses", "GatewayClass", namespaced=False)
GATEWAY = ResourceType(GW, "v1", "gateways", "Gateway")
HTTP_ROUTE = ResourceType(GW, "v1", "httproutes", "HTTPRoute")
GRPC_ROUTE = ResourceType(GW, "v1", "grpcroutes", "GRPCRoute")
TLS_ROUTE = ResourceType(GW, "v1", "tlsroutes", "TLSRoute")
TCP_ROUTE = ResourceType(GW, "v1", "tcproutes", "TCPRoute")
UDP_ROUTE = ResourceType(GW, "v1", "udproutes", "UDPRoute")
LISTENER_SET = ResourceType(GW, "v1", "listenersets", "ListenerSet")
REFERENCE_GRANT = ResourceType(GW, "v1beta1", "referencegrants", "ReferenceGrant")
SERVICE = ResourceType("", "v1", "services", "Service")
ENDPOINT_SLICE = ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice")
SECRET = ResourceType("", "v1", "secrets", "Secret")
NAMESPACE = ResourceType("", "v1", "namespaces", "Namespace", namespaced=False)
NODE = ResourceType("", "v1", "nodes", "Node", namespaced=False)
GATEWAY_PARAMETERS = ResourceType("portico.dev", "v1alpha1", "gatewayparameters", "GatewayParameters")
BACKEND_TLS_POLICY = ResourceType(GW, "v1", "backendtlspolicies", "BackendTLSPolicy")
# Read for BackendTLSPolicy CA certificates (only those with a `ca.crt` key are kept); the proxy
# provider also writes its own (the IR).
CONFIG_MAP = ResourceType("", "v1", "configmaps", "ConfigMap")

# What the operator watches, in the order the snapshot needs them.
WATCHED: tuple[ResourceType, ...] = (
    GATEWAY_CLASS,
    GATEWAY,
    LISTENER_SET,
    HTTP_ROUTE,
    GRPC_ROUTE,
    TLS_ROUTE,
    TCP_ROUTE,
    UDP_ROUTE,
    REFERENCE_GRANT,
    SERVICE,
    ENDPOINT_SLICE,
    SECRET,
    NAMESPACE,
    GATEWAY_PARAMETERS,
    BACKEND_TLS_POLICY,
    CONFIG_MAP,
    NODE,  # the InternalIP of the nodes hosting endpoints (nodePort backends); kept trimmed
)

# Kinds a cluster may lack (CRDs that came to the standard channel after Gateway and HTTPRoute): the
# operator runs without them and claims none of their features (portico.handlers.optional_kinds).
OPTIONAL: tuple[ResourceType, ...] = (LISTENER_SET, TLS_ROUTE, TCP_ROUTE, UDP_ROUTE, BACKEND_TLS_POLICY)

# What the proxy provider and the operator write besides statuses.
DEPLOYMENT = ResourceType("apps", "v1", "deployments", "Deployment")
POD = ResourceType("", "v1", "pods", "Pod")  # read one at a time for health checks, never watched
EVENT = ResourceType("", "v1", "events", "Event")
LEASE = ResourceType("coordination.k8s.io", "v1", "leases", "Lease")  # leader election between replicas

RESOURCES: tuple[ResourceType, ...] = (*WATCHED, DEPLOYMENT, POD, EVENT, LEASE)

# Objects Portico's providers make in the cluster carry this label and an ownerReference to their
# Gateway; the operator watches these (server-side filtered) only to wake that Gateway.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "portico"
WATCHED_OWNED: tuple[ResourceType, ...] = (DEPLOYMENT,)

_BY_KIND = {r.kind: r for r in RESOURCES}


def resource_for(kind: str) -> ResourceType:
    """The resource of a kind Portico knows; KeyError names the kind otherwise."""
    try:
        return _BY_KIND[kind]
    except KeyError:
        raise KeyError(f"Portico does not handle kind {kind!r}") from None
