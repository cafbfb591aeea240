"""The provider contract and its loader.

Providers live in `portico_providers.<name>` and are found through the `portico.providers`
entry-point group. Only the provider a GatewayClass asks for is imported, so an AWS user
never imports the Azure SDK. The contract is checked with a runtime Protocol at load time.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from portico.ir import GatewayIR, Listener, ObjectKey

CONTROLLER_PREFIX = "portico.dev/"
ENTRY_POINT_GROUP = "portico.providers"


def provider_name_for(controller_name: str) -> str | None:
    """`portico.dev/aws-alb` -> `aws-alb`; None for controllers that are not Portico's."""
    if not controller_name.startswith(CONTROLLER_PREFIX):
        return None
    name = controller_name.removeprefix(CONTROLLER_PREFIX)
    return name or None


RulesCheck = Callable[[Sequence[Listener]], Mapping[str, str]]
# The Gateway's merged GatewayParameters spec -> one "spec.<field>: reason" message per problem.
ParametersCheck = Callable[[Mapping[str, Any]], Sequence[str]]


@dataclass(frozen=True)
class Capabilities:
    """What a provider can express. Translation rejects (UnsupportedValue) what it cannot.

    `features` are Gateway API SupportedFeature names (sorted into GatewayClass status).
    `check_rules` sees every listener of a Gateway with its rules in precedence order and
    returns {rule.id: message naming the limit} for the rules it cannot program (per-rule
    limits such as condition counts, and aggregate ones such as rules per load balancer).
    Translation drops exactly those route rules and reports them on their routes.
    `check_parameters` is the provider's own validation of its GatewayParameters section, the one
    its plan applies; translation turns its messages into Accepted=False/InvalidParameters.
    """

    features: frozenset[str]
    route_kinds: frozenset[str] = frozenset({"HTTPRoute", "GRPCRoute"})
    listener_protocols: frozenset[str] = frozenset({"HTTP", "HTTPS"})
    check_rules: RulesCheck | None = None
    check_parameters: ParametersCheck | None = None


@dataclass(frozen=True)
class ApplyResult:
    """What the cloud says after apply: the Gateway's addresses and whether it is live."""

    addresses: tuple[tuple[str, str], ...] = ()  # (type, value)
    programmed: bool = True
    message: str = ""
    mutations: int = 0


@dataclass(frozen=True)
class ProviderContext:
    """Everything a provider needs to be built: no globals, no environment sniffing inside."""

    cluster_id: str = "default"
    options: Mapping[str, Any] = field(default_factory=dict)


class Plan(Protocol):
    """A provider's plan: a diff between desired and observed cloud state."""

    def to_document(self) -> dict[str, Any]:
        """A YAML/JSON-friendly view users review before applying."""
        ...

    @property
    def is_empty(self) -> bool: ...


@runtime_checkable
class Provider(Protocol):
    """One per cloud plus `proxy`. Only `observe`, `apply` and `delete` do I/O."""

    name: str

    def capabilities(self) -> Capabilities: ...

    def observe(self, gateway: ObjectKey) -> Any:
        """Cloud resources owned by this Gateway, found by ownership tags."""
        ...

    def plan(self, ir: GatewayIR | None, observed: Any) -> Plan:
        """Pure: steps that take `observed` to the state `ir` describes.

        `ir` None means delete everything owned. `observed` None means nothing is known of
        the cloud (the offline dry run of `portico plan`): plan every resource as a create,
        with cloud lookups left as named placeholders.
        """
        ...

    def apply(self, plan: Plan) -> ApplyResult: ...

    def delete(self, gateway: ObjectKey) -> ApplyResult: ...


ProviderFactory = Callable[[ProviderContext], Provider]


class ProviderUnavailable(Exception):
    """The provider is unknown or its SDK is not installed; the message says what to do."""


@dataclass(frozen=True)
class ProviderSpec:
    """What an entry point points at: a factory plus the modules it needs installed."""

    name: str
    factory: ProviderFactory
    requires: Sequence[str] = ()
    extra: str | None = None


def available_providers() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_provider_spec(name: str) -> ProviderSpec:
    """Import only the named provider's entry point and check what it needs."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(available_providers()) or "none"
        raise ProviderUnavailable(f"no provider named {name!r} is installed (installed: {known})")
    spec = matches[0].load()
    if not isinstance(spec, ProviderSpec):
        raise ProviderUnavailable(f"entry point {name!r} does not name a ProviderSpec")
    missing = [module for module in spec.requires if importlib.util.find_spec(module) is None]
    if missing:
        hint = f"; install portico-gateway[{spec.extra}]" if spec.extra else ""
        raise ProviderUnavailable(f"provider {name!r} needs {', '.join(missing)}{hint}")
    return spec


def load_provider(name: str, context: ProviderContext | None = None) -> Provider:
    spec = load_provider_spec(name)
    provider = spec.factory(context or ProviderContext())
    if not isinstance(provider, Provider):
        raise ProviderUnavailable(f"provider {name!r} does not implement the Provider protocol")
    return provider
