"""Conformance harness for azure-appgw: the ARM fake over HTTPS, reached through the real SDK."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from portico.ir import GatewayIR, HeaderModifier, HeaderValue, RequestHeaderModifierFilter, Rule
from portico.provider import AnyProvider, ProviderContext, load_provider
from portico_providers.azure_appgw.naming import CLUSTER_TAG, GATEWAY_TAG, RESOURCE_TAG, gateway_name
from tests.irs import rule
from tests.providers.azure.arm_server import ArmFake
from tests.providers.azure.arm_state import Fault
from tests.providers.azure.conftest import GROUP
from tests.providers.conformance.harness import GATEWAY, gateway_ir, web

CLUSTER = "test-cluster"


class AzureHarness:
    name = "azure-appgw"

    def __init__(self, fake: ArmFake) -> None:
        self.fake = fake
        self.state = fake.state
        self.state.instant = True  # a fast cloud unless a test asks for pending work
        self.subnet = self.state.add_subnet(GROUP, "vnet-aks", "appgw")
        options = {**fake.provider_options(), "resource_group": GROUP}
        self.provider: AnyProvider = load_provider("azure-appgw", ProviderContext(cluster_id=CLUSTER, options=options))
        # User data spelled like a resource id of Portico's own (ARM references are resource ids).
        network = f"/subscriptions/{self.state.subscription}/resourceGroups/{GROUP}/providers/Microsoft.Network"
        self.token_shaped = f"{network}/applicationGateways/{gateway_name(CLUSTER, GATEWAY)}/backendAddressPools/x"

    def user_rules(self, value: str) -> tuple[Rule, ...]:
        """Header matches are rejected by Application Gateway; a header it sets carries user data instead."""
        tag = RequestHeaderModifierFilter(modifier=HeaderModifier(set=(HeaderValue(name="X-Track", value=value),)))
        return (rule("shop", 0, path="/api", backends=(web(),), filters=(tag,)), rule("shop", 1, backends=(web(),)))

    def ir(self, rules: tuple[Rule, ...] | None = None) -> GatewayIR:
        params = {"azure": {"location": self.state.location, "subnetId": self.subnet}}
        return gateway_ir("portico.dev/azure-appgw", self.user_rules("beta") if rules is None else rules, params)

    def mutations(self) -> int:
        return self.state.mutating_requests

    def owned(self) -> list[str]:
        found = []
        for resource in self.state.resources.values():
            tags = resource.get("tags") or {}
            if tags.get(CLUSTER_TAG) == CLUSTER and tags.get(GATEWAY_TAG) == str(GATEWAY):
                found.append(tags.get(RESOURCE_TAG, ""))
        return sorted(found)

    def plant_foreign(self, ir: GatewayIR) -> Callable[[], Any]:
        network = f"/subscriptions/{self.state.subscription}/resourceGroups/{GROUP}/providers/Microsoft.Network"
        planted = []
        for kind, name, tags in (
            ("applicationGateways", gateway_name(CLUSTER, GATEWAY), {}),  # the name Portico would use, untagged
            ("publicIPAddresses", "someone-elses", {CLUSTER_TAG: "other-cluster", GATEWAY_TAG: str(GATEWAY)}),
        ):
            rid = f"{network}/{kind}/{name}"
            self.state.resources[rid.lower()] = {
                "id": rid,
                "name": name,
                "type": f"Microsoft.Network/{kind}",
                "etag": 'W/"planted"',
                "location": self.state.location,
                "tags": tags,
                "properties": {"provisioningState": "Succeeded"},
            }
            planted.append(rid.lower())

        def read() -> Any:
            return json.dumps([copy.deepcopy(self.state.resources.get(rid)) for rid in planted], sort_keys=True)

        return read

    def lose_next_create_answer(self) -> None:
        self.state.faults.append(Fault("PUT", "/", lost=True))

    def refuse_next_mutation(self) -> None:
        self.state.faults.append(Fault("WRITE", "/", 409, code="AnotherOperationInProgress"))

    def start_pending(self) -> None:
        self.state.instant = False

    def finish_pending(self) -> None:
        self.state.settle()
        self.state.instant = True

    def state_text(self) -> str:
        return json.dumps(list(self.state.resources.values()), sort_keys=True)
