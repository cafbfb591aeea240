"""The provider contract and its loader.

Providers live in `portico_providers.<name>` and are found through the `portico.providers`
entry-point group. Only the provider a GatewayClass asks for is imported, so an AWS user
never imports the Azure SDK. The contract is a generic Protocol, `Provider[ObservedT, PlanT]`:
mypy checks each provider against it, and it is checked again at load time.
See docs/providers/writing-a-provider.md.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

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
    `check_rules_for`, when set, picks the check for one Gateway from its merged GatewayParameters
    spec (limits that depend on the kind of load balancer it becomes) and is used instead of `check_rules`.
    `check_parameters` is the provider's own validation of its GatewayParameters section, the one
    its plan applies; translation turns its messages into Accepted=False/InvalidParameters.
    `address_types` are the `spec.addresses` types it can honour (with GatewayStaticAddresses);
    translation answers any other with Accepted=False/UnsupportedAddress.
    """

    features: frozenset[str]
    route_kinds: frozenset[str] = frozenset({"HTTPRoute", "GRPCRoute"})
    listener_protocols: frozenset[str] = frozenset({"HTTP", "HTTPS"})
    check_rules: RulesCheck | None = None
    check_rules_for: Callable[[Mapping[str, Any]], RulesCheck] | None = None
    check_parameters: ParametersCheck | None = None
    address_types: frozenset[str] = frozenset({"IPAddress", "Hostname"})


class ApplyState(StrEnum):
    PROGRAMMED = "programmed"  # the data plane serves this Gateway as planned
    PENDING = "pending"  # cloud work is running; look again after `recheck_after`
    FAILED = "failed"  # the cloud refused or Portico cannot program it; `message` says why


Address = tuple[str, str]  # (type, value)


@dataclass(frozen=True)
class ApplyResult:
    """What the cloud says after apply: the Gateway's state, its addresses, what is running."""

    state: ApplyState = ApplyState.PROGRAMMED
    addresses: tuple[Address, ...] = ()
    message: str = ""  # pending: what is running; failed: the reason
    recheck_after: float | None = None  # pending: seconds until the next look (None: the operator's default)
    mutations: int = 0
    # IR rule id -> the cloud's reason it refused that rule (the rest of the Gateway is programmed);
    # the operator reports each on its route.
    refused_rules: Mapping[str, str] = field(default_factory=dict)
    # not programmed: the Programmed condition's reason when "Pending" would say less, e.g. the
    # spec's AddressNotAssigned / AddressNotUsable for a requested static address.
    reason: str = ""

    def with_refused_rules(self, refused: Mapping[str, str]) -> ApplyResult:
        return replace(self, refused_rules=dict(refused))

    @property
    def programmed(self) -> bool:
        return self.state is ApplyState.PROGRAMMED

    @classmethod
    def done(cls, addresses: tuple[Address, ...] = (), mutations: int = 0, message: str = "") -> ApplyResult:
        return cls(ApplyState.PROGRAMMED, addresses, message, None, mutations)

    @classmethod
    def pending(
        cls,
        running: str,
        recheck_after: float | None = None,
        addresses: tuple[Address, ...] = (),
        mutations: int = 0,
        reason: str = "",
    ) -> ApplyResult:
        return cls(ApplyState.PENDING, addresses, running, recheck_after, mutations, reason=reason)

    @classmethod
    def failed(cls, reason: str, addresses: tuple[Address, ...] = (), mutations: int = 0) -> ApplyResult:
        return cls(ApplyState.FAILED, addresses, reason, None, mutations)


@dataclass(frozen=True)
class DeleteResult:
    """What delete leaves behind. The operator keeps the Gateway's finalizer until `finished`."""

    remaining: tuple[str, ...] = ()  # what the provider still owns, e.g. "load-balancer arn:..."
    message: str = ""  # why it is not finished (a refusal, a running deletion)
    recheck_after: float | None = None
    mutations: int = 0

    @property
    def finished(self) -> bool:
        return not self.remaining and not self.message


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


ObservedT = TypeVar("ObservedT")
PlanT = TypeVar("PlanT", bound=Plan)


