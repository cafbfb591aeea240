"""HTTPRouteCORS at the proxy with real HTTP/1.1 and HTTP/2 clients: the cases of the Gateway API
conformance tests (HTTPRouteCORS, CORSAllowCredentialsBehavior) and the spec's field table."""

from __future__ import annotations

import httpx
import pytest

from portico.ir import CORSFilter
from portico_proxy.cors import CompiledCORS, OriginPattern, split_origin
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule

LISTED = CORSFilter(
    allow_origins=("https://www.foo.com", "https://*.bar.com", "http://local.test:8080"),
    allow_methods=("GET", "OPTIONS"),
    allow_headers=("x-header-1", "x-header-2"),
    expose_headers=("x-header-3", "x-header-4"),
    allow_credentials=True,
    max_age=3600,
)
WILDCARDS = CORSFilter(allow_origins=("https://www.foo.com",), allow_methods=("*",), allow_headers=("*",))
ANY_ORIGIN = CORSFilter(allow_origins=("*",), expose_headers=("*",))
ANY_WITH_CREDENTIALS = CORSFilter(
    allow_origins=("*",), allow_headers=("*",), expose_headers=("*",), allow_credentials=True
)


async def _start(proxy, echo) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    app = await echo("app")
    port = free_port()
    routes = [("cors-1", LISTED), ("cors-2", WILDCARDS), ("cors-3", ANY_ORIGIN), ("cors-4", ANY_WITH_CREDENTIALS)]
    rules = tuple(
        rule(name, match=prefix(f"/{name}"), filters=(cors,), backends=(local_backend("app", app.port),))
        for name, cors in routes
    )
    # A backendRef-level filter, and a rule whose backend has no endpoints (preflights still answered).
    on_backend = local_backend("app", app.port, filters=(WILDCARDS,))
    rules += (
        rule("backend-level", match=prefix("/backend-level"), backends=(on_backend,)),
        rule("no-endpoints", match=prefix("/no-endpoints"), filters=(LISTED,), backends=(local_backend("gone"),)),
        rule("plain", match=prefix("/"), backends=(local_backend("app", app.port),)),
    )
    await proxy([gateway(listener(port=port, rules=rules))])
    return port, app


def _preflight(origin: str, method: str = "GET", headers: str | None = None) -> dict[str, str]:
    fields = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        fields["Access-Control-Request-Headers"] = headers
    return fields


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "h2c"])
async def test_conformance_cases(proxy, echo, http2: bool) -> None:  # type: ignore[no-untyped-def]
    port, app = await _start(proxy, echo)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", http1=not http2, http2=http2) as client:
        # Preflight from an exact and from a wildcard origin: answered by the proxy.
        for origin in ("https://www.foo.com", "https://www.bar.com", "https://a.b.bar.com"):
            r = await client.options("/cors-1", headers=_preflight(origin, "GET", "x-header-1, x-header-2"))
            assert r.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
            assert r.status_code == 200 and r.content == b""
            assert r.headers["access-control-allow-origin"] == origin
            assert r.headers["access-control-allow-methods"] == "GET, OPTIONS"
            assert r.headers["access-control-allow-headers"] == "x-header-1, x-header-2"
            assert r.headers["access-control-expose-headers"] == "x-header-3, x-header-4"
            assert r.headers["access-control-max-age"] == "3600"
            assert r.headers["access-control-allow-credentials"] == "true"
            assert r.headers["vary"] == "Origin"
        # Origins that are not allowed: another host, scheme or port, the bare wildcard domain.
        for origin in ("https://foobar.com", "http://www.foo.com", "https://www.foo.com:8443", "https://bar.com"):
            r = await client.options("/cors-1", headers=_preflight(origin))
            assert r.status_code == 200
            assert not [h for h in r.headers if h.startswith("access-control-")], origin
        # A port given explicitly in allowOrigins, and the default port spelled out by the client.
        r = await client.options("/cors-1", headers=_preflight("http://local.test:8080"))
        assert r.headers["access-control-allow-origin"] == "http://local.test:8080"
        r = await client.options("/cors-1", headers=_preflight("https://www.foo.com:443"))
        assert r.headers["access-control-allow-origin"] == "https://www.foo.com:443"
        assert app.stats.requests == 0  # no preflight reached the backend
        # Actual requests: allowed origins get the fields on the backend's response, others nothing.
        for origin in ("https://www.foo.com", "https://www.bar.com"):
            r = await client.get("/cors-1", headers={"Origin": origin})
            assert r.status_code == 200 and r.json()["backend"] == "app"
            assert r.headers["access-control-allow-origin"] == origin
            assert r.headers["access-control-allow-credentials"] == "true"
            assert r.headers["access-control-expose-headers"] == "x-header-3, x-header-4"
            assert "access-control-max-age" not in r.headers
        r = await client.get("/cors-1", headers={"Origin": "https://foobar.com"})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        r = await client.get("/cors-1")
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        # allowMethods/allowHeaders `*` without credentials: the method asked for, `*` for headers.
        r = await client.options("/cors-2", headers=_preflight("https://www.foo.com", "POST", "x-a"))
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://www.foo.com"
        assert r.headers["access-control-allow-methods"] == "POST"
        assert r.headers["access-control-allow-headers"] == "*"
        assert "access-control-allow-credentials" not in r.headers
        assert r.headers["access-control-max-age"] == "5"  # the spec's default


