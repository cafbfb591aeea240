"""HTTPS and TLS listeners (Passthrough and Terminate) on one port, told apart by the ClientHello's
SNI before anything is terminated (TLSRouteModeMixed; ingress-nginx's ssl-passthrough next to HTTPS
on 443). Real clients: HTTP/1.1 and HTTP/2 (ALPN) to the HTTPS listener, TLS to a Passthrough
backend (its own certificate, its bytes untouched), TLS terminated by the proxy to a plain backend."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import h2.config
import h2.connection
import h2.events

from portico.ir import Certificate, GatewayIR, ListenerProtocol, ObjectKey, RouteKind, TLSMode
from portico_proxy.context import Limits
from portico_proxy.runtime import ProxyRuntime
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import self_signed
from tests.proxy.echo_backend import EchoBackend
from tests.proxy.l4_backends import Make
from tests.proxy.test_sni import client_hello, reframe
from tests.proxy.test_tls_route import WAIT, tls_exchange, trusting

Start = Callable[..., Awaitable[ProxyRuntime]]
Echo = Callable[[str], Awaitable[EchoBackend]]


def _cert(name: str, pem: tuple[str, str]) -> Certificate:
    return Certificate(secret=ObjectKey(namespace="default", name=name), cert_pem=pem[0], key_pem=pem[1])


def _tls(name: str, port: int, hostname: str, target: int, mode: TLSMode, **fields: object):  # type: ignore[no-untyped-def]
    route = rule(name, path=None, kind=RouteKind.TLS, hostnames=(hostname,), backends=(local_backend(name, target),))
    return listener(name, port, (route,), protocol=ListenerProtocol.TLS, hostname=hostname, tls_mode=mode, **fields)  # type: ignore[arg-type]


def _mixed_gateway(port: int, web: int, db: int, mqtt: int, raw: int, pem: tuple[str, str]) -> GatewayIR:
    """On `port`: HTTPS `*.example.com`; TLS Passthrough `db.` and `raw.example.com` (more specific
    than the wildcard); TLS Terminate `mqtt.example.com`. One certificate covers the proxy's names."""
    https = listener(
        "web",
        port,
        (rule("site", match=prefix("/"), backends=(local_backend("web", web),)),),
        protocol=ListenerProtocol.HTTPS,
        hostname="*.example.com",
        certificates=(_cert("web", pem),),
    )
    return gateway(
        https,
        _tls("db", port, "db.example.com", db, TLSMode.PASSTHROUGH),
        _tls("raw", port, "raw.example.com", raw, TLSMode.PASSTHROUGH),
        _tls("mqtt", port, "mqtt.example.com", mqtt, TLSMode.TERMINATE, certificates=(_cert("mqtt", pem),)),
        controller="portico.dev/proxy",
    )


async def _start(proxy: Start, echo: Echo, backends: Make, **kw: object) -> tuple[int, str, dict[str, object]]:
    web = await echo("web")
    db = await backends("db", "db.example.com")
    mqtt = await backends("mqtt")
    raw = await backends("raw", record_only=True)
    pem = self_signed("*.example.com", "mqtt.example.com")
    port = free_port()
    await proxy([_mixed_gateway(port, web.port, db.port, mqtt.port, raw.port, pem)], **kw)
    return port, pem[0], {"web": web, "db": db, "mqtt": mqtt, "raw": raw}


async def _https_get(port: int, trust: str, server_name: str, host: str) -> tuple[int, str, bytes]:
    """(status, ALPN protocol, body) of one HTTP/1.1 request over TLS."""
    context = trusting(trust)
    context.set_alpn_protocols(["http/1.1"])
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name), WAIT
    )
    try:
        writer.write(f"GET /hello HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = await asyncio.wait_for(reader.read(), WAIT)
        alpn = writer.get_extra_info("ssl_object").selected_alpn_protocol()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), alpn, body


async def _h2_get(port: int, trust: str, server_name: str) -> tuple[str, int, dict[str, object]]:
    """(ALPN protocol, status, echoed request) of one HTTP/2 request negotiated by ALPN."""
    context = trusting(trust)
    context.set_alpn_protocols(["h2"])
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name), WAIT
    )
    alpn = writer.get_extra_info("ssl_object").selected_alpn_protocol()
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    headers = [(":method", "GET"), (":path", "/over-h2"), (":scheme", "https"), (":authority", server_name)]
    conn.send_headers(1, headers, end_stream=True)
    writer.write(conn.data_to_send())
    status, body, ended = 0, b"", False
    try:
        while not ended:
            data = await asyncio.wait_for(reader.read(65536), WAIT)
            assert data, "connection closed before the stream ended"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended = True
            writer.write(conn.data_to_send())
    finally:
        writer.close()
    return alpn, status, json.loads(body)


