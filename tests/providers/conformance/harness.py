"""What the conformance suite needs from each provider's fake: one Harness per provider.

A harness builds the provider through its entry point (as the operator does), counts the
mutating calls the provider makes, reads back what the Gateway owns independently of the
provider's code, plants resources that are not ours, and injects the cloud's refusals and
lost answers. Adding a cloud means adding a harness here and a line in conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from portico.ir import Backend, GatewayIR, HeaderMatch, Match, MatchType, ObjectKey, PathMatch, Rule
from portico.provider import AnyProvider
from tests.providers.irs import GATEWAY, backend, gateway, listener, rule


class Harness(Protocol):
    name: str
    provider: AnyProvider
    # A user string that spells a reference to one of this provider's resource ids.
    token_shaped: str

    def ir(self, rules: tuple[Rule, ...] | None = None) -> GatewayIR: ...

    def user_rules(self, value: str) -> tuple[Rule, ...]:
        """Two rules this data plane programs, one carrying the user string `value` (a header match
        where the data plane has them, else a header it sets)."""
        ...

    def mutations(self) -> int:
        """Mutating calls the provider made so far."""
        ...

    def owned(self) -> list[str]:
        """The resource id of every cloud resource carrying this Gateway's marks (duplicates kept)."""
        ...

    def plant_foreign(self, ir: GatewayIR) -> Callable[[], Any]:
        """Create resources that are not ours (no marker, another owner's marker, a name we would
        use); return a reader of their current state."""
        ...

    def lose_next_create_answer(self) -> None:
        """The next create takes effect, but the provider is told it failed."""
        ...

    def refuse_next_mutation(self) -> None:
        """The next mutating call is refused the way this cloud refuses work it cannot do yet."""
        ...

    def start_pending(self) -> None:
        """From now on the data plane takes time to become ready."""
        ...

    def finish_pending(self) -> None:
        """The data plane becomes ready."""
        ...

    def state_text(self) -> str:
        """Everything the fake holds, as text (for user data that must arrive verbatim)."""
        ...


def web() -> Backend:
    return backend("web", ips=("10.0.1.10", "10.0.1.11"))


def default_rules(header_value: str = "beta") -> tuple[Rule, ...]:
    beta = Match(
        path=PathMatch(type=MatchType.PATH_PREFIX, value="/api"),
        headers=(HeaderMatch(type=MatchType.EXACT, name="x-track", value=header_value),),
    )
    return (rule("shop", 0, match=beta, backends=(web(),)), rule("shop", 1, backends=(web(),)))


def unsupported_by_aws() -> Rule:
    regex = Match(path=PathMatch(type=MatchType.REGULAR_EXPRESSION, value="/v[0-9]+/.*"))
    return rule("shop", 2, match=regex, backends=(web(),))


def invalid_backend_rule() -> Rule:
    missing = backend("missing", ips=()).model_copy(update={"invalid_reason": "BackendNotFound"})
    return rule("shop", 3, path="/missing", backends=(missing,))


def gateway_ir(controller: str, rules: tuple[Rule, ...], params: dict[str, Any] | None = None) -> GatewayIR:
    return gateway(listener(rules=rules), params=params, controller=controller)


__all__ = ["GATEWAY", "Harness", "ObjectKey", "default_rules", "gateway_ir", "invalid_backend_rule"]
