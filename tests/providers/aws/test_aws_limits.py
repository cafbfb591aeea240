"""Pure pieces: the ALB/Lattice limit checks, weight scaling, priority waves, the planner's diff."""

from __future__ import annotations

from pathlib import Path

from portico.ir import (
    HeaderMatch,
    HeaderModifier,
    ListenerProtocol,
    Match,
    MatchType,
    PathMatch,
    QueryParamMatch,
    RequestHeaderModifierFilter,
    RequestMirrorFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
)
from portico_providers.aws_alb.rules import check_rules
from portico_providers.aws_common.limits import MAX_WEIGHT
from portico_providers.kit.diff import diff
from portico_providers.kit.limits import priority_waves, scale_weights
from portico_providers.kit.references import Reference, ref
from portico_providers.kit.resources import Desired, KindRules, Observed, Spec
from tests.irs import backend, listener, rule


def test_alb_rejects_exactly_the_rules_it_cannot_express() -> None:
    six = tuple(backend(f"b{i}") for i in range(6))
    header = Match(
        path=PathMatch(type=MatchType.PATH_PREFIX, value="/h"),
        query_params=(QueryParamMatch(type=MatchType.REGULAR_EXPRESSION, name="x", value="a.*"),),
    )
    header_regex = Match(headers=(HeaderMatch(type=MatchType.REGULAR_EXPRESSION, name="x", value="a.*"),))
    path_regex = Match(path=PathMatch(type=MatchType.REGULAR_EXPRESSION, value="/v[0-9]+/.*"))
    long_regex = Match(path=PathMatch(type=MatchType.REGULAR_EXPRESSION, value="/" + "a" * 122))
    rules = (
        rule("ok", 0, path="/ok", backends=(backend("web"),)),
        rule("fan", 0, path="/fan", backends=six),
        rule("star", 0, path="/a*b", path_type=MatchType.EXACT, backends=(backend("web"),)),
        rule("regex", 0, match=header, backends=(backend("web"),)),
        rule("hregex", 0, match=header_regex, backends=(backend("web"),)),
        rule("pregex", 0, match=path_regex, backends=(backend("web"),)),
        rule("longregex", 0, match=long_regex, backends=(backend("web"),)),
        rule("r307", 0, path="/t", filters=(RequestRedirectFilter(status_code=307),)),
        rule("mod", 0, path="/m", filters=(RequestHeaderModifierFilter(modifier=HeaderModifier()),)),
        rule("resp", 0, path="/n", filters=(ResponseHeaderModifierFilter(modifier=HeaderModifier()),)),
        rule(
            "mirror", 0, path="/mi", filters=(RequestMirrorFilter(backend=backend("web")),), backends=(backend("web"),)
        ),
        rule("h2c", 0, path="/h2", backends=(backend("web", protocol="h2c"),)),
    )
    rejected = check_rules([listener(rules=rules)])
    by_route = {rid.split("/")[2]: message for rid, message in rejected.items()}
    assert set(by_route) == {"fan", "star", "regex", "longregex", "r307", "mod", "resp", "mirror", "h2c"}
    assert "5 target groups per rule" in by_route["fan"]
    assert "wildcards" in by_route["star"]
    assert "query parameter match 'x': ALB listener rules do not support RegularExpression" in by_route["regex"]
    assert "path regular expression (with the ^(?:...)$ anchors) is 129 characters" in by_route["longregex"]
    assert "301 or 302" in by_route["r307"]
    assert "RequestHeaderModifier" in by_route["mod"]
    assert "ResponseHeaderModifier" in by_route["resp"]
    assert "RequestMirror" in by_route["mirror"]
    assert "HTTPS listeners" in by_route["h2c"]


def test_alb_counts_100_rules_across_listeners_in_precedence_order() -> None:
    first = listener(rules=tuple(rule("a", i, path=f"/a{i}", backends=(backend("web"),)) for i in range(60)))
    second = listener(
        "other", 8080, rules=tuple(rule("b", i, path=f"/b{i}", backends=(backend("web"),)) for i in range(50))
    )
    rejected = check_rules([first, second])
    assert sorted(rejected) == sorted(r.id for r in second.rules[40:])
    assert all("100 rules per load balancer" in m for m in rejected.values())
    # An HTTPS listener is fine for the same rule that HTTP rejects for gRPC/h2c reasons only.
    assert check_rules([listener(protocol=ListenerProtocol.HTTPS, rules=first.rules[:3])]) == {}


def test_weights_scale_into_0_to_999_keeping_ratios() -> None:
    assert scale_weights([1, 3], MAX_WEIGHT) == (1, 3)
    assert scale_weights([1_000_000, 1], MAX_WEIGHT) == (999, 1)
    assert scale_weights([90_000, 10_000, 0], MAX_WEIGHT) == (999, 111, 0)
    assert scale_weights([], MAX_WEIGHT) == ()


def test_priority_waves_never_target_a_held_priority() -> None:
    shift_down = {"a": (1, 2), "b": (2, 3), "c": (3, 4)}
    assert priority_waves(shift_down, 50000) == [[("c", 4)], [("b", 3)], [("a", 2)]]
    shift_up = {"a": (2, 1), "b": (3, 2)}
    assert priority_waves(shift_up, 50000) == [[("a", 1)], [("b", 2)]]
    swap = {"a": (1, 2), "b": (2, 1)}
    waves = priority_waves(swap, 50000)
    assert waves[0] == [("a", 50000)]
    held = {"a": 1, "b": 2}
    for wave in waves:
        for name, priority in wave:
            assert priority not in {p for other, p in held.items() if other != name}
            held[name] = priority
    assert held == {"a": 2, "b": 1}


class Thing(Spec):
    name: str
    size: int
    parent: Reference = ""


