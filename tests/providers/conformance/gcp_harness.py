"""Conformance harness for gcp-alb: the Compute fake over HTTP, driven through the real SDK."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from google.auth.credentials import AnonymousCredentials

from portico.ir import GatewayIR, Rule
from portico.provider import AnyProvider, ProviderContext, load_provider
from portico_providers.gcp_alb.naming import ComputeOwnership
from tests.providers.conformance.harness import GATEWAY, default_rules, gateway_ir
from tests.providers.gcp.conftest import PROJECT, ZONE
from tests.providers.gcp.fake_server import mutating_calls, serve
from tests.providers.gcp.fake_state import ComputeState

CLUSTER = "test-cluster"


@contextmanager
def compute_fake() -> Iterator[tuple[ComputeState, str]]:
    state = ComputeState(PROJECT, operation_polls=0)  # operations end at once unless a test starts pending work
    state.put(("global", "networks", "default"), {})
    with serve(state) as endpoint:
        yield state, endpoint


@contextmanager
def no_gcp_backoff() -> Iterator[None]:
    """Retries still happen; they just do not sleep."""
    with mock.patch("portico_providers.gcp_alb.compute.sleep"):
        yield


class GcpHarness:
    name = "gcp-alb"
    token_shaped = "${um-80}"

    def __init__(self, state: ComputeState, endpoint: str) -> None:
        self.state = state
        options = {"gcp_project": PROJECT, "gcp_endpoint": endpoint, "gcp_credentials": AnonymousCredentials()}
        self.provider: AnyProvider = load_provider("gcp-alb", ProviderContext(cluster_id=CLUSTER, options=options))
        self.owner = ComputeOwnership(CLUSTER, GATEWAY)

    def user_rules(self, value: str) -> tuple[Rule, ...]:
        return default_rules(header_value=value)

    def ir(self, rules: tuple[Rule, ...] | None = None) -> GatewayIR:
        rules = default_rules() if rules is None else rules
        return gateway_ir("portico.dev/gcp-alb", rules, params={"gcp": {"defaultZone": ZONE}})

    def mutations(self) -> int:
        return len(mutating_calls(self.state))

    def owned(self) -> list[str]:
        found = [
            self.owner.claim_in(scope, name, str(body.get("description", "")))
            for (scope, _, name), body in self.state.resources.items()
        ]
        return sorted(rid for rid in found if rid is not None)

    def plant_foreign(self, ir: GatewayIR) -> Callable[[], Any]:
        other = ComputeOwnership("other-cluster", GATEWAY)
        planted = {
            ("global", "healthChecks", "someone-elses"): {"description": "hand made", "type": "TCP"},
            ("global", "healthChecks", other.name("hc-0000000000")): {
                "description": other.marker("global", "hc-0000000000"),
                "type": "TCP",
            },
            # The name Portico wants for the URL map, without its marker.
            ("global", "urlMaps", self.owner.name("um-80")): {"description": "made by hand"},
        }
        for key, body in planted.items():
            self.state.put(key, body)

        def read() -> Any:
            return json.dumps([self.state.resources.get(key) for key in planted], sort_keys=True)

        return read

    def lose_next_create_answer(self) -> None:
        self.state.faults.lose_next_insert_answer = True

    def refuse_next_mutation(self) -> None:
        self.state.faults.refuse_next_change = True

    def start_pending(self) -> None:
        self.state.operation_polls = 2

    def finish_pending(self) -> None:
        self.state.operation_polls = 0
        self.state.settle()

    def state_text(self) -> str:
        return json.dumps({"/".join(key): body for key, body in self.state.resources.items()}, sort_keys=True)
