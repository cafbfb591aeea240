"""HTTP/1.1 Upgrade through the proxy: a real WebSocket client and server (the `websockets` package)
on both sides; after the backend's 101 the proxy splices the two sockets."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

from portico.api import build_snapshot
from portico.cli.serve import CONTROLLER, gateways_from_manifests
from portico.ir import (
    Certificate,
    HeaderModifier,
    HeaderValue,
    ListenerProtocol,
    ObjectKey,
    RequestHeaderModifierFilter,
)
from portico.manifests import load_manifests
from portico.translate import translate
from portico_proxy.capabilities import PROXY_CAPABILITIES
from portico_proxy.context import Limits
from portico_proxy.tunnel import TunnelSide
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import self_signed

BIG = 4 << 20  # 4 MiB per message, far past every buffer on the way


async def _handler(ws: ServerConnection) -> None:
    """/echo echoes; /headers sends the handshake's X-Set then echoes; /close closes with 4001."""
    path = ws.request.path if ws.request is not None else ""
    if path.startswith("/close"):
        await ws.close(4001, "server says bye")
        return
    if path.startswith("/headers") and ws.request is not None:
        await ws.send(ws.request.headers.get("X-Set", "-"))
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


@pytest.fixture
async def ws_backend() -> AsyncIterator[Server]:
    async with serve(_handler, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        yield server


def _port(server: Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])


async def _serve(proxy, ws_backend: Server, limits: Limits | None = None, **rule_extra: object):  # type: ignore[no-untyped-def]
    port = free_port()
    ws_rule = rule("ws", match=prefix("/"), backends=(local_backend("ws", _port(ws_backend)),), **rule_extra)
    runtime = await proxy([gateway(listener(port=port, rules=(ws_rule,)))], limits)
    return port, runtime


def _url(port: int, path: str) -> str:
    return f"ws://127.0.0.1:{port}{path}"


async def test_websocket_echo_text_and_binary(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _serve(proxy, ws_backend)
    async with connect(_url(port, "/echo"), ping_interval=None) as ws:
        for message in ("hello", b"\x00\x01binary", "ünïcode"):
            await ws.send(message)
            assert await asyncio.wait_for(ws.recv(), 5) == message


async def test_large_frames_both_ways(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _serve(proxy, ws_backend)
    payload = bytes(range(256)) * (BIG // 256)
    async with connect(_url(port, "/echo"), max_size=None, ping_interval=None) as ws:
        for _ in range(3):
            await ws.send(payload)
            assert await asyncio.wait_for(ws.recv(), 30) == payload


async def test_close_from_the_client_reaches_the_server(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, ws_backend)
    async with connect(_url(port, "/echo"), ping_interval=None) as ws:
        await ws.send("x")
        await ws.recv()
        await ws.close(4002, "client says bye")
    assert ws.close_code == 4002
    assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 4002  # the server's echo
    await _until(lambda: not _tunnels(runtime))


async def test_close_from_the_server_reaches_the_client(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, ws_backend)
    async with connect(_url(port, "/close"), ping_interval=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "server says bye")
    await _until(lambda: not _tunnels(runtime))


async def test_request_filters_apply_to_the_handshake(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    set_header = RequestHeaderModifierFilter(
        modifier=HeaderModifier(set=(HeaderValue(name="X-Set", value="by-route"),))
    )
    port, _ = await _serve(proxy, ws_backend, filters=(set_header,))
    async with connect(_url(port, "/headers"), ping_interval=None, additional_headers={"X-Set": "client"}) as ws:
        assert await asyncio.wait_for(ws.recv(), 5) == "by-route"
        await ws.send("after")
        assert await asyncio.wait_for(ws.recv(), 5) == "after"


async def test_many_concurrent_sockets(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, ws_backend)

    async def one(n: int) -> None:
        async with connect(_url(port, f"/echo/{n}"), ping_interval=None) as ws:
            for i in range(5):
                await ws.send(f"{n}:{i}")
                assert await ws.recv() == f"{n}:{i}"

    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(200))), 60)
    await _until(lambda: not _tunnels(runtime))
    assert runtime.ctx.pools.stats.sockets == 0  # every backend socket of a tunnel was counted out


async def test_a_reload_leaves_an_open_socket_on_the_old_table(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, ws_backend)
    async with connect(_url(port, "/echo"), ping_interval=None) as ws:
        await ws.send("before")
        assert await ws.recv() == "before"
        # The new table sends everything elsewhere: new handshakes see it, the open socket does not.
        await runtime.update(
            [
                gateway(
                    listener(
                        port=port, rules=(rule("other", match=prefix("/nowhere"), backends=(local_backend("x", 9),)),)
                    )
                )
            ]
        )
        with pytest.raises(InvalidStatus) as refused:
            async with connect(_url(port, "/echo"), ping_interval=None):
                pass
        assert refused.value.response.status_code == 404
        await ws.send("after")
        assert await asyncio.wait_for(ws.recv(), 5) == "after"


async def test_an_idle_tunnel_is_closed(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, ws_backend, Limits(idle_timeout_s=1.0))
    async with connect(_url(port, "/echo"), ping_interval=None) as ws:
        await ws.send("x")
        await ws.recv()
        await asyncio.wait_for(ws.wait_closed(), 10)  # the reaper runs once a second
    assert not _tunnels(runtime)


async def test_a_refused_upgrade_stays_http(proxy, ws_backend, echo) -> None:  # type: ignore[no-untyped-def]
    """A backend that does not switch answers as plain HTTP; what followed is the next request."""
    app = await echo("plain")
    port = free_port()
    await proxy(
        [
            gateway(
                listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("plain", app.port),)),))
            )
        ]
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    upgrade = b"GET /first HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"
    writer.write(upgrade + b"GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.count(b"HTTP/1.1 200") == 2
    seen = app.stats.seen
    assert [entry["path"] for entry in seen] == ["/first", "/second"]
    assert "upgrade" in seen[0]["headers"]  # type: ignore[operator]


async def test_backpressure_pauses_the_backend(proxy) -> None:  # type: ignore[no-untyped-def]
    """A client that reads nothing: the proxy stops reading the backend instead of buffering."""
    sent = 0
    flooding = asyncio.Event()

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: raw\r\n\r\n")
        chunk = b"x" * 65536
        flooding.set()
        while sent < 256 << 20:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = free_port()
    target = int(server.sockets[0].getsockname()[1])
    runtime = await proxy(
        [gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("raw", target),)),)))]
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: raw\r\nConnection: upgrade\r\n\r\n")
    await asyncio.wait_for(flooding.wait(), 5)

    def backend_paused() -> bool:
        return any(not side.peer.transport.is_reading() for side in _tunnels(runtime) if side.peer is not None)

    await _until(backend_paused)
    assert sent < 64 << 20  # of the 256 MiB the backend wants to send
    for side in _tunnels(runtime):
        assert side.transport.get_write_buffer_size() <= 4 << 20
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    writer.close()
    server.close()


