"""Portico's own proxy as a provider: per Gateway a ConfigMap (the IR), a Deployment running
`portico proxy`, and a Service. In `local` mode (`portico demo`) the proxy runs in-process.
No SDK: it talks to Kubernetes through the operator's client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.provider import AnyProvider, Capabilities, Provider, ProviderContext, ProviderSpec
from portico_providers.proxy.params import SECTION, ProxyParameters

if TYPE_CHECKING:
    from portico.ir import GatewayIR
    from portico_providers.proxy.plan import Observed, ProxyPlan


def make_provider(context: ProviderContext) -> AnyProvider:
    options = context.options
    if options.get("mode") == "local":
        from portico_providers.proxy.local import LocalProxyProvider

        local: Provider[GatewayIR | None, ProxyPlan] = LocalProxyProvider(options["runtime"], options["loop"])
        return local
    from portico_providers.proxy.objects import DEFAULT_IMAGE
    from portico_providers.proxy.provider import ProxyProvider

    # Typed as the contract, so mypy checks each proxy provider against Provider[ObservedT, PlanT].
    in_cluster: Provider[Observed, ProxyPlan] = ProxyProvider(
        options.get("kube"), str(options.get("image") or DEFAULT_IMAGE)
    )
    return in_cluster


def capabilities() -> Capabilities:
    """The in-cluster mode's, known without a Kubernetes client or the proxy's runtime (the local
    mode claims the same minus what needs a Deployment and Service: infrastructure, static addresses)."""
    from portico_providers.proxy.capabilities import CLUSTER_CAPABILITIES

    return CLUSTER_CAPABILITIES


SPEC = ProviderSpec(
    name="proxy", factory=make_provider, section=SECTION, parameters=ProxyParameters, capabilities=capabilities
)
