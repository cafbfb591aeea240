"""The `azure-appgw` provider on the kit: one Application Gateway v2 (and its public IP) per Gateway.

read() finds Portico's two resources by their deterministic names and claims them by the kit's tag
ownership; build() is pure; the kit's diff plans them, comparing with Azure's canonical form
(`model.same`, so a no-op makes zero PUTs); the handlers make at most one PUT per resource and never
wait for an operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from portico.ir import GatewayIR, ObjectKey
from portico.provider import Address, Capabilities, Provider, ProviderContext
from portico_providers.azure_appgw.arm import APPGW, PIP, Arm
from portico_providers.azure_appgw.build import DesiredGateway, build
from portico_providers.azure_appgw.errors import AzureErrors
from portico_providers.azure_appgw.handlers import ResourceHandler, state_of
from portico_providers.azure_appgw.layout import check_rules
from portico_providers.azure_appgw.model import GATEWAY, KINDS, PUBLIC_IP, READY, ResourceSpec
from portico_providers.azure_appgw.naming import (
    CLUSTER_TAG,
    GATEWAY_TAG,
    RESOURCE_TAG,
    gateway_name,
    public_ip_name,
)
from portico_providers.azure_appgw.params import SECTION, AppGwParameters
from portico_providers.kit.cloud_plan import CloudPlan
from portico_providers.kit.execute import ErrorClassifier, Execution, KindHandler
from portico_providers.kit.flow import Built, CloudProvider, ObservedState
from portico_providers.kit.ownership import Marks, TagKeys, TagOwnership, claimed_id
from portico_providers.kit.resources import Desired, Observed

NAME = "azure-appgw"
FEATURES = frozenset(
    {
        "Gateway",
        "ReferenceGrant",
        "HTTPRoute",
        "HTTPRouteHostRewrite",
        "HTTPRoutePathRewrite",
        "HTTPRouteSchemeRedirect",
        "HTTPRoutePortRedirect",
        "HTTPRoutePathRedirect",
        "HTTPRouteResponseHeaderModification",
        "HTTPRouteRequestTimeout",
        "HTTPRouteBackendTimeout",
        "HTTPRouteNamedRouteRule",
    }
)
TAG_KEYS = TagKeys(cluster=CLUSTER_TAG, gateway=GATEWAY_TAG, resource=RESOURCE_TAG)
OFFLINE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
OFFLINE_GROUP = "resource-group"
UNCONFIGURED = (
    "the operator has no Azure subscription or resource group: run it with --azure-subscription-id and "
    "--azure-resource-group (chart values azure.subscriptionId and azure.resourceGroup)"
)


@dataclass(frozen=True)
class Facts:
    foreign: tuple[str, ...] = ()  # resources with Portico's names but without this Gateway's tags


class AppGwProvider(CloudProvider[TagOwnership]):
    name = NAME
    kinds = KINDS
    id_label: ClassVar[str] = "resource_id"
    account: ClassVar[str] = "the Azure subscription"

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.arm = Arm(context.options)
        self.operations: dict[str, str] = {}
        self._errors = AzureErrors()

    def capabilities(self) -> Capabilities:
        return Capabilities(features=FEATURES, route_kinds=frozenset({"HTTPRoute"}), check_rules=check_rules)

    def ownership(self, gateway: ObjectKey) -> TagOwnership:
        """The kit's tag scheme with ARM-legal keys (`portico.dev.cluster`: ARM tag names have no `/`)."""
        return TagOwnership(self.context.cluster_id, gateway, TAG_KEYS)

    @property
    def classifier(self) -> ErrorClassifier:
        return self._errors

    def mutation_count(self) -> int:
        return self.arm.mutations

    def read(self, gateway: ObjectKey) -> ObservedState:
        ownership = self.ownership(gateway)
        if not self.arm.subscription or not self.arm.resource_group:
            return ObservedState(ownership, error=UNCONFIGURED)
        cluster = self.context.cluster_id
        found: list[Observed] = []
        foreign: list[str] = []
        for kind, collection, name in (
            (PUBLIC_IP, PIP, public_ip_name(cluster, gateway)),
            (GATEWAY, APPGW, gateway_name(cluster, gateway)),
        ):
            resource = self.arm.get(collection, name)
            if resource is None:
                continue
            tags = dict(resource.get("tags") or {})
            marks = Marks(tags=tags)
            if claimed_id(ownership, marks) != kind:
                foreign.append(f"{collection}/{name}")
                continue
            user = {k: v for k, v in tags.items() if k not in (CLUSTER_TAG, GATEWAY_TAG, RESOURCE_TAG)}
            body = {k: v for k, v in resource.items() if k not in ("tags", "id", "name", "type", "etag")}
            spec = ResourceSpec(name=name, state=_state(kind, resource), body=body, tags=user)
            found.append(Observed(kind, kind, str(resource.get("id", "")), spec, {"body": resource}, marks))
        return ObservedState(ownership, tuple(found), facts=Facts(tuple(foreign)))

    def build(self, ir: GatewayIR, ownership: TagOwnership, seen: ObservedState | None) -> Built | list[str]:
        facts = seen.facts if seen is not None and isinstance(seen.facts, Facts) else Facts()
        if facts.foreign:
            return [f"{name} exists without this Gateway's ownership tags; it is left alone" for name in facts.foreign]
        params = _parameters(ir)
        if isinstance(params, list):
            return params
        subscription = self.arm.subscription or OFFLINE_SUBSCRIPTION
        group = self.arm.resource_group or OFFLINE_GROUP
        desired = build(ir, params, self.context.cluster_id, subscription, group)
        if isinstance(desired, list):
            return desired
        return _built(desired, params)

    def handlers(self, ownership: TagOwnership) -> Mapping[str, KindHandler]:
        return {kind: ResourceHandler(self.arm, kind, ownership, self.operations) for kind in (PUBLIC_IP, GATEWAY)}

    def addresses(self, plan: CloudPlan, run: Execution) -> tuple[Address, ...]:
        gateway = next((d for d in plan.desired if d.kind == GATEWAY), None)
        if gateway is None:
            return ()
        frontends = gateway.spec.model_dump()["body"]["properties"]["frontendIPConfigurations"]
        out: list[Address] = []
        for frontend in frontends:
            props = frontend["properties"]
            if "publicIPAddress" in props:
                parts = props["publicIPAddress"]["id"].split("/")
                found = self.arm.get_by_group(PIP, parts[4], parts[-1])
                ip = ((found or {}).get("properties") or {}).get("ipAddress")
                out += [("IPAddress", str(ip))] if ip else []
            elif props.get("privateIPAddress"):
                out.append(("IPAddress", str(props["privateIPAddress"])))
        return tuple(out)


