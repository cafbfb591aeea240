"""moto made to keep and check listener rule Transforms as the elbv2 model and the ALB guide
describe them (`strict_transforms`): what the URLRewrite tests rely on."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from portico.provider import load_provider
from portico_providers.aws_alb.provider import AlbProvider
from portico_providers.aws_common.clients import CallCounter
from tests.irs import backend, gateway, listener, rule
from tests.providers.aws.conftest import Account
from tests.providers.aws.state import alb_state, context
from tests.providers.aws.strict_transforms import unsupported_feature

FIXED = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
ANY_PATH = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]


def url_rewrite(regex: str, replace: str, count: int = 1) -> dict[str, Any]:
    return {"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": regex, "Replace": replace}] * count}}


def host_rewrite(replace: str) -> dict[str, Any]:
    return {
        "Type": "host-header-rewrite",
        "HostHeaderRewriteConfig": {"Rewrites": [{"Regex": "^.*$", "Replace": replace}]},
    }


@pytest.fixture
def listener_arn(account: Account) -> str:
    alb = load_provider("aws-alb", context(account.session, CallCounter()))
    assert isinstance(alb, AlbProvider)
    assert alb.reconcile(gateway(listener(rules=(rule("one", path="/one", backends=(backend("web"),)),)))).programmed
    arn: str = alb_state(account.session).listeners[0]["ListenerArn"]
    return arn


def transforms_of(account: Account, rule_arn: str) -> list[dict[str, Any]]:
    [found] = account.client("elbv2").describe_rules(RuleArns=[rule_arn])["Rules"]
    return list(found.get("Transforms", []))


def test_transforms_are_kept_replaced_and_reset(account: Account, listener_arn: str) -> None:
    elbv2 = account.client("elbv2")
    both = [url_rewrite("^/a([^?]*)(.*)$", "/b$1$2"), host_rewrite("internal.example.com")]
    created = elbv2.create_rule(
        ListenerArn=listener_arn, Priority=900, Conditions=ANY_PATH, Actions=FIXED, Transforms=both
    )["Rules"][0]
    assert created["Transforms"] == both
    arn = created["RuleArn"]
    assert transforms_of(account, arn) == both
    # Conditions and actions alone leave the transforms as they are.
    elbv2.modify_rule(RuleArn=arn, Conditions=ANY_PATH, Actions=FIXED)
    assert transforms_of(account, arn) == both
    elbv2.modify_rule(RuleArn=arn, Transforms=both[:1])
    assert transforms_of(account, arn) == both[:1]
    elbv2.modify_rule(RuleArn=arn, ResetTransforms=True)
    assert transforms_of(account, arn) == []


@pytest.mark.parametrize(
    ("transforms", "message"),
    [
        ([url_rewrite("^/a$", "/b"), url_rewrite("^/c$", "/d")], "only one 'url-rewrite'"),
        ([url_rewrite("^/a$", "/b", count=2)], "exactly one rewrite"),
        ([url_rewrite("^/a$", "/b", count=0)], "exactly one rewrite"),
        ([{"Type": "url-rewrite", "HostHeaderRewriteConfig": {"Rewrites": [{"Regex": "a", "Replace": "b"}]}}], "own"),
        ([{"Type": "path-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "a", "Replace": "b"}]}}], "not valid"),
        ([url_rewrite("^/" + "a" * 1023, "/b")], "1 to 1024"),
        ([url_rewrite("^/a$", "/" + "b" * 1024)], "1 to 1024"),
        ([url_rewrite("", "/b")], "1 to 1024"),
        ([url_rewrite("^/(?=a)", "/b")], "lookaheads"),
        ([url_rewrite("^/(a)\\1$", "/b")], "backreferences"),
        ([url_rewrite("^/\\p{L}+$", "/b")], "Unicode character classes"),
        ([url_rewrite("^/a*+$", "/b")], "possessive quantifiers"),
        ([url_rewrite("^/(a$", "/b")], "not a valid regular expression"),
    ],
)
def test_transforms_aws_refuses_are_refused(
    account: Account, listener_arn: str, transforms: list[dict[str, Any]], message: str
) -> None:
    elbv2 = account.client("elbv2")
    with pytest.raises(ClientError) as refused:
        elbv2.create_rule(
            ListenerArn=listener_arn, Priority=901, Conditions=ANY_PATH, Actions=FIXED, Transforms=transforms
        )
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert message in str(refused.value)
    assert all(r["Priority"] != "901" for r in alb_state(account.session).rules), "a refused rule was created"


def test_modify_rule_refuses_transforms_with_reset_and_on_the_default_rule(account: Account, listener_arn: str) -> None:
    elbv2 = account.client("elbv2")
    rules = alb_state(account.session).rules
    arn = next(r["RuleArn"] for r in rules if not r["IsDefault"])
    with pytest.raises(ClientError, match="both Transforms and ResetTransforms"):
        elbv2.modify_rule(RuleArn=arn, Transforms=[url_rewrite("^/a$", "/b")], ResetTransforms=True)
    default = next(r["RuleArn"] for r in rules if r["IsDefault"])
    with pytest.raises(ClientError, match="default rule"):
        elbv2.modify_rule(RuleArn=default, Transforms=[url_rewrite("^/a$", "/b")])


@pytest.mark.parametrize(
    ("regex", "feature"),
    [
        ("^/a(?!b)", "lookaheads"),
        ("(?<=a)b", "lookbehinds"),
        ("(?>ab)", "atomic groups"),
        ("(a)(?1)", "subroutines"),
        ("\\k<name>", "backreferences"),
        ("a{2}+", "possessive quantifiers"),
        ("[\\]1]+", None),  # a class: the escaped ] and the 1 are literal
        ("a\\+\\1", "backreferences"),
        ("\\\\1", None),  # an escaped backslash, then a literal 1
        ("^(?:/v[0-9]+)([^?]*)(.*)$", None),
    ],
)
def test_unsupported_regex_features_are_found(regex: str, feature: str | None) -> None:
    assert unsupported_feature(regex) == feature