@runtime_checkable
class Provider(Protocol[ObservedT, PlanT]):
    """One per cloud plus `proxy`. Only `observe`, `apply` and `delete` do I/O.

    Expected cloud errors come back as results (`ApplyResult.failed`, `DeleteResult.message`);
    an exception out of a provider is a bug: the operator logs it with its traceback and counts it.
    """

    name: str

    def capabilities(self) -> Capabilities: ...

    def observe(self, gateway: ObjectKey) -> ObservedT:
        """Cloud resources owned by this Gateway, found by their ownership marks."""
        ...

    def plan(self, ir: GatewayIR | None, observed: ObservedT | None) -> PlanT:
        """Pure: steps that take `observed` to the state `ir` describes.

        `ir` None means delete everything owned. `observed` None means nothing is known of
        the cloud (the offline dry run of `portico plan`): plan every resource as a create,
        with cloud lookups left as named placeholders.
        """
        ...

    def apply(self, plan: PlanT) -> ApplyResult: ...

    def delete(self, gateway: ObjectKey) -> DeleteResult:
        """Remove what this Gateway owns; `finished` only when nothing owned remains."""
        ...


AnyProvider = Provider[Any, Any]
ProviderFactory = Callable[[ProviderContext], AnyProvider]


def reconcile_once(provider: Provider[ObservedT, PlanT], ir: GatewayIR) -> ApplyResult:
    """observe -> plan -> apply for one Gateway: the operator's path (and the conformance suite's)."""
    observed = provider.observe(ir.gateway)
    return provider.apply(provider.plan(ir, observed))


class ProviderUnavailable(Exception):
    """The provider is unknown or its SDK is not installed; the message says what to do."""


class Undeliverable(Exception):
    """The Gateway's configuration cannot reach its data plane as it is (e.g. it is too large).

    Retrying does not help until the Gateway or its routes change: the operator reports
    `Programmed=False` (reason `Invalid`) with the message and waits for the next change."""


@dataclass(frozen=True)
class ProviderSpec:
    """What an entry point points at: a factory, the modules it needs installed, and its
    parameters: the model of its `spec.<section>` of GatewayParameters (the CRD, the chart's
    values schema and docs/parameters.md are generated from these models)."""

    name: str
    factory: ProviderFactory
    requires: Sequence[str] = ()
    extra: str | None = None
    section: str | None = None
    parameters: type[BaseModel] | None = None
    # What translation needs of the provider, declared without building it (no SDK client, no
    # credentials): the offline commands read only this. None: ask a built provider.
    capabilities: Callable[[], Capabilities] | None = None


def available_providers() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def load_provider_spec(name: str, check_requirements: bool = True) -> ProviderSpec:
    """Import only the named provider's entry point and check what it needs."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(available_providers()) or "none"
        raise ProviderUnavailable(f"no provider named {name!r} is installed (installed: {known})")
    spec = matches[0].load()
    if not isinstance(spec, ProviderSpec):
        raise ProviderUnavailable(f"entry point {name!r} does not name a ProviderSpec")
    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None] if check_requirements else []
    if missing:
        hint = f"; install portico-gateway[{spec.extra}]" if spec.extra else ""
        raise ProviderUnavailable(f"provider {name!r} needs {', '.join(missing)}{hint}")
    return spec


def load_capabilities(name: str) -> Capabilities:
    """The named provider's capabilities, from its spec when it declares them (ProviderUnavailable as
    for `load_provider`: an offline command still says a provider's SDK is missing)."""
    spec = load_provider_spec(name)
    if spec.capabilities is not None:
        return spec.capabilities()
    return load_provider(name).capabilities()


def load_provider(name: str, context: ProviderContext | None = None) -> AnyProvider:
    """The named provider built from its spec; ProviderUnavailable says what is missing."""
    spec = load_provider_spec(name)
    provider = spec.factory(context or ProviderContext())
    if not isinstance(provider, Provider):
        raise ProviderUnavailable(f"provider {name!r} does not implement the Provider protocol")
    return provider
