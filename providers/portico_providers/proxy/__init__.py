"""Portico's own proxy as a provider: per Gateway a ConfigMap (the IR), a Deployment running
`portico proxy`, and a Service. In `local` mode (`portico demo`) the proxy runs in-process.
No SDK: it talks to Kubernetes through the operator's client."""

from __future__ import annotations

from portico.provider import AnyProvider, ProviderContext, ProviderSpec
from portico_providers.proxy.objects import DEFAULT_IMAGE
from portico_providers.proxy.params import SECTION, ProxyParameters


def make_provider(context: ProviderContext) -> AnyProvider:
    options = context.options
    if options.get("mode") == "local":
        from portico_providers.proxy.local import LocalProxyProvider

        return LocalProxyProvider(options["runtime"], options["loop"])
    from portico_providers.proxy.provider import ProxyProvider

    return ProxyProvider(options.get("kube"), str(options.get("image") or DEFAULT_IMAGE))


SPEC = ProviderSpec(name="proxy", factory=make_provider, section=SECTION, parameters=ProxyParameters)
