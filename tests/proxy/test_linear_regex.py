"""RegularExpression matches run in linear time (RE2), and a pattern RE2 refuses drops that rule
only, with a message on its route's status."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from portico.api import build_snapshot
from portico.cli.serve import CONTROLLER, gateways_from_manifests
from portico.ir import Match, MatchType, PathMatch
from portico.manifests import load_manifests
from portico.translate import translate
from portico_proxy.capabilities import PROXY_CAPABILITIES
from portico_proxy.linear_regex import RegexRejected, compile_linear
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.proxy_process import proxy_process

ROUTES = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/proxy}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: portico
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: RegularExpression, value: '/(a)\\1'}}]
    backendRefs: [{name: echo, port: 80}]
  - matches: [{headers: [{type: RegularExpression, name: x-v, value: '(?=x)'}]}]
    backendRefs: [{name: echo, port: 80}]
  - matches: [{path: {type: RegularExpression, value: '/api/v[0-9]+'}}]
    backendRefs: [{name: echo, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec: {ports: [{name: http, port: 80, targetPort: 9}]}
"""


def test_a_pattern_re2_refuses_drops_its_rule_and_says_so_on_the_route(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(ROUTES)
    snapshot = build_snapshot([m.obj for m in load_manifests([str(tmp_path)])])
    result = translate(snapshot, {CONTROLLER: PROXY_CAPABILITIES})
    conditions = {c["type"]: c for c in result.statuses[("HTTPRoute", "default", "web")]["parents"][0]["conditions"]}
    partially = conditions["PartiallyInvalid"]
    assert partially["reason"] == "UnsupportedValue"
    assert (
        "spec.rules[0]" in partially["message"] and "'/(a)\\\\1' is not supported (RE2 syntax)" in partially["message"]
    )
    assert "spec.rules[1]" in partially["message"] and "header x-v match" in partially["message"]
    served = {r.rule_index for lst in result.ir_by_gateway[("default", "gw")].listeners for r in lst.rules}
    assert served == {2}
    # `portico serve` translates with the same capabilities.
    assert {r.rule_index for r in gateways_from_manifests([str(tmp_path)])[0].listeners[0].rules} == {2}


def test_compile_linear_refuses_with_a_message() -> None:
    with pytest.raises(RegexRejected, match=r"not supported \(RE2 syntax\): invalid escape"):
        compile_linear(b"(a)\\1")
    assert compile_linear("/a+").fullmatch("/aaa") is not None


async def test_a_catastrophic_pattern_does_not_stall_the_proxy(echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`/(a+)+$` backtracks exponentially in Python's re (2.2 s at 27 characters, doubling per
    character): at 60 characters this request would never end. With RE2 it is answered (404: no
    match), as is an ordinary request sent right behind it."""
    a = await echo("a")
    port, admin = free_port(), free_port()
    evil = Match(path=PathMatch(type=MatchType.REGULAR_EXPRESSION, value="/(a+)+$"))
    ir = gateway(
        listener(
            port=port,
            rules=(
                rule("evil", match=evil, backends=(local_backend("a", a.port),)),
                rule("ok", match=prefix("/ok"), backends=(local_backend("a", a.port),)),
            ),
        )
    )
    async with proxy_process(tmp_path, ir, port, admin) as proc, httpx.AsyncClient(timeout=10) as client:
        slow, fine = await asyncio.gather(
            client.get(f"http://127.0.0.1:{proc.port}/" + "a" * 60 + "b"),
            client.get(f"http://127.0.0.1:{proc.port}/ok"),
        )
        matched = await client.get(f"http://127.0.0.1:{proc.port}/aaaa")
    assert (slow.status_code, fine.status_code, matched.status_code) == (404, 200, 200)