def _state(kind: str, resource: Mapping[str, Any]) -> str:
    props = resource.get("properties") or {}
    if kind == GATEWAY:
        return f"{state_of(resource)}/{props.get('operationalState')}"
    return state_of(resource)


def _built(desired: DesiredGateway, params: AppGwParameters) -> Built:
    built = Built(notes=list(desired.notes))
    user = dict(params.tags)
    if desired.public_ip is not None and desired.public_ip_id:
        body = {k: v for k, v in desired.public_ip.items() if k != "tags"}
        name = desired.public_ip_id.rsplit("/", 1)[1]
        built.desired.append(
            Desired(PUBLIC_IP, PUBLIC_IP, ResourceSpec(name=name, state=READY[PUBLIC_IP], body=body, tags=user))
        )
    body = {k: v for k, v in desired.body.items() if k != "tags"}
    spec = ResourceSpec(name=desired.name, state=READY[GATEWAY], body=body, tags=user)
    built.desired.append(Desired(GATEWAY, GATEWAY, spec, secret=dict(desired.uploads)))
    return built


def _parameters(ir: GatewayIR) -> AppGwParameters | list[str]:
    from pydantic import ValidationError

    raw = ir.infrastructure.parameters.get(SECTION) or {}
    if not isinstance(raw, dict):
        return [f"spec.{SECTION}: must be an object, got {type(raw).__name__}"]
    try:
        return AppGwParameters.model_validate(raw)
    except ValidationError as error:
        return [f"spec.{SECTION}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}".rstrip(".") for e in error.errors()]


def create(context: ProviderContext) -> Provider[ObservedState, CloudPlan]:
    """Typed as the contract, so mypy checks AppGwProvider against Provider[ObservedState, CloudPlan]."""
    return AppGwProvider(context)
