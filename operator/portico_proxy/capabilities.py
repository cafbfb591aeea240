"""What the proxy can program, for translation: every feature translation knows, a few of its own,
and RegularExpression matches only where RE2 compiles them. The control plane (the proxy provider and
`portico serve`) reads this; the data plane never imports it, nor the translator."""

from __future__ import annotations

import dataclasses

from portico.provider import Capabilities
from portico.translate import DEFAULT_CAPABILITIES
from portico_proxy.linear_regex import check_rules

# Beyond what translation claims for every provider: HTTP/1.1 Upgrade is tunnelled (tunnel.py), so
# backends with appProtocol kubernetes.io/ws work; HTTPS requests whose Host selects another listener
# than the connection's SNI get 421 (exchange.py); the Gateway's backend client certificate is
# presented on upstream TLS connections, verified ones included (upstream_tls.py); a port's TLS
# listeners may mix Passthrough with Terminate (and HTTPS): the SNI is read first (tls_mixed.py); HTTPS
# ports with Gateway spec.tls.frontend validation require a client certificate from its CAs (tls.py).
PROXY_FEATURES = DEFAULT_CAPABILITIES.features | {
    "TLSRouteModeMixed",
    "HTTPRouteBackendProtocolWebSocket",
    "GatewayHTTPSListenerDetectMisdirectedRequests",
    "GatewayBackendClientCertificate",
    "GatewayFrontendClientCertificateValidation",
}
PROXY_CAPABILITIES: Capabilities = dataclasses.replace(
    DEFAULT_CAPABILITIES, features=PROXY_FEATURES, check_rules=check_rules
)
