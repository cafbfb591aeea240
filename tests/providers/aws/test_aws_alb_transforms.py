"""HTTPRoute URLRewrite programmed as ALB rule transforms: the rewrite semantics against Portico's
proxy (the oracle), the rules ALB cannot express, and the transforms kept in sync on moto made to
keep them (`strict_transforms`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portico.api import build_snapshot
from portico.cli.status import status_list
from portico.ir import PathModifier, PathModifierType, Rule, URLRewriteFilter
from portico.manifests import load_manifests
from portico.provider import load_capabilities, load_provider
from portico.translate import translate
from portico_providers.aws_alb.model import Action, RuleSpec, WeightedTargetGroup
from portico_providers.aws_alb.provider import AlbProvider
from portico_providers.aws_alb.rules import check_rules, shape_of
from portico_providers.aws_common.clients import CallCounter, is_mutating
from portico_providers.kit.references import ref
from portico_proxy.filters import CompiledPathModifier
from tests.irs import backend, gateway, listener, rule
from tests.providers.aws.alb_evaluator import Request, condition_matches, transformed
from tests.providers.aws.conftest import Account
from tests.providers.aws.state import alb_state, context
from tests.providers.aws.test_aws_refusals import delete_until_finished
from tests.replace_prefix_cases import SPEC_TABLE

PREFIX = PathModifierType.REPLACE_PREFIX_MATCH
FULL = PathModifierType.REPLACE_FULL_PATH


def rewriting(prefix: str, rewrite: URLRewriteFilter, route: str = "shop") -> Rule:
    return rule(route, path=prefix, backends=(backend("web", ips=("10.0.1.10",)),), filters=(rewrite,))


def prefix_rewrite(prefix: str, replacement: str, hostname: str | None = None) -> URLRewriteFilter:
    return URLRewriteFilter(hostname=hostname, path=PathModifier(type=PREFIX, value=replacement, matched_prefix=prefix))


FORWARD = Action(type="forward", forward=(WeightedTargetGroup(target_group=ref("tg"), weight=1),))


def alb_rule(item: Rule) -> RuleSpec:
    shape = shape_of(item, listener())
    conditions, transforms = shape.variants[0], shape.transforms
    return RuleSpec(
        listener=ref("listener:80"), priority=1, conditions=conditions, action=FORWARD, transforms=transforms
    )


def proxy_sends(rewrite: URLRewriteFilter, request: Request) -> tuple[str, str]:
    """What Portico's proxy sends upstream for `request` (exchange_support.filtered_request)."""
    path = CompiledPathModifier(rewrite.path).apply(request.path.encode()).decode() if rewrite.path else request.path
    return rewrite.hostname or request.host, path + (f"?{request.query}" if request.query else "")


def alb_sends(item: Rule, request: Request) -> tuple[str, str]:
    spec = alb_rule(item)
    assert all(condition_matches(c, request) for c in spec.conditions), "the request does not reach this rule"
    first, every = transformed(spec, request), transformed(spec, request, every_match=True)
    assert first == every, "the expression would rewrite differently if ALB replaced every match"
    return first


# The spec's ReplacePrefixMatch table (HTTPPathModifier godoc), plus the query string and the host.
@pytest.mark.parametrize(
    ("path", "prefix", "replacement", "expected"),
    [*SPEC_TABLE, ("/foo/x", "/foo", "/", "/x"), ("/foo/x/y", "/", "/bar", "/bar/foo/x/y")],
)
def test_replace_prefix_match_follows_the_spec_table(path: str, prefix: str, replacement: str, expected: str) -> None:
    item = rewriting(prefix, prefix_rewrite(prefix, replacement, hostname="internal.example.com"))
    request = Request(host="shop.example.com:8080", path=path, query="a=1&b=/c?d")
    assert alb_sends(item, request) == ("internal.example.com", f"{expected}?a=1&b=/c?d")


def test_replace_full_path_keeps_the_query_string() -> None:
    rewrite = URLRewriteFilter(path=PathModifier(type=FULL, value="/v2/index.html"))
    item = rewriting("/old", rewrite)
    assert alb_sends(item, Request(host="a.example.com", path="/old/x", query="q=1")) == (
        "a.example.com",
        "/v2/index.html?q=1",
    )
    assert alb_sends(item, Request(host="a.example.com", path="/old")) == ("a.example.com", "/v2/index.html")


# Characters a Gateway API path may hold (no `*`, an ALB wildcard, nor `$`/`\` in replacements).
PATH_CHARS = "abcXYZ019-._~!&'()+,;=:@%"
segment = st.text(alphabet=PATH_CHARS + "$", min_size=1, max_size=6)
replacement_segment = st.text(alphabet=PATH_CHARS, min_size=1, max_size=6)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Rule, URLRewriteFilter, Request]:
    prefix = "/" + "/".join(draw(st.lists(segment, max_size=3))) + draw(st.sampled_from(["", "/"]))
    prefix = prefix if prefix != "//" else "/"
    stem = prefix.rstrip("/")
    rest = draw(st.sampled_from(["", "/"])) + "/".join(
        draw(st.lists(st.text(PATH_CHARS + "$/", max_size=5), max_size=3))
    )
    path = stem + (rest if rest.startswith("/") else "/" + rest) if stem and rest else (stem or "/" + rest.lstrip("/"))
    words = draw(st.lists(replacement_segment, max_size=3))
    value = draw(st.sampled_from(["/", ""])) + "/".join(words) + draw(st.sampled_from(["", "/"]))
    if draw(st.booleans()):
        modifier = PathModifier(type=PREFIX, value=value, matched_prefix=prefix)
    else:
        modifier = PathModifier(type=FULL, value="/" + value.lstrip("/") if value else "")
    hostname = draw(st.sampled_from([None, "internal.example.com"]))
    query = draw(st.sampled_from(["", "a=1", "x=/y?z&w=$1"]))
    rewrite = URLRewriteFilter(hostname=hostname, path=modifier)
    return rewriting(prefix, rewrite), rewrite, Request(host="shop.example.com", path=path, query=query)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_alb_transforms_rewrite_as_the_proxy_does(case: tuple[Rule, URLRewriteFilter, Request]) -> None:
    item, rewrite, request = case
    assert alb_sends(item, request) == proxy_sends(rewrite, request)