KINDS = (KindRules("parent"), KindRules("thing", immutable=frozenset({"name"})))


def test_diff_creates_updates_replaces_dedupes_and_orders_deletes_last() -> None:
    desired = [
        Desired("parent", "p", Thing(name="p", size=1)),
        Desired("thing", "keep", Thing(name="keep", size=1, parent=ref("p"))),
        Desired("thing", "grow", Thing(name="grow", size=2, parent=ref("p"))),
        Desired("thing", "rename", Thing(name="new-name", size=1)),
        Desired("thing", "new", Thing(name="new", size=1)),
    ]
    observed = [
        Observed("parent", "p", "arn:p", Thing(name="p", size=1)),
        Observed("thing", "keep", "arn:keep", Thing(name="keep", size=1, parent="arn:p")),
        Observed("thing", "keep", "arn:keep-dup", Thing(name="keep", size=1, parent="arn:p")),
        Observed("thing", "grow", "arn:grow", Thing(name="grow", size=1, parent="arn:p")),
        Observed("thing", "rename", "arn:rename", Thing(name="old-name", size=1)),
        Observed("thing", "gone", "arn:gone", Thing(name="gone", size=1)),
    ]
    planned = diff(desired, observed, KINDS)
    summary = [(s.action, s.id, s.observed.arn if s.observed else "", s.fields) for s in planned.steps]
    assert summary == [
        ("update", "grow", "arn:grow", ("size",)),
        ("create", "rename", "", ()),
        ("create", "new", "", ()),
        ("delete", "gone", "arn:gone", ()),
        ("delete", "keep", "arn:keep-dup", ()),
        ("delete", "rename", "arn:rename", ()),
    ]
    assert planned.ids == {"p": "arn:p", "keep": "arn:keep", "grow": "arn:grow"}
    reasons = {s.observed.arn: s.reason for s in planned.steps if s.action == "delete" and s.observed}
    assert reasons == {
        "arn:gone": "no longer desired",
        "arn:keep-dup": "duplicate",
        "arn:rename": "replace: name cannot change in place",
    }


def test_provider_packages_and_offline_plans_do_not_import_boto3() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from portico_providers.aws_alb import SPEC as ALB\n"
        "from portico_providers.aws_lattice import SPEC as LATTICE\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules\n"
        "from portico.provider import ProviderContext\n"
        "from tests.irs import backend, gateway, listener, rule\n"
        "ir = gateway(listener(rules=(rule('shop', backends=(backend('web'),)),)))\n"
        "assert not ALB.factory(ProviderContext()).plan(ir, None).is_empty\n"
        "assert 'boto3' not in sys.modules, 'an offline plan must not need the SDK'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[3])


def test_alb_rejects_values_the_real_api_refuses_naming_the_limit() -> None:
    long_path = "/" + "p" * 127  # fits as an exact path; with the /* of a prefix it is 130
    host_header = Match(headers=(HeaderMatch(type=MatchType.EXACT, name="Host", value="shop.example.com"),))
    long_name = Match(headers=(HeaderMatch(type=MatchType.EXACT, name="x-" + "n" * 39, value="1"),))
    to_http = (RequestRedirectFilter(scheme="http", status_code=301),)
    loop = (RequestRedirectFilter(status_code=301),)
    https_rules = (
        rule("tohttp", 0, path="/a", filters=to_http),
        rule("loop443", 0, path="/b", filters=(RequestRedirectFilter(scheme="https", port=443),)),
    )
    http_rules = (
        rule("exact", 0, path=long_path, path_type=MatchType.EXACT, backends=(backend("web"),)),
        rule("prefix", 0, path=long_path, backends=(backend("web"),)),
        rule("host", 0, match=host_header, backends=(backend("web"),)),
        rule("name", 0, match=long_name, backends=(backend("web"),)),
        rule("loop", 0, path="/c", filters=loop),
        rule("upgrade", 0, path="/d", filters=(RequestRedirectFilter(scheme="https", status_code=301),)),
    )
    rejected = check_rules(
        [listener(rules=http_rules), listener("https", 443, protocol=ListenerProtocol.HTTPS, rules=https_rules)]
    )
    by_route = {rid.split("/")[2]: message for rid, message in rejected.items()}
    assert set(by_route) == {"prefix", "host", "name", "loop", "tohttp", "loop443"}
    assert "128 per condition value" in by_route["prefix"]
    assert "host-header" in by_route["host"]
    assert "40" in by_route["name"]
    assert "loop" in by_route["loop"] and "loop" in by_route["loop443"]
    assert "HTTPS to HTTP" in by_route["tohttp"]


def test_alb_splits_hostnames_three_per_rule_and_counts_each_against_the_quota() -> None:
    hosts = tuple(f"h{i}.example.com" for i in range(7))
    wide = rule("wide", 0, hostnames=hosts, path="/w", path_type=MatchType.EXACT, backends=(backend("web"),))
    fillers = tuple(rule(f"r{i}", 0, path=f"/r{i}", backends=(backend("web"),)) for i in range(98))
    rejected = check_rules([listener(rules=(wide, *fillers))])
    # wide takes 3 ALB rules (3 + 3 + 1 hostnames), so 97 of the others fit in 100.
    assert [rid.split("/")[2] for rid in rejected] == ["r97"]
    assert "this would be rule 101" in next(iter(rejected.values()))


def test_alb_merges_a_backend_named_twice_into_one_target_group() -> None:
    from portico_providers.aws_alb.rules import shape_of

    twice = rule("twice", 0, path="/t", backends=(backend("web", weight=1), backend("web", weight=2)))
    shape = shape_of(twice, listener(rules=(twice,)))
    assert [(b.id, w) for b, w in shape.forward] == [("shop/web:80", 3)]
