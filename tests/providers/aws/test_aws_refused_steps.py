"""A step AWS refuses as invalid input does not hold the rest of the Gateway hostage.

The refusal is injected at the SDK (AWS validates more than moto does, and more than Portico can
check before calling): one route's rule is refused with a ValidationError; the routes after it
are still programmed, and the refused one is programmed once AWS accepts it.
"""

from __future__ import annotations

from typing import Any

from portico.ir import GatewayIR
from portico.provider import load_provider
from portico_providers.aws_alb.provider import AlbProvider
from portico_providers.aws_common.clients import CallCounter
from tests.irs import backend, gateway, listener, rule
from tests.providers.aws.conftest import Account
from tests.providers.aws.faults import client_error
from tests.providers.aws.state import alb_state, context
from tests.providers.aws.test_aws_refusals import delete_until_finished

REFUSED_PATH = "/refused-by-aws"


class RefuseOneRule:
    """AWS's answer to a rule whose value it does not accept, while `active`."""

    def __init__(self) -> None:
        self.active = True
        self.refused = 0

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        values = [v for c in params.get("Conditions", []) for v in c.get("PathPatternConfig", {}).get("Values", [])]
        if self.active and REFUSED_PATH in values:
            self.refused += 1
            error = client_error("ValidationError", 400, model.name)
            error.response["Error"]["Message"] = f"Condition value '{REFUSED_PATH}' is not valid"
            raise error


def two_routes() -> GatewayIR:
    web = backend("web", ips=("10.0.1.10",))
    api = backend("api", ips=("10.0.2.20",))
    # In precedence order: the refused route's rule comes first, the valid route's after it.
    rules = (rule("admin", path=REFUSED_PATH, backends=(web,)), rule("shop", path="/shop", backends=(api,)))
    return gateway(listener(rules=rules))


def paths(account: Account) -> list[str]:
    state = alb_state(account.session)
    found = [v for r in state.rules if not r["IsDefault"] for c in r["Conditions"] for v in c.get("Values", [])]
    found += [
        v
        for r in state.rules
        if not r["IsDefault"]
        for c in r["Conditions"]
        for v in c.get("PathPatternConfig", {}).get("Values", [])
    ]
    return sorted(set(found))


def test_a_rule_aws_refuses_does_not_stop_the_later_routes(account: Account) -> None:
    refuse = RefuseOneRule()
    hook = ("provide-client-params.elastic-load-balancing-v2.CreateRule", refuse)
    alb = load_provider("aws-alb", context(account.session, CallCounter(), hook))
    assert isinstance(alb, AlbProvider)
    result = alb.reconcile(two_routes())
    assert refuse.refused >= 1
    programmed = paths(account)
    assert "/shop" in programmed and REFUSED_PATH not in programmed
    said = " ".join([result.message, *result.refused_rules.values()])
    assert f"ValidationError: Condition value '{REFUSED_PATH}' is not valid" in said
    assert not result.programmed or result.refused_rules  # never silently "all programmed"
    refuse.active = False
    fixed = alb.reconcile(two_routes())
    assert fixed.programmed and not fixed.refused_rules, fixed.message
    assert REFUSED_PATH in paths(account) and "/shop" in paths(account)
    delete_until_finished(alb)
    assert alb_state(account.session).balancers == []