def test_rewrites_alb_cannot_express_are_rejected_per_rule() -> None:
    rules = (
        rewriting("/ok", prefix_rewrite("/ok", "/fine", hostname="internal.example.com"), route="ok"),
        rewriting("/dollar", prefix_rewrite("/dollar", "/a$1"), route="dollar"),
        rewriting("/rel", URLRewriteFilter(path=PathModifier(type=FULL, value="relative")), route="rel"),
        rewriting("/noprefix", URLRewriteFilter(path=PathModifier(type=PREFIX, value="/x")), route="noprefix"),
        rewriting("/long", prefix_rewrite("/long", "/" + "a" * 1024), route="long"),
    )
    rejected = {rid.split("/")[2]: message for rid, message in check_rules([listener(rules=rules)]).items()}
    assert set(rejected) == {"dollar", "rel", "noprefix", "long"}
    assert "contains '$'" in rejected["dollar"]
    assert "does not start with '/'" in rejected["rel"]
    assert "without the rule's PathPrefix match" in rejected["noprefix"]
    assert "ALB allows 1024" in rejected["long"]


def _transforms(account: Account) -> list[list[dict[str, object]]]:
    return [r.get("Transforms", []) for r in alb_state(account.session).rules if not r["IsDefault"]]


def test_url_rewrite_is_programmed_and_kept_in_sync(account: Account) -> None:
    counter = CallCounter()
    alb = load_provider("aws-alb", context(account.session, counter))
    assert isinstance(alb, AlbProvider)

    def reconcile(rewrite: URLRewriteFilter | None) -> list[str]:
        """The mutating calls one reconcile of the Gateway with `rewrite` on /shop makes."""
        filters = (rewrite,) if rewrite else ()
        item = rule("shop", path="/shop", backends=(backend("web", ips=("10.0.1.10",)),), filters=filters)
        before = len(counter.calls)
        result = alb.reconcile(gateway(listener(rules=(item,))))
        assert result.programmed and not result.refused_rules, result.message
        return [op for _, op in counter.calls[before:] if is_mutating(op)]

    reconcile(prefix_rewrite("/shop", "/", hostname="internal.example.com"))
    assert _transforms(account) == [
        [
            {
                "Type": "host-header-rewrite",
                "HostHeaderRewriteConfig": {"Rewrites": [{"Regex": "^.*$", "Replace": "internal.example.com"}]},
            },
            {
                "Type": "url-rewrite",
                "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/shop/?([^?]*)(.*)$", "Replace": "/$1$2"}]},
            },
        ]
    ]
    assert reconcile(prefix_rewrite("/shop", "/", hostname="internal.example.com")) == []
    assert reconcile(prefix_rewrite("/shop", "/store")) == ["ModifyRule"]
    assert _transforms(account) == [
        [
            {
                "Type": "url-rewrite",
                "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/shop([^?]*)(.*)$", "Replace": "/store$1$2"}]},
            }
        ]
    ]
    assert reconcile(prefix_rewrite("/shop", "/store")) == []
    assert reconcile(None) == ["ModifyRule"]  # ResetTransforms
    assert _transforms(account) == [[]]
    assert reconcile(None) == []
    delete_until_finished(alb)
    assert alb_state(account.session).balancers == []


def test_translation_accepts_what_alb_rewrites_and_names_what_it_cannot() -> None:
    """Through translation with the ALB's capabilities (HTTPRouteHostRewrite, HTTPRoutePathRewrite)."""
    manifests = load_manifests([Path(__file__).with_name("url-rewrite.yaml")])
    capabilities = {"portico.dev/aws-alb": load_capabilities("aws-alb")}
    result = translate(build_snapshot([m.obj for m in manifests]), capabilities)
    [route] = [i for i in status_list(manifests, result)["items"] if i["kind"] == "HTTPRoute"]
    conditions = {c["type"]: c for c in route["status"]["parents"][0]["conditions"]}
    assert conditions["Accepted"]["status"] == "True"
    dropped = conditions["PartiallyInvalid"]
    assert (dropped["status"], dropped["reason"]) == ("True", "UnsupportedValue")
    assert "spec.rules[1]: ReplacePrefixMatch '/$1' contains '$'" in dropped["message"]
    assert "spec.rules[0]" not in dropped["message"]
    plan = load_provider("aws-alb").plan(result.ir_by_gateway[("shop", "web")], None).to_document()
    transforms = [s["spec"].get("transforms") for s in plan["steps"] if s["kind"] == "rule"]
    assert transforms == [
        [
            {"type": "host-header-rewrite", "regex": "^.*$", "replace": "api.internal"},
            {"type": "url-rewrite", "regex": "^/api/?([^?]*)(.*)$", "replace": "/$1$2"},
        ]
    ]
