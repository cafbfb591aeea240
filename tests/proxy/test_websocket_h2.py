"""WebSocket over HTTP/2 (RFC 8441): an h2 client (tests/proxy/h2ws.py: the `h2` library over a real
socket, WebSocket frames by the sans-I/O protocol of `websockets`) opens extended CONNECT streams to
the proxy, which speaks HTTP/1.1 Upgrade to a real `websockets` server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import ssl
import struct
from collections.abc import AsyncIterator

import pytest
from h2.errors import ErrorCodes
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response

from portico.ir import (
    Certificate,
    HeaderModifier,
    HeaderValue,
    ListenerProtocol,
    Match,
    ObjectKey,
    PathMatch,
    RequestHeaderModifierFilter,
)
from portico_proxy.context import Limits
from portico_proxy.server_h2 import H2Server
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import self_signed
from tests.proxy.h2ws import H2Client

BIG = 4 << 20  # 4 MiB per message: far past every window and buffer on the way
STALLED = 40  # streams to backends that do not read: together they hold more than a connection window
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def _handler(ws: ServerConnection) -> None:
    """/echo echoes; /headers sends the handshake's X-Set, then echoes; /close closes with 4001."""
    request = ws.request
    path = request.path if request is not None else ""
    if path.startswith("/close"):
        await ws.close(4001, "server says bye")
        return
    if path.startswith("/headers") and request is not None:
        await ws.send(request.headers.get("X-Set", "-"))
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


def _refuse_forbidden(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.startswith("/forbidden"):
        return connection.respond(403, "no websocket for you\n")
    return None


@pytest.fixture
async def ws_backend() -> AsyncIterator[Server]:
    async with serve(
        _handler, "127.0.0.1", 0, max_size=None, ping_interval=None, process_request=_refuse_forbidden
    ) as server:
        yield server


def _port(server: Server | asyncio.Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])


async def _serve(proxy, backend_port: int, limits: Limits | None = None, **rule_extra: object) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    port = free_port()
    ws_rule = rule("ws", match=prefix("/"), backends=(local_backend("ws", backend_port),), **rule_extra)
    runtime = await proxy([gateway(listener(port=port, rules=(ws_rule,)))], limits)
    return port, runtime


@pytest.fixture
async def clients() -> AsyncIterator[list[H2Client]]:
    opened: list[H2Client] = []
    yield opened
    for client in opened:
        client.close()


async def _connect(clients: list[H2Client], port: int) -> H2Client:
    client = await H2Client.connect(port)
    clients.append(client)
    return client


