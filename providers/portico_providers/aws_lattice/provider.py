"""The `aws-lattice` provider: a Gateway becomes a VPC Lattice service network with one service per route."""

from __future__ import annotations

from collections.abc import Mapping

from portico.ir import GatewayIR, ObjectKey
from portico.provider import Address, Capabilities, Provider, ProviderContext
from portico_providers.aws_common.acm import KIND as CERTIFICATE
from portico_providers.aws_common.acm import CertificateHandler
from portico_providers.aws_common.params import parse_section, section_problems
from portico_providers.aws_common.provider import AwsProvider
from portico_providers.aws_common.tags import Owner
from portico_providers.aws_lattice.build import LatticeLookups, build
from portico_providers.aws_lattice.handlers import (
    AuthPolicyHandler,
    ListenerHandler,
    RuleHandler,
    ServiceAssociationHandler,
    ServiceHandler,
    ServiceNetworkHandler,
    TargetGroupHandler,
    VpcAssociationHandler,
)
from portico_providers.aws_lattice.model import (
    AUTH_POLICY,
    KINDS,
    LISTENER,
    RULE,
    SERVICE,
    SERVICE_ASSOCIATION,
    SERVICE_NETWORK,
    TARGET_GROUP,
    VPC_ASSOCIATION,
)
from portico_providers.aws_lattice.observe import Networks, observe
from portico_providers.aws_lattice.params import SECTION, LatticeParameters
from portico_providers.aws_lattice.rules import LISTENERS_PER_SERVICE, RULES_PER_LISTENER, checker
from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.execute import Execution, KindHandler
from portico_providers.kit.flow import Built, ObservedState

NAME = "aws-lattice"
FEATURES = frozenset(
    {
        "Gateway",
        "ReferenceGrant",
        "HTTPRoute",
        "GRPCRoute",
        "GatewayPort8080",
        "HTTPRouteMethodMatching",
        "HTTPRouteNamedRouteRule",
        "GRPCRouteNamedRouteRule",
    }
)


class LatticeProvider(AwsProvider):
    name = NAME
    kinds = KINDS
    address_required = False  # a Gateway with no routes is a service network without services

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        # The account's quotas (adjustable in AWS); the defaults are Lattice's.
        self.rules_per_listener = int(context.options.get("lattice_rules_per_listener", RULES_PER_LISTENER))
        self.listeners_per_service = int(context.options.get("lattice_listeners_per_service", LISTENERS_PER_SERVICE))
        self._services: ServiceHandler | None = None

    def capabilities(self) -> Capabilities:
        return Capabilities(
            features=FEATURES,
            check_rules=checker(self.rules_per_listener, self.listeners_per_service),
            check_parameters=section_problems(LatticeParameters, SECTION),
        )

    def read(self, gateway: ObjectKey) -> ObservedState:
        return observe(self.clients, self.ownership(gateway))

    def build(self, ir: GatewayIR, owner: Owner, seen: ObservedState | None) -> Built | list[str]:
        params = parse_section(LatticeParameters, ir.infrastructure.parameters, SECTION)
        if isinstance(params, list):
            return params
        if not params.vpc_id:
            return [f"spec.{SECTION}.vpcId: required (the VPC of the pods and of the service network association)"]
        network = None
        if params.service_network:
            if seen is None:
                network = f"<lookup: service network {params.service_network}>"
            else:
                assert isinstance(seen.facts, Networks)
                network = seen.facts.arns.get(params.service_network)
                if network is None:
                    return [f"spec.{SECTION}.serviceNetwork: {params.service_network} not found"]
        lookups = LatticeLookups(vpc_id=params.vpc_id, service_network=network)
        return build(ir, params, lookups, owner, self.rules_per_listener, self.listeners_per_service)

    def handlers(self, owner: Owner) -> Mapping[str, KindHandler]:
        lattice = self.clients.client("vpc-lattice")
        self._services = ServiceHandler(lattice)
        return {
            CERTIFICATE: CertificateHandler(self.clients.client("acm"), owner),
            SERVICE_NETWORK: ServiceNetworkHandler(lattice),
            VPC_ASSOCIATION: VpcAssociationHandler(lattice),
            TARGET_GROUP: TargetGroupHandler(lattice),
            SERVICE: self._services,
            SERVICE_ASSOCIATION: ServiceAssociationHandler(lattice),
            LISTENER: ListenerHandler(lattice),
            RULE: RuleHandler(lattice),
            AUTH_POLICY: AuthPolicyHandler(lattice),
        }

    def addresses(self, plan: CloudPlan, run: Execution) -> tuple[Address, ...]:
        """One Hostname per Lattice service (each route has its own DNS name), sorted."""
        created = set(self._services.dns_names.values()) if self._services else set()
        wanted = {d.id for d in plan.desired if d.kind == SERVICE}
        dropped = {
            s.observed.extra.get("dns_name")
            for s in plan.steps
            if s.action == "delete" and s.kind == SERVICE and s.observed is not None
        }
        known = {value for _, value in plan.addresses} - dropped
        names = sorted(n for n in known | created if n) if wanted else []
        return tuple(("Hostname", name) for name in names)


def create(context: ProviderContext) -> Provider[ObservedState, CloudPlan]:
    """Typed as the contract, so mypy checks LatticeProvider against Provider[ObservedState, CloudPlan]."""
    return LatticeProvider(context)
