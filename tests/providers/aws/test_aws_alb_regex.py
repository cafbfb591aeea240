"""RegularExpression path and header matches programmed as ALB RegexValues, against moto made
to accept and keep them as the current elbv2 model does (`strict_moto`)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from portico.ir import HeaderMatch, Match, MatchType, PathMatch
from portico.provider import load_provider
from portico_providers.aws_alb.provider import AlbProvider
from portico_providers.aws_common.clients import CallCounter
from tests.irs import backend, gateway, listener, rule
from tests.providers.aws.conftest import Account
from tests.providers.aws.state import alb_state, context
from tests.providers.aws.test_aws_refusals import delete_until_finished


def regex_routes() -> Any:
    web = backend("web", ips=("10.0.1.10",))
    versioned = Match(path=PathMatch(type=MatchType.REGULAR_EXPRESSION, value="/v[0-9]+/.*"))
    canary = Match(
        path=PathMatch(type=MatchType.PATH_PREFIX, value="/shop"),
        headers=(HeaderMatch(type=MatchType.REGULAR_EXPRESSION, name="x-canary", value="on|yes"),),
    )
    return gateway(
        listener(rules=(rule("api", match=versioned, backends=(web,)), rule("shop", match=canary, backends=(web,))))
    )


def regexes(account: Account) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in alb_state(account.session).rules:
        for condition in item["Conditions"]:
            for key in ("PathPatternConfig", "HttpHeaderConfig"):
                found.setdefault(key, []).extend(condition.get(key, {}).get("RegexValues", []))
    return found


def test_regex_path_and_header_matches_are_programmed_anchored_and_stay_in_sync(account: Account) -> None:
    counter = CallCounter()
    alb = load_provider("aws-alb", context(account.session, counter))
    assert isinstance(alb, AlbProvider)
    result = alb.reconcile(regex_routes())
    assert result.programmed and not result.refused_rules, result.message
    assert regexes(account) == {
        "PathPatternConfig": ["^(?:/v[0-9]+/.*)$"],
        "HttpHeaderConfig": ["^(?:on|yes)$"],
    }
    # Observed RegexValues equal the desired ones: a second pass changes nothing.
    before = counter.mutations
    again = alb.reconcile(regex_routes())
    assert again.programmed, again.message
    assert counter.mutations == before
    delete_until_finished(alb)
    assert alb_state(account.session).balancers == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/" + "a" * 127]}}, "too long"),
        (
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a"], "RegexValues": ["^/a$"]}},
            "both Values and RegexValues",
        ),
        ({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "x", "RegexValues": list("abcd")}}, "'3'"),
    ],
)
def test_strict_moto_refuses_regex_values_as_aws_does(account: Account, config: dict[str, Any], message: str) -> None:
    elbv2 = account.session.client("elbv2")
    alb = load_provider("aws-alb", context(account.session, CallCounter()))
    assert isinstance(alb, AlbProvider)
    assert alb.reconcile(gateway(listener(rules=(rule("one", path="/one", backends=(backend("web"),)),)))).programmed
    listener_arn = alb_state(account.session).listeners[0]["ListenerArn"]
    action = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    with pytest.raises(ClientError) as refused:
        elbv2.create_rule(ListenerArn=listener_arn, Priority=900, Conditions=[config], Actions=action)
    assert message in str(refused.value)