def _tunnel_streams(runtime) -> list[object]:  # type: ignore[no-untyped-def]
    return [
        stream
        for conn in runtime.ctx.connections
        if isinstance(conn, H2Server)
        for stream in conn.streams.values()
        if stream.tunnel is not None
    ]


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_settings_offer_extended_connect_and_messages_echo(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _serve(proxy, _port(ws_backend))
    client = await _connect(clients, port)
    assert await client.settings == 1  # SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 3)
    stream = await client.websocket("/echo")
    assert stream.status == 200
    # RFC 8441 5: no Sec-WebSocket-Accept, and no connection-specific fields, on HTTP/2.
    assert not {b"sec-websocket-accept", b"upgrade", b"connection"} & set(stream.headers)
    for message in ("hello", b"\x00\x01binary", "ünïcode"):
        await stream.send(message)
        assert await stream.recv() == message


async def test_large_messages_both_ways(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _serve(proxy, _port(ws_backend))
    stream = await (await _connect(clients, port)).websocket("/echo")
    payload = bytes(range(256)) * (BIG // 256)
    for _ in range(3):
        await stream.send(payload)
        assert await stream.recv(30) == payload


async def test_close_from_the_client_reaches_the_server(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, _port(ws_backend))
    stream = await (await _connect(clients, port)).websocket("/echo")
    await stream.send("x")
    assert await stream.recv() == "x"
    await stream.close(4002, "client says bye")
    close = await stream.next_frame()  # the server's answer to our Close
    assert close.opcode.name == "CLOSE" and stream.ws.close_rcvd is not None
    assert stream.ws.close_rcvd.code == 4002
    await stream.until_over()  # the backend closed its socket: END_STREAM
    assert stream.ended and stream.reset_code in (None, ErrorCodes.NO_ERROR)
    await _until(lambda: not _tunnel_streams(runtime))
    await _until(lambda: runtime.ctx.pools.stats.sockets == 0)


async def test_close_from_the_server_reaches_the_client(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, _port(ws_backend))
    stream = await (await _connect(clients, port)).websocket("/close")
    with pytest.raises(ConnectionError, match="4001 server says bye"):
        await stream.recv()
    await stream.until_over()
    assert stream.ended
    await _until(lambda: not _tunnel_streams(runtime))
    await _until(lambda: runtime.ctx.pools.stats.sockets == 0)


async def test_a_client_reset_closes_the_backend_socket(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, _port(ws_backend))
    client = await _connect(clients, port)
    stream = await client.websocket("/echo")
    await stream.send("x")
    assert await stream.recv() == "x"
    assert len(ws_backend.connections) == 1
    client.reset_stream(stream.stream_id)
    await _until(lambda: not ws_backend.connections and runtime.ctx.pools.stats.sockets == 0)
    assert not _tunnel_streams(runtime)


async def test_routed_as_the_equivalent_get(proxy, ws_backend, echo, clients) -> None:  # type: ignore[no-untyped-def]
    """A method match sees GET (RFC 8441 5), never CONNECT."""
    app = await echo("plain")
    port = free_port()
    chat = PathMatch(type="PathPrefix", value="/chat")
    await proxy(
        [
            gateway(
                listener(
                    port=port,
                    rules=(
                        rule("c", match=Match(path=chat, method="CONNECT"), backends=(local_backend("p", app.port),)),
                        rule(
                            "g",
                            match=Match(path=chat, method="GET"),
                            backends=(local_backend("ws", _port(ws_backend)),),
                        ),
                    ),
                )
            )
        ]
    )
    stream = await (await _connect(clients, port)).websocket("/chat/room")
    assert stream.status == 200
    await stream.send("routed")
    assert await stream.recv() == "routed"
    assert not app.stats.seen


async def test_request_filters_apply_to_the_handshake(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    set_header = RequestHeaderModifierFilter(
        modifier=HeaderModifier(set=(HeaderValue(name="X-Set", value="by-route"),))
    )
    port, _ = await _serve(proxy, _port(ws_backend), filters=(set_header,))
    client = await _connect(clients, port)
    stream = await client.websocket("/headers", extra=[(b"x-set", b"client")])
    assert await stream.recv() == "by-route"
    await stream.send("after")
    assert await stream.recv() == "after"


async def test_a_hundred_tunnels_and_plain_requests_share_a_connection(proxy, ws_backend, echo, clients) -> None:  # type: ignore[no-untyped-def]
    app = await echo("plain")
    port = free_port()
    runtime = await proxy(
        [
            gateway(
                listener(
                    port=port,
                    rules=(
                        rule("plain", match=prefix("/plain"), backends=(local_backend("plain", app.port),)),
                        rule("ws", match=prefix("/"), backends=(local_backend("ws", _port(ws_backend)),)),
                    ),
                )
            )
        ]
    )
    client = await _connect(clients, port)
    # As many tunnels as the connection has streams (100), all talking at once.
    streams = await asyncio.gather(*(client.websocket(f"/echo/{n}") for n in range(100)))
    assert {s.status for s in streams} == {200}

    async def talk(n: int, rounds: int = 5) -> None:
        for i in range(rounds):
            await streams[n].send(f"{n}:{i}")
            assert await streams[n].recv() == f"{n}:{i}"

    await asyncio.wait_for(asyncio.gather(*(talk(n) for n in range(100))), 60)
    assert len(_tunnel_streams(runtime)) == 100
    # One closes: ordinary requests take its slot while the 99 others keep talking.
    await streams[99].close(1000)
    await _until(lambda: len(_tunnel_streams(runtime)) == 99)

    async def plain() -> None:
        for i in range(10):
            status, _ = await client.get(f"/plain/{i}")
            assert status == 200

    await asyncio.wait_for(asyncio.gather(plain(), *(talk(n) for n in range(99))), 60)
    for stream in streams[:99]:
        await stream.close(1000)
    await _until(lambda: not _tunnel_streams(runtime))
    await _until(lambda: runtime.ctx.pools.stats.sockets <= 1)  # the plain backend's kept-alive one


def _accept(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


async def _raw_backend(talk, sock: socket.socket | None = None) -> asyncio.Server:  # type: ignore[no-untyped-def]
    """A backend that answers the handshake by hand (accept computed from the key), then `talk`s."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)
        }
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n"
            b"sec-websocket-accept: %s\r\n\r\n" % _accept(fields[b"sec-websocket-key"])
        )
        try:
            await talk(reader, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()

    if sock is not None:
        return await asyncio.start_server(handle, sock=sock)
    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_a_client_that_reads_nothing_pauses_the_backend_and_not_the_others(  # type: ignore[no-untyped-def]
    proxy, ws_backend, echo, clients
) -> None:
    """The backend floods a tunnel whose client gives no window: the proxy stops reading that
    backend (bounded memory) while the connection's other tunnel and plain requests go on."""
    sent = 0
    flooding = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        chunk = Frame(Opcode.BINARY, b"x" * 65536).serialize(mask=False)
        writers.append(writer)
        flooding.set()
        while sent < 256 << 20:
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    flooder = await _raw_backend(flood)
    app = await echo("plain")
    port = free_port()
    runtime = await proxy(
        [
            gateway(
                listener(
                    port=port,
                    rules=(
                        rule("flood", match=prefix("/flood"), backends=(local_backend("flood", _port(flooder)),)),
                        rule("plain", match=prefix("/plain"), backends=(local_backend("plain", app.port),)),
                        rule("ws", match=prefix("/"), backends=(local_backend("ws", _port(ws_backend)),)),
                    ),
                )
            )
        ]
    )
    client = await _connect(clients, port)
    stalled = await client.websocket("/flood")
    stalled.reading = False
    assert stalled.status == 200
    await asyncio.wait_for(flooding.wait(), 5)

    def backend_paused() -> bool:
        tunnels = [s.tunnel for s in _tunnel_streams(runtime)]  # type: ignore[attr-defined]
        return any(t.backend is not None and not t.backend.is_reading() for t in tunnels)

    await _until(backend_paused)
    # The backend is blocked: the proxy reads nothing more, its socket buffers are full.
    await _until(lambda: writers[0].transport.get_write_buffer_size() > 0)
    assert sent < 64 << 20  # of the 256 MiB the backend wants to send
    for stream in _tunnel_streams(runtime):
        assert stream.outbox.size <= 1 << 20  # type: ignore[attr-defined]
    other = await client.websocket("/echo")
    await other.send(b"y" * 100_000)
    assert await other.recv() == b"y" * 100_000
    assert (await client.get("/plain/x"))[0] == 200
    stalled.resume_reading()
    for _ in range(3):  # the flood goes on once the client reads again
        assert await stalled.recv() == b"x" * 65536
    flooder.close()


async def test_backends_that_read_nothing_stall_their_streams_only(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    """Clients send to backends that do not read: the proxy stops giving those streams credit
    (bounded memory), but returns the connection's credit at once, so streams holding more than the
    connection's whole window (16 MiB) do not stall another stream on the same connection."""
    reading = asyncio.Event()

    async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reading.wait()
        while await reader.read(65536):
            pass

    listening = socket.create_server(("127.0.0.1", 0))
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    backend = await _raw_backend(deaf, sock=listening)
    port = free_port()
    deaf_rule = rule("deaf", match=prefix("/deaf"), backends=(local_backend("deaf", _port(backend)),))
    ws_rule = rule("ws", match=prefix("/"), backends=(local_backend("ws", _port(ws_backend)),))
    runtime = await proxy([gateway(listener(port=port, rules=(deaf_rule, ws_rule)))])
    client = await _connect(clients, port)
    stalled = await asyncio.gather(*(client.websocket(f"/deaf/{n}") for n in range(STALLED)))
    for stream in _tunnel_streams(runtime):  # small kernel buffers on the way: the stalls come soon
        sock = stream.tunnel.backend.get_extra_info("socket")  # type: ignore[attr-defined]
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    sending = [asyncio.ensure_future(stream.send(b"z" * (2 << 20))) for stream in stalled]

    def held_back() -> int:
        return sum(s.tunnel.unacked for s in _tunnel_streams(runtime))  # type: ignore[attr-defined]

    await _until(lambda: held_back() > 16 << 20, 30)
    assert not any(task.done() for task in sending)
    other = await client.websocket("/echo")
    await other.send(b"y" * 100_000)
    assert await other.recv() == b"y" * 100_000
    for stream in _tunnel_streams(runtime):
        if stream.tunnel.backend is not None:  # type: ignore[attr-defined]
            assert stream.tunnel.backend.get_write_buffer_size() <= 4 << 20  # type: ignore[attr-defined]
    reading.set()  # the backends read again: the streams get their credit back
    await asyncio.wait_for(asyncio.gather(*sending), 60)
    backend.close()


async def test_closing_tunnels_with_resets_is_no_abuse(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    """RST_STREAM is a normal way to close an open WebSocket: many of them do not count as the rapid
    reset attack (h2guard), which is about streams reset before their answer."""
    port, _ = await _serve(proxy, _port(ws_backend))
    client = await _connect(clients, port)
    for _ in range(3):
        streams = await asyncio.gather(*(client.websocket("/echo") for _ in range(50)))
        assert {s.status for s in streams} == {200}
        for stream in streams:
            client.reset_stream(stream.stream_id)
    stream = await client.websocket("/echo")
    await stream.send("still here")
    assert await stream.recv() == "still here"
    assert client.goaway is None
    await _until(lambda: len(ws_backend.connections) == 1)


async def test_end_stream_is_a_half_close_both_ways(proxy, clients) -> None:  # type: ignore[no-untyped-def]
    """The client's END_STREAM reaches the backend as EOF; the backend still answers after it, and
    its FIN ends the stream."""
    got: list[bytes] = []

    async def until_eof_then_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read())  # to EOF
        writer.write(Frame(Opcode.TEXT, b"bye").serialize(mask=False))
        await writer.drain()

    backend = await _raw_backend(until_eof_then_answer)
    port, runtime = await _serve(proxy, _port(backend))
    stream = await (await _connect(clients, port)).websocket("/half")
    await stream.send("hello")
    stream.half_close()
    assert await stream.recv() == "bye"
    await stream.until_over()
    assert stream.ended and stream.reset_code is None
    assert len(got[0]) == 2 + 4 + len("hello")  # the one masked frame, then EOF
    await _until(lambda: not _tunnel_streams(runtime) and runtime.ctx.pools.stats.sockets == 0)
    backend.close()


async def test_a_backend_reset_resets_the_stream(proxy, clients) -> None:  # type: ignore[no-untyped-def]
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        writer.transport.abort()

    backend = await _raw_backend(reset)
    port, runtime = await _serve(proxy, _port(backend))
    stream = await (await _connect(clients, port)).websocket("/reset")
    await stream.send("x")
    await stream.until_over()
    assert stream.reset_code == ErrorCodes.CONNECT_ERROR
    await _until(lambda: not _tunnel_streams(runtime) and runtime.ctx.pools.stats.sockets == 0)
    backend.close()


async def test_data_sent_before_the_answer_reaches_the_backend(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    """DATA right behind the CONNECT waits in the proxy (uncredited) for the backend's 101."""
    port, _ = await _serve(proxy, _port(ws_backend))
    stream = await (await _connect(clients, port)).websocket("/echo", early="too soon?")
    assert stream.status == 200
    assert await stream.recv() == "too soon?"
    await stream.send("then")
    assert await stream.recv() == "then"


async def test_a_reload_leaves_an_open_tunnel_on_the_old_table(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, _port(ws_backend))
    client = await _connect(clients, port)
    stream = await client.websocket("/echo")
    await stream.send("before")
    assert await stream.recv() == "before"
    nowhere = rule("other", match=prefix("/nowhere"), backends=(local_backend("x", 9),))
    await runtime.update([gateway(listener(port=port, rules=(nowhere,)))])
    refused = await client.websocket("/echo")  # a new handshake sees the new table
    assert refused.status == 404
    await stream.send("after")
    assert await stream.recv() == "after"


async def test_a_refused_handshake_is_passed_on_and_ends_the_stream(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _serve(proxy, _port(ws_backend))
    client = await _connect(clients, port)
    stream = await client.websocket("/forbidden")
    await stream.until_over()
    assert (stream.status, bytes(stream.body)) == (403, b"no websocket for you\n")
    assert stream.ended and stream.reset_code is None
    # The connection goes on: the next handshake works.
    assert (await client.websocket("/echo")).status == 200


async def test_a_backend_that_fakes_the_switch_gets_502(proxy, clients) -> None:  # type: ignore[no-untyped-def]
    """101 without the Sec-WebSocket-Accept the key calls for: not a WebSocket server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()

    backend = await asyncio.start_server(handle, "127.0.0.1", 0)
    port, runtime = await _serve(proxy, _port(backend))
    stream = await (await _connect(clients, port)).websocket("/echo")
    await stream.until_over()
    assert stream.status == 502 and b"websocket handshake" in stream.body
    await _until(lambda: runtime.ctx.pools.stats.sockets == 0)
    backend.close()


async def test_plain_connect_and_other_protocols_are_refused(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, _ = await _serve(proxy, _port(ws_backend))
    client = await _connect(clients, port)
    status, _ = await client.request([(b":method", b"CONNECT"), (b":authority", b"db.internal:5432")], end=False)
    assert status == 405
    other = [
        (b":method", b"CONNECT"),
        (b":protocol", b"connect-udp"),
        (b":scheme", b"http"),
        (b":path", b"/.well-known/masque/udp/h/53/"),
        (b":authority", b"chat.example"),
    ]
    status, body = await client.request(other, end=False)
    assert status == 501 and b"connect-udp" in body
    assert (await client.websocket("/echo")).status == 200  # the connection is still fine


async def test_the_backend_sees_an_http11_websocket_handshake(proxy, clients) -> None:  # type: ignore[no-untyped-def]
    """GET with Upgrade/Connection, a fresh Sec-WebSocket-Key (the client's is never passed on), the
    client's version and subprotocols; the subprotocol the backend picks comes back."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        key = next(
            line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.startswith(b"sec-websocket-key")
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: chat.v2\r\n\r\n" % _accept(key)
        )
        await writer.drain()
        await reader.read()
        writer.close()

    backend = await asyncio.start_server(handle, "127.0.0.1", 0)
    port, _ = await _serve(proxy, _port(backend))
    client = await _connect(clients, port)
    stream = await client.websocket(
        "/room?x=1", extra=[(b"sec-websocket-protocol", b"chat.v1, chat.v2"), (b"sec-websocket-key", b"from-client")]
    )
    assert stream.status == 200 and stream.headers[b"sec-websocket-protocol"] == b"chat.v2"
    lines = seen[0].lower().split(b"\r\n")
    assert lines[0] == b"get /room?x=1 http/1.1"
    fields = [line.split(b":", 1)[0] for line in lines[1:] if line]
    assert b"upgrade: websocket" in lines and any(line.startswith(b"connection: upgrade") for line in lines)
    assert b"sec-websocket-version: 13" in lines and b"sec-websocket-protocol: chat.v1, chat.v2" in lines
    assert fields.count(b"sec-websocket-key") == 1 and b"sec-websocket-key: from-client" not in lines
    key = next(line.split(b": ", 1)[1] for line in lines if line.startswith(b"sec-websocket-key"))
    assert len(base64.b64decode(key)) == 16
    backend.close()


async def test_an_idle_tunnel_is_reset(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    port, runtime = await _serve(proxy, _port(ws_backend), Limits(idle_timeout_s=1.0))
    stream = await (await _connect(clients, port)).websocket("/echo")
    await stream.send("x")
    assert await stream.recv() == "x"
    await stream.until_over(10)
    assert stream.reset_code == ErrorCodes.CANCEL
    await _until(lambda: not _tunnel_streams(runtime) and runtime.ctx.pools.stats.sockets == 0)


async def test_websocket_over_h2_with_tls_alpn(proxy, ws_backend, clients) -> None:  # type: ignore[no-untyped-def]
    pem = self_signed("chat.example")
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
    context.set_alpn_protocols(["h2"])
    client = await H2Client.connect(port, context, "chat.example")
    clients.append(client)
    stream = await client.websocket("/echo")
    payload = b"w" * (1 << 20)
    await stream.send(payload)
    assert await stream.recv() == payload