async def test_https_passthrough_and_terminate_share_one_port(proxy: Start, echo: Echo, backends: Make) -> None:
    port, proxy_pem, started = await _start(proxy, echo, backends)
    db = started["db"]
    # HTTPS: terminated by the proxy, HTTP/1.1 and HTTP/2 as ALPN chose, routed by Host.
    status, alpn, body = await _https_get(port, proxy_pem, "app.example.com", "app.example.com")
    assert (status, alpn, json.loads(body)["path"]) == (200, "http/1.1", "/hello")
    alpn, status, seen = await _h2_get(port, proxy_pem, "app.example.com")
    assert (alpn, status, seen["path"]) == ("h2", 200, "/over-h2")
    # Passthrough: the backend's own certificate (db.example.com) and handshake, end to end.
    assert await tls_exchange(port, "db.example.com", db.cert_pem) == ("db", b"ping", "db.example.com")  # type: ignore[attr-defined]
    # Terminate: the proxy's certificate, no ALPN, plaintext to the backend.
    big = bytes(range(256)) * 1024
    assert await tls_exchange(port, "mqtt.example.com", proxy_pem, big) == ("mqtt", big, "*.example.com")
    # ALPN is the listener's: HTTPS offers h2, a TLS Terminate listener offers nothing (it relays bytes).
    context = trusting(proxy_pem)
    context.set_alpn_protocols(["h2", "http/1.1"])
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="mqtt.example.com")
    assert writer.get_extra_info("ssl_object").selected_alpn_protocol() is None
    writer.close()
    # A name no listener has, or none: the HTTPS listener's default certificate, and Host decides.
    assert (await _https_get(port, proxy_pem, "app.example.com", "other.test"))[0] == 404
    # Listener isolation: db.example.com belongs to the TLS listener, not to HTTPS *.example.com.
    assert (await _https_get(port, proxy_pem, "app.example.com", "db.example.com"))[0] == 404


async def test_passthrough_next_to_https_gets_the_untouched_bytes(proxy: Start, echo: Echo, backends: Make) -> None:
    port, _, started = await _start(proxy, echo, backends)
    recorder = started["raw"]
    hello = reframe(client_hello("raw.example.com"), [2, 30])  # three TLS records
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for start in range(0, len(hello), 40):  # several TCP segments: the SNI is peeked once it is whole
        writer.write(hello[start : start + 40])
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.write(b"and then some bytes")
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), WAIT)
    writer.close()
    sent = hello + b"and then some bytes"
    assert answer == b"got %d bytes from you" % len(sent)
    assert bytes(recorder.received) == sent  # type: ignore[attr-defined]


async def test_mixed_port_closes_silent_and_non_tls_clients(proxy: Start, echo: Echo, backends: Make) -> None:
    port, proxy_pem, started = await _start(proxy, echo, backends, limits=Limits(header_timeout_s=0.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(client_hello("db.example.com")[:20])  # and never the rest: closed at the head timeout
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    assert started["db"].connections == 0  # type: ignore[attr-defined]
    # The port still serves afterwards.
    assert (await _https_get(port, proxy_pem, "app.example.com", "app.example.com"))[0] == 200


async def test_a_reload_turns_a_passthrough_port_into_a_mixed_one(proxy: Start, echo: Echo, backends: Make) -> None:
    web = await echo("web")
    db = await backends("db", "db.example.com")
    mqtt = await backends("mqtt")
    raw = await backends("raw", record_only=True)
    pem = self_signed("*.example.com", "mqtt.example.com")
    port = free_port()
    only_tls = gateway(_tls("db", port, "db.example.com", db.port, TLSMode.PASSTHROUGH), controller="portico.dev/proxy")
    runtime = await proxy([only_tls])
    assert (await tls_exchange(port, "db.example.com", db.cert_pem))[0] == "db"
    await runtime.update([_mixed_gateway(port, web.port, db.port, mqtt.port, raw.port, pem)])
    assert (await _https_get(port, pem[0], "app.example.com", "app.example.com"))[0] == 200
    assert (await tls_exchange(port, "db.example.com", db.cert_pem))[0] == "db"
