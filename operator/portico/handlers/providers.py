"""Providers by GatewayClass controllerName, loaded lazily and once; failures are remembered
as messages for the GatewayClass status instead of crashing the operator."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from portico.handlers.optional_kinds import without_kinds
from portico.provider import (
    AnyProvider,
    Capabilities,
    ProviderContext,
    ProviderUnavailable,
    load_provider,
    provider_name_for,
)

log = logging.getLogger("portico.providers")


class Providers:
    def __init__(self, context_for: Callable[[str], ProviderContext]) -> None:
        self._context_for = context_for
        self._loaded: dict[str, AnyProvider] = {}
        self._failed: dict[str, str] = {}
        # Route kinds whose CRDs the cluster lacks: no provider claims them (optional_kinds.py).
        self.absent_kinds: frozenset[str] = frozenset()

    def get(self, name: str) -> AnyProvider:
        """The provider named `name`; raises ProviderUnavailable with what to install."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._failed:
            raise ProviderUnavailable(self._failed[name])
        try:
            provider = load_provider(name, self._context_for(name))
        except ProviderUnavailable as error:
            self._failed[name] = str(error)
            log.warning("provider %s unavailable: %s", name, error)
            raise
        except Exception as error:  # a broken plugin must not take the operator down
            self._failed[name] = f"provider {name!r} failed to load: {error!r}"
            log.exception("provider %s failed to load", name)
            raise ProviderUnavailable(self._failed[name]) from error
        self._loaded[name] = provider
        return provider

    def for_controller(self, controller_name: str) -> AnyProvider:
        name = provider_name_for(controller_name)
        if name is None:
            raise ProviderUnavailable(f"controllerName {controller_name!r} is not a Portico controller")
        return self.get(name)

    def capabilities(self, controller_name: str) -> Mapping[str, Capabilities]:
        """{controllerName: capabilities} for translate, when the provider loads."""
        try:
            capabilities = self.for_controller(controller_name).capabilities()
            return {controller_name: without_kinds(capabilities, self.absent_kinds)}
        except ProviderUnavailable:
            return {}