async def test_wildcards_and_credentials(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _start(proxy, echo)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        # `*` origins without credentials: `*` itself, the response is the same for every origin.
        r = await client.options("/cors-3", headers=_preflight("https://anything.test"))
        assert r.headers["access-control-allow-origin"] == "*" and "vary" not in r.headers
        r = await client.get("/cors-3", headers={"Origin": "null"})
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.headers["access-control-expose-headers"] == "*"
        # With credentials a browser refuses `*`: the origin, the requested headers, and the
        # response's own field names stand in for it.
        r = await client.options("/cors-4", headers=_preflight("https://x.test", "PUT", "authorization, x-b"))
        assert r.headers["access-control-allow-origin"] == "https://x.test"
        assert r.headers["access-control-allow-headers"] == "authorization, x-b"
        assert r.headers["access-control-allow-credentials"] == "true"
        assert "access-control-expose-headers" not in r.headers
        r = await client.get("/cors-4", headers={"Origin": "https://x.test"})
        exposed = r.headers["access-control-expose-headers"].split(", ")
        assert "x-backend" in exposed and "content-type" in exposed and "*" not in exposed


async def test_backend_level_filter_and_backends_without_endpoints(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, app = await _start(proxy, echo)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        r = await client.options("/backend-level", headers=_preflight("https://www.foo.com", "DELETE"))
        assert r.status_code == 200 and r.headers["access-control-allow-methods"] == "DELETE"
        r = await client.get("/backend-level", headers={"Origin": "https://www.foo.com"})
        assert r.json()["backend"] == "app" and r.headers["access-control-allow-origin"] == "https://www.foo.com"
        # The preflight does not depend on a backend being ready; the actual request does (503).
        r = await client.options("/no-endpoints", headers=_preflight("https://www.foo.com"))
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://www.foo.com"
        assert (await client.get("/no-endpoints", headers={"Origin": "https://www.foo.com"})).status_code == 503
        # An OPTIONS request that is not a preflight (no Access-Control-Request-Method) is forwarded,
        # and so is every request on a rule without the filter.
        before = app.stats.requests
        r = await client.options("/cors-1", headers={"Origin": "https://www.foo.com"})
        assert r.json()["method"] == "OPTIONS"
        r = await client.options("/plain", headers=_preflight("https://www.foo.com"))
        assert r.json()["method"] == "OPTIONS" and "access-control-allow-origin" not in r.headers
        assert app.stats.requests == before + 2


def test_response_fields_replace_the_backends_and_join_vary() -> None:
    fields = CompiledCORS(LISTED).response_fields([(b"origin", b"https://www.foo.com")])
    assert fields is not None
    backend = [
        (b"vary", b"Accept-Encoding"),
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-credentials", b"false"),
        (b"content-type", b"text/plain"),
    ]
    assert fields.apply(backend) == [
        (b"vary", b"Accept-Encoding, Origin"),
        (b"content-type", b"text/plain"),
        (b"access-control-allow-origin", b"https://www.foo.com"),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", b"x-header-3, x-header-4"),
    ]


def test_origin_parsing_and_patterns() -> None:
    assert split_origin(b"HTTPS://WWW.Foo.com") == (b"https", b"www.foo.com", 443)
    assert split_origin(b"http://[::1]") == (b"http", b"[::1]", 80)
    assert split_origin(b"http://[::1]:81") == (b"http", b"[::1]", 81)
    for bad in (b"null", b"https://", b"https://a.test/path", b"ftp://a.test", b"https://a.test:x"):
        assert split_origin(bad) is None, bad
    any_host = OriginPattern("https://*")
    assert any_host.matches(b"https", b"whatever.test", 443)
    assert not any_host.matches(b"http", b"whatever.test", 80)
    with pytest.raises(ValueError, match="scheme://host"):
        OriginPattern("https://a.test/x")
