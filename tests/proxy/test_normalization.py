"""One path/Host normalisation policy, before matching and for what is forwarded (HTTP/1.1 and HTTP/2):
every spelling that reached an admin page behind a redirect in the security review is redirected or
refused, and what a real backend receives is the normalised form."""

from __future__ import annotations

import asyncio

import pytest

from portico.ir import RequestRedirectFilter
from portico_proxy.normalize import BadRequest, normalize_authority, normalize_target
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.h2raw import RawH2, statuses
from tests.proxy.test_upstream_desync import read_response

AWAY = RequestRedirectFilter(hostname="elsewhere.example")

# (request target, Host) -> what must happen: "redirect" (the /admin rule matched) or a status.
BYPASSES = [
    (b"/%61dmin/x", b"a.example.com", "redirect"),
    (b"/public/../admin/x", b"a.example.com", "redirect"),
    (b"/./admin/x", b"a.example.com", "redirect"),
    (b"/%2e%2e/admin/x", b"a.example.com", "redirect"),
    (b"/%2E/admin", b"a.example.com", "redirect"),
    (b"//admin", b"a.example.com", "redirect"),
    (b"/admin;x", b"a.example.com", "redirect"),
    (b"/admin/x", b"a.example.com.", "redirect"),
    (b"/admin/x", b"A.Example.Com.:80", "redirect"),
    (b"/admin%2f", b"a.example.com", 400),
    (b"/admin%5Cx", b"a.example.com", 400),
    (b"/%zz/admin", b"a.example.com", 400),
    (b"/x", b"a b", 400),
    (b"/x", b"x/y", 400),
]


async def start(proxy, echo) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    app = await echo("app")
    port = free_port()
    admin = rule("admin", match=prefix("/admin"), backends=(), hostnames=("a.example.com",), filters=(AWAY,))
    catch_all = rule("app", match=prefix("/"), backends=(local_backend("app", app.port),))
    await proxy(
        [
            gateway(
                listener(
                    port=port,
                    rules=(
                        admin,
                        catch_all,
                    ),
                )
            )
        ]
    )
    return port, app


async def h1(port: int, payload: bytes) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    try:
        return await asyncio.wait_for(read_response(reader), 5)
    finally:
        writer.close()


def outcome(status: int) -> object:
    return "redirect" if status == 302 else status


async def test_http1_bypasses_are_redirected_or_refused(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, app = await start(proxy, echo)
    for target, host, expected in BYPASSES:
        head, _ = await h1(port, b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host))
        assert outcome(int(head.split(b" ")[1])) == expected, (target, host, head)
    head, _ = await h1(port, b"GET http://a.example.com/admin/x HTTP/1.1\r\nHost: other.example\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 302")  # absolute-form: routed by its own authority and path
    assert not [seen for seen in app.stats.seen if "admin" in str(seen["path"])]  # type: ignore[attr-defined]


async def test_http2_bypasses_are_redirected_or_refused(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, app = await start(proxy, echo)
    client = await RawH2.connect(port)
    expected_by_stream = {}
    for target, host, expected in BYPASSES:
        stream_id, frame = client.headers(target, authority=host)
        expected_by_stream[stream_id] = expected
        await client.send(frame)
    frames = await client.frames(timeout=1)
    client.close()
    got = statuses(frames)
    assert {sid: outcome(got.get(sid, 0)) for sid in expected_by_stream} == expected_by_stream
    assert not [seen for seen in app.stats.seen if "admin" in str(seen["path"])]  # type: ignore[attr-defined]


async def test_the_backend_receives_the_normalised_path_and_host(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port, app = await start(proxy, echo)
    head, _ = await h1(port, b"GET /p/%7euser/./a/../b%20c?q=%2e%2e/x HTTP/1.1\r\nHost: b.example.com.\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    seen = app.stats.seen[-1]  # type: ignore[attr-defined]
    assert seen["path"] == "/p/~user/b%20c?q=%2e%2e/x"  # the query is left as it came
    assert seen["headers"]["host"] == "b.example.com"


def test_unit_policy() -> None:
    assert normalize_target(b"/a/b/../../../c") == b"/c"  # never above the root
    assert normalize_target(b"/a/b/..") == b"/a/"
    assert normalize_target(b"/a//b", merge_slashes=False) == b"/a//b"
    assert normalize_target(b"/a%2a%41") == b"/a%2AA"  # upper-case hex for what stays encoded
    assert normalize_target(b"/index.html?x=//..") == b"/index.html?x=//.."
    assert normalize_authority(b"[::1]:8080") == b"[::1]:8080"
    with pytest.raises(BadRequest):
        normalize_authority(b"a@b")