def _tunnels(runtime) -> list[TunnelSide]:  # type: ignore[no-untyped-def]
    return [conn for conn in runtime.ctx.connections if isinstance(conn, TunnelSide)]


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


MANIFESTS = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portico}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: default}}
spec:
  gatewayClassName: portico
  listeners: [{{name: http, port: {port}, protocol: HTTP}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: chat, namespace: default}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{name: chat, port: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: chat, namespace: default}}
spec: {{ports: [{{name: ws, port: 80, targetPort: {target}, appProtocol: kubernetes.io/ws}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: chat-1, namespace: default, labels: {{kubernetes.io/service-name: chat}}}}
addressType: IPv4
ports: [{{name: ws, port: {target}}}]
endpoints: [{{addresses: [127.0.0.1], conditions: {{ready: true}}}}]
"""


async def test_a_websocket_backend_from_manifests(proxy, ws_backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """appProtocol kubernetes.io/ws end to end: translated with the proxy's capabilities (which claim
    HTTPRouteBackendProtocolWebSocket), resolved, served."""
    port = free_port()
    (tmp_path / "all.yaml").write_text(MANIFESTS.format(port=port, target=_port(ws_backend)))
    snapshot = build_snapshot([m.obj for m in load_manifests([str(tmp_path)])])
    result = translate(snapshot, {CONTROLLER: PROXY_CAPABILITIES})
    assert "HTTPRouteBackendProtocolWebSocket" in {
        f["name"] for f in result.statuses[("GatewayClass", "", "portico")]["supportedFeatures"]
    }
    route = {
        c["type"]: c["status"] for c in result.statuses[("HTTPRoute", "default", "chat")]["parents"][0]["conditions"]
    }
    assert route["Accepted"] == route["ResolvedRefs"] == "True"
    await proxy(gateways_from_manifests([str(tmp_path)]))
    async with connect(_url(port, "/room"), ping_interval=None) as ws:
        await ws.send("hi")
        assert await asyncio.wait_for(ws.recv(), 5) == "hi"


async def test_websocket_over_tls(proxy, ws_backend) -> None:  # type: ignore[no-untyped-def]
    """wss: the tunnel splices the client's TLS transport to the plain backend socket."""
    pem = self_signed("chat.example.com")
    cert = Certificate(secret=ObjectKey(namespace="default", name="chat"), cert_pem=pem[0], key_pem=pem[1])
    port = free_port()
    https = listener(
        port=port,
        rules=(rule("ws", match=prefix("/"), backends=(local_backend("ws", _port(ws_backend)),)),),
        protocol=ListenerProtocol.HTTPS,
        name="https",
        certificates=(cert,),
    )
    await proxy([gateway(https)])
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    url = f"wss://127.0.0.1:{port}/echo"
    async with connect(url, ssl=context, server_hostname="chat.example.com", max_size=None, ping_interval=None) as ws:
        payload = b"z" * (1 << 20)
        await ws.send(payload)
        assert await asyncio.wait_for(ws.recv(), 10) == payload
