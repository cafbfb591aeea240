"""What the in-cluster proxy provider claims beyond the proxy itself (`portico demo` and `portico
serve` run the same proxy in-process, without a Deployment or Service to carry these)."""

from __future__ import annotations

import dataclasses

from portico.provider import Capabilities
from portico_proxy.linear_regex import PROXY_CAPABILITIES

# spec.infrastructure labels/annotations reach the ConfigMap, Deployment (and its pods), Service
# and TLS Secret copies (objects.py); spec.addresses IPAddress values reach the Service
# (static_addresses.py); an IPAddress without a value gets the Service's own address
# (GatewayAddressEmpty). A Service has no notion of a hostname address.
CLUSTER_CAPABILITIES: Capabilities = dataclasses.replace(
    PROXY_CAPABILITIES,
    features=PROXY_CAPABILITIES.features
    | {"GatewayInfrastructurePropagation", "GatewayStaticAddresses", "GatewayAddressEmpty"},
    address_types=frozenset({"IPAddress"}),
)
