"""Gateway API semantics over real HTTP/1.1 sockets: matching, errors, weights, filters."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from portico.ir import (
    HeaderMatch,
    HeaderModifier,
    HeaderValue,
    Match,
    MatchType,
    PathMatch,
    PathModifier,
    PathModifierType,
    QueryParamMatch,
    RequestHeaderModifierFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
    URLRewriteFilter,
)
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule


async def serve(proxy: Any, *rules: Any, **listener_kw: Any) -> httpx.AsyncClient:
    port = free_port()
    await proxy([gateway(listener(port=port, rules=tuple(rules), **listener_kw))])
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5)


async def test_no_match_is_404_and_matching_rules(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    rules = [
        rule(
            "exact",
            match=Match(path=PathMatch(type=MatchType.EXACT, value="/exact")),
            backends=(local_backend("a", a.port),),
        ),
        rule(
            "hdr",
            match=Match(
                path=PathMatch(type=MatchType.PATH_PREFIX, value="/p"),
                headers=(HeaderMatch(type=MatchType.EXACT, name="x-env", value="canary"),),
                method="POST",
            ),
            backends=(local_backend("a", a.port),),
        ),
        rule(
            "query",
            match=Match(query_params=(QueryParamMatch(type=MatchType.REGULAR_EXPRESSION, name="v", value="[0-9]+"),)),
            backends=(local_backend("a", a.port),),
        ),
        rule(
            "regex",
            match=Match(path=PathMatch(type=MatchType.REGULAR_EXPRESSION, value="/r/[a-z]+")),
            backends=(local_backend("a", a.port),),
        ),
    ]
    async with await serve(proxy, *rules) as client:
        assert (await client.get("/exact")).status_code == 200
        assert (await client.get("/exact/")).status_code == 404
        assert (await client.post("/p/x", headers={"X-Env": "canary"})).status_code == 200
        assert (await client.get("/p/x", headers={"X-Env": "canary"})).status_code == 404
        assert (await client.post("/px", headers={"X-Env": "canary"})).status_code == 404
        assert (await client.get("/any?v=12")).status_code == 200
        assert (await client.get("/any?v=x")).status_code == 404
        assert (await client.get("/r/abc")).status_code == 200
        assert (await client.get("/r/abc1")).status_code == 404


async def test_hostnames_exact_beats_wildcard_beats_any(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    e, w, n = await echo("exact"), await echo("wild"), await echo("none")
    rules = [
        rule("any", match=prefix("/"), backends=(local_backend("none", n.port),)),
        rule("wild", match=prefix("/"), backends=(local_backend("wild", w.port),), hostnames=("*.example.com",)),
        rule("exact", match=prefix("/"), backends=(local_backend("exact", e.port),), hostnames=("a.example.com",)),
    ]
    async with await serve(proxy, *rules) as client:
        got = {}
        for host in ("a.example.com", "b.example.com", "x.y.example.com", "example.com", "other.org"):
            got[host] = (await client.get("/", headers={"Host": f"{host}:8080"})).json()["backend"]
    assert got == {
        "a.example.com": "exact",
        "b.example.com": "wild",
        "x.y.example.com": "wild",
        "example.com": "none",
        "other.org": "none",
    }


async def test_listener_isolation(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    s, w = await echo("specific"), await echo("wild")
    port = free_port()
    specific = listener(
        port=port,
        rules=(rule("s", match=prefix("/s"), backends=(local_backend("s", s.port),)),),
        name="s",
        hostname="s.example.com",
    )
    wild = listener(
        port=port,
        rules=(rule("w", match=prefix("/"), backends=(local_backend("w", w.port),)),),
        name="w",
        hostname="*.example.com",
    )
    await proxy([gateway(wild, specific)])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/s", headers={"Host": "s.example.com"})).json()["backend"] == "specific"
        assert (await client.get("/other", headers={"Host": "s.example.com"})).status_code == 404
        assert (await client.get("/other", headers={"Host": "x.example.com"})).json()["backend"] == "wild"
        assert (await client.get("/", headers={"Host": "example.org"})).status_code == 404


async def test_invalid_backend_500_no_endpoints_503_no_backends_500(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    rules = [
        rule("bad", match=prefix("/bad"), backends=(local_backend("ghost", invalid_reason="BackendNotFound"),)),
        rule("empty", match=prefix("/empty"), backends=(local_backend("nobody"),)),
        rule("none", match=prefix("/none")),
        rule("zero", match=prefix("/zero"), backends=(local_backend("a", a.port, weight=0),)),
        rule(
            "half",
            match=prefix("/half"),
            backends=(local_backend("a", a.port), local_backend("ghost", invalid_reason="BackendNotFound")),
        ),
    ]
    async with await serve(proxy, *rules) as client:
        assert (await client.get("/bad")).status_code == 500
        assert (await client.get("/empty")).status_code == 503
        assert (await client.get("/none")).status_code == 500
        assert (await client.get("/zero")).status_code == 500
        codes = Counter([(await client.get("/half")).status_code for _ in range(20)])
    assert codes == {200: 10, 500: 10}


async def test_weights_split_traffic(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a, b, c = await echo("a"), await echo("b"), await echo("c")
    backends = (
        local_backend("a", a.port, weight=3),
        local_backend("b", b.port, weight=1),
        local_backend("c", c.port, weight=0),
    )
    async with await serve(proxy, rule("w", match=prefix("/"), backends=backends)) as client:
        seen = Counter([(await client.get("/")).json()["backend"] for _ in range(200)])
    assert seen == {"a": 150, "b": 50}


async def test_header_modifiers_rewrite_and_forwarded(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    filters = (
        RequestHeaderModifierFilter(
            modifier=HeaderModifier(
                set=(HeaderValue(name="X-Set", value="s"),),
                add=(HeaderValue(name="X-Add", value="b"),),
                remove=("x-remove",),
            )
        ),
        ResponseHeaderModifierFilter(
            modifier=HeaderModifier(set=(HeaderValue(name="X-Resp", value="r"),), remove=("x-backend",))
        ),
        URLRewriteFilter(
            hostname="rewritten.example",
            path=PathModifier(type=PathModifierType.REPLACE_PREFIX_MATCH, value="/v2", matched_prefix="/v1"),
        ),
    )
    r1 = rule("mods", match=prefix("/v1"), backends=(local_backend("a", a.port),), filters=filters)
    async with await serve(proxy, r1) as client:
        response = await client.get(
            "/v1/items?q=1",
            headers={
                "X-Set": "old",
                "X-Add": "a",
                "X-Remove": "x",
                "X-Forwarded-For": "10.0.0.1",
                "Connection": "x-hop",
                "X-Hop": "1",
            },
        )
    seen = response.json()
    headers = seen["headers"]
    assert seen["path"] == "/v2/items?q=1"
    assert headers["host"] == "rewritten.example"
    assert headers["x-set"] == "s" and headers["x-add"] == "a,b" and "x-remove" not in headers
    assert headers["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"].startswith("127.0.0.1:")
    assert "x-hop" not in headers
    assert response.headers["x-resp"] == "r" and "x-backend" not in response.headers


async def test_backend_level_filters_apply_only_to_their_backend(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a, b = await echo("a"), await echo("b")
    tag = RequestHeaderModifierFilter(modifier=HeaderModifier(set=(HeaderValue(name="x-tag", value="b-only"),)))
    backends = (local_backend("a", a.port), local_backend("b", b.port, filters=(tag,)))
    async with await serve(proxy, rule("bf", match=prefix("/"), backends=backends)) as client:
        seen = [(await client.get("/")).json() for _ in range(4)]
    for report in seen:
        assert ("x-tag" in report["headers"]) == (report["backend"] == "b")


async def test_redirects(proxy) -> None:  # type: ignore[no-untyped-def]
    redirect = RequestRedirectFilter(
        scheme="https",
        hostname="example.org",
        path=PathModifier(type=PathModifierType.REPLACE_FULL_PATH, value="/new"),
        status_code=301,
    )
    plain = RequestRedirectFilter(status_code=302)
    rules = [rule("r1", match=prefix("/old"), filters=(redirect,)), rule("r2", match=prefix("/same"), filters=(plain,))]
    port = free_port()
    await proxy([gateway(listener(port=port, rules=tuple(rules)))])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        first = await client.get("/old/x?y=1")
        second = await client.get("/same/x", headers={"Host": "h.test"})
    assert first.status_code == 301 and first.headers["location"] == "https://example.org/new?y=1"
    assert second.status_code == 302 and second.headers["location"] == f"http://h.test:{port}/same/x"
