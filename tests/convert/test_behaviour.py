"""Convert, run `portico serve` on the result with echo backends, and check that each request reaches
the backend and path ingress-nginx would send it to. Each expectation cites the ingress-nginx
behaviour it encodes (docs: user-guide/ingress-path-matching, examples/rewrite, annotations)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.convert.serve import convert_file, serve
from tests.proxy.echo_backend import EchoBackend

Echo = Callable[[str], Awaitable[EchoBackend]]


async def _backends(echo: Echo, *names: str) -> dict[str, int]:
    return {name: (await echo(name)).port for name in names}


async def test_paths_and_rewrites(echo: Echo, tmp_path: Path) -> None:
    result = convert_file("paths.yaml")
    backends = await _backends(echo, "rewritten", "home", "api", "legacy", "root", "foo", "img", "static", "exact")
    async with serve(result.objects, backends, tmp_path) as proxy:
        # examples/rewrite: `/something(/|$)(.*)` with `/$2`: /something -> /, /something/new -> /new.
        assert await proxy.reaches("rewrite.bar.com", "/something") == ("rewritten", "/")
        assert await proxy.reaches("rewrite.bar.com", "/something/") == ("rewritten", "/")
        assert await proxy.reaches("rewrite.bar.com", "/something/new") == ("rewritten", "/new")
        # `^/something(/|$)` does not match /somethingelse: the host's `/` (regex `^/` there, tried last as the
        # shortest path) takes it, unrewritten.
        assert await proxy.reaches("rewrite.bar.com", "/somethingelse") == ("home", "/somethingelse")
        # `/api/(.*)` with `/internal/$1`: /api/users -> /internal/users.
        assert await proxy.reaches("api.bar.com", "/api/users?id=1") == ("api", "/internal/users?id=1")
        # rewrite-target `/`: nginx `rewrite` replaces the whole URI; the query string is appended.
        assert await proxy.reaches("legacy.bar.com", "/legacy/page?q=1") == ("legacy", "/?q=1")
        # Prefix is element-wise (ingress-nginx adds `location /foo/` and `location = /foo`).
        assert await proxy.reaches("site.bar.com", "/foo") == ("foo", "/foo")
        assert await proxy.reaches("site.bar.com", "/foo/bar") == ("foo", "/foo/bar")
        assert await proxy.reaches("site.bar.com", "/foobar") == ("root", "/foobar")
        # ImplementationSpecific is a plain nginx prefix location: /img also matches /imgs.
        assert await proxy.reaches("site.bar.com", "/imgs/a.png") == ("img", "/imgs/a.png")
        # A prefix location ending in / answers the path without it with nginx's 301.
        moved = await proxy.get("site.bar.com", "/static")
        assert (moved.status_code, moved.headers["location"].endswith("/static/")) == (301, True)
        assert await proxy.reaches("site.bar.com", "/static/app.js") == ("static", "/static/app.js")
        # Exact is `location = /exact`: /exact/ falls to the / prefix.
        assert await proxy.reaches("site.bar.com", "/exact") == ("exact", "/exact")
        assert await proxy.reaches("site.bar.com", "/exact/") == ("root", "/exact/")


async def test_regex_hosts_conflicts_and_default_backend(echo: Echo, tmp_path: Path) -> None:
    result = convert_file("regex.yaml")
    backends = await _backends(echo, "literal", "pattern", "exact", "fallback", "older", "newer")
    async with serve(result.objects, backends, tmp_path) as proxy:
        # ingress-path-matching docs: paths are sorted longest first and `~*` is case-insensitive, so
        # /foo/bar/bar is taken by the longer `/foo/bar/[A-Z0-9]{3}`.
        assert await proxy.reaches("test.com", "/foo/bar/bar") == ("pattern", "/foo/bar/bar")
        assert await proxy.reaches("test.com", "/FOO/BAR/XYZ/more") == ("pattern", "/FOO/BAR/XYZ/more")
        # use-regex on one Ingress makes the other Ingress's Exact path `~* "^/exact"` too.
        assert await proxy.reaches("test.com", "/exact/more") == ("exact", "/exact/more")
        assert await proxy.reaches("test.com", "/EXACT") == ("exact", "/EXACT")
        # test.com was created by the older `regex` Ingress, which has no defaultBackend: 404.
        assert (await proxy.get("test.com", "/nothing")).status_code == 404
        # Two Ingresses claim dup.com /app: the older one (by creationTimestamp, not by name) wins.
        assert await proxy.reaches("dup.com", "/app/x") == ("older", "/app/x")


async def test_canary_precedence(echo: Echo, tmp_path: Path) -> None:
    result = convert_file("canary.yaml")
    backends = await _backends(echo, "production", "canary", "beta", "all-in")
    async with serve(result.objects, backends, tmp_path) as proxy:
        host = "echo.example.com"
        # balancer.lua: header `always` -> canary, `never` -> main, and `never` wins over the cookie.
        assert (await proxy.reaches(host, "/", {"X-Canary": "always"}))[0] == "canary"
        assert (await proxy.reaches(host, "/", {"X-Canary": "never", "Cookie": "canary=always"}))[0] == "production"
        # Any other header value falls through to the cookie.
        assert (await proxy.reaches(host, "/", {"X-Canary": "maybe", "Cookie": "a=1; canary=always"}))[0] == "canary"
        assert (await proxy.reaches(host, "/", {"Cookie": "canary=never"}))[0] == "production"
        assert (await proxy.reaches(host, "/"))[0] == "production"
        # With canary-by-header-value, only that value routes to the canary; `always` is not special.
        assert (await proxy.reaches(host, "/beta", {"X-Beta": "yes"}))[0] == "beta"
        assert (await proxy.reaches(host, "/beta", {"X-Beta": "always"}))[0] == "production"
        # canary-weight 100 of 100: every request goes to the canary.
        assert (await proxy.reaches(host, "/all/x"))[0] == "all-in"
        # A canary path without a main Ingress serves nothing: /nomain is the main / backend's.
        assert (await proxy.reaches(host, "/nomain", {"X-Canary": "never"}))[0] == "production"


async def test_redirects_and_headers(echo: Echo, tmp_path: Path) -> None:
    result = convert_file("redirects.yaml")
    backends = await _backends(echo, "shop", "health", "app")
    async with serve(result.objects, backends, tmp_path) as proxy:
        # ssl-redirect (default true) on a host with TLS: HTTP answers 308 to https, even without the Secret.
        redirected = await proxy.get("shop.example.com", "/cart?id=2")
        assert redirected.status_code == 308
        assert redirected.headers["location"] == "https://shop.example.com/cart?id=2"
        # ssl-redirect "false" on another Ingress of the host: that path stays on HTTP.
        assert await proxy.reaches("shop.example.com", "/health") == ("health", "/health")
        # app-root: / answers 302 to the app root.
        root = await proxy.get("app.example.com", "/")
        assert (root.status_code, root.headers["location"].endswith("/app1")) == (302, True)
        # from-to-www-redirect: www.<host> answers 308 to <host>.
        www = await proxy.get("www.app.example.com", "/x")
        assert www.status_code == 308 and "//app.example.com" in www.headers["location"]
        # upstream-vhost, x-forwarded-prefix and custom-headers; server-alias serves the same routes.
        response = await proxy.get("app.example.org", "/page")
        seen = response.json()
        assert (seen["backend"], seen["headers"]["host"], seen["headers"]["x-forwarded-prefix"]) == (
            "app",
            "internal.app.svc",
            "/app",
        )
        assert response.headers["x-frame-options"] == "DENY"
        # permanent-redirect: 301 to the URL.
        moved = await proxy.get("old.example.com", "/anything")
        assert (moved.status_code, moved.headers["location"]) == (301, "https://new.example.com/landing")
