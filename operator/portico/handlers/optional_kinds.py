"""Kinds whose CRDs a cluster may not have installed (TLSRoute and ListenerSet came to the standard
channel in v1.5, TCPRoute and UDPRoute in v1.6, BackendTLSPolicy in v1.4, and clusters often carry older CRDs).

Without such a CRD the operator still starts: it logs which CRD is missing and how to install it,
does not watch that kind, and removes the kind and its features from every provider's capabilities,
so no GatewayClass claims them in `supportedFeatures` and no listener lists the kind as supported.
Without BackendTLSPolicy, backends with appProtocol https are still verified against the system's CAs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from portico.handlers.prerequisites import GATEWAY_API_INSTALL, GATEWAY_API_RELEASE
from portico.kube.resources import ResourceType
from portico.provider import Capabilities

FEATURES_OF_KIND: dict[str, frozenset[str]] = {
    "TLSRoute": frozenset({"TLSRoute", "TLSRouteModeTerminate", "TLSRouteModeMixed"}),
    "TCPRoute": frozenset({"TCPRoute"}),
    "UDPRoute": frozenset({"UDPRoute"}),
    "ListenerSet": frozenset({"ListenerSet"}),
    "BackendTLSPolicy": frozenset({"BackendTLSPolicy", "BackendTLSPolicySANValidation"}),
}


def without_kinds(capabilities: Capabilities, kinds: Iterable[str]) -> Capabilities:
    """The capabilities with neither the route kinds nor the features that need them."""
    absent = frozenset(kinds)
    if not absent:
        return capabilities
    features = frozenset().union(*(FEATURES_OF_KIND.get(kind, frozenset({kind})) for kind in absent))
    return dataclasses.replace(
        capabilities,
        route_kinds=capabilities.route_kinds - absent,
        features=capabilities.features - features,
    )


def missing_kind_message(resource: ResourceType) -> str:
    return (
        f"CRD {resource.plural}.{resource.group} is not installed: {resource.plural} are not watched and "
        f"no GatewayClass claims {', '.join(sorted(FEATURES_OF_KIND.get(resource.kind, {resource.kind})))}; "
        f"to serve them, install the Gateway API CRDs (standard channel, {GATEWAY_API_RELEASE}): "
        f"{GATEWAY_API_INSTALL} and restart the operator"
    )
