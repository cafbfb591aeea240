"""421 Misdirected Request: on an HTTPS port, a request whose Host selects another listener than the
connection's SNI did (a client reusing a connection across names its certificate covers)."""

from __future__ import annotations

import asyncio
import ssl

import h2.config
import h2.connection
import h2.events

from portico.ir import Certificate, ListenerProtocol, ObjectKey
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import self_signed


def _https(port: int, name: str, hostname: str, target: int, pem: tuple[str, str]):  # type: ignore[no-untyped-def]
    cert = Certificate(secret=ObjectKey(namespace="default", name=name), cert_pem=pem[0], key_pem=pem[1])
    return listener(
        port=port,
        rules=(rule(f"r-{name}", match=prefix("/"), backends=(local_backend(name, target),)),),
        protocol=ListenerProtocol.HTTPS,
        name=name,
        hostname=hostname,
        certificates=(cert,),
    )


async def _start(proxy, echo) -> int:  # type: ignore[no-untyped-def]
    """Listeners `a.example.com` (exact) and `*.example.com`; one certificate covers every name."""
    app = await echo("app")
    pem = self_signed("*.example.com", "a.example.com")
    port = free_port()
    await proxy(
        [
            gateway(
                _https(port, "exact", "a.example.com", app.port, pem),
                _https(port, "wild", "*.example.com", app.port, pem),
            )
        ]
    )
    return port


def _client_context(alpn: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols([alpn])
    return context


async def _h1_status(port: int, server_name: str | None, host: str) -> int:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=_client_context("http/1.1"), server_hostname=server_name
    )
    writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    try:
        answer = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    return int(answer.split(b" ", 2)[1])


async def test_http1_misdirected_request_gets_421(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port = await _start(proxy, echo)
    assert await _h1_status(port, "a.example.com", "a.example.com") == 200
    assert await _h1_status(port, "b.example.com", "b.example.com") == 200
    # SNI picked the wildcard listener, Host the exact one (more specific): 421; and the other way round.
    assert await _h1_status(port, "b.example.com", "a.example.com") == 421
    assert await _h1_status(port, "a.example.com", "c.example.com") == 421
    # Both names select the wildcard listener: not misdirected. No listener for Host: 404.
    assert await _h1_status(port, "b.example.com", "c.example.com") == 200
    assert await _h1_status(port, "a.example.com", "other.test") == 404
    # No SNI, or one that selects no listener: nothing to compare, Host decides.
    assert await _h1_status(port, None, "a.example.com") == 200
    assert await _h1_status(port, "other.test", "a.example.com") == 200


async def test_http2_coalesced_connection_gets_421_for_another_listener(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    port = await _start(proxy, echo)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=_client_context("h2"), server_hostname="b.example.com"
    )
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    # One connection (SNI b.example.com) reused for two names, as browsers do when the certificate covers both.
    for stream_id, authority in ((1, "b.example.com"), (3, "a.example.com")):
        headers = [(":method", "GET"), (":path", "/"), (":scheme", "https"), (":authority", authority)]
        conn.send_headers(stream_id, headers, end_stream=True)
    writer.write(conn.data_to_send())
    statuses: dict[int, int] = {}
    ended: set[int] = set()
    try:
        while ended != {1, 3}:
            data = await asyncio.wait_for(reader.read(65536), 5)
            assert data, "connection closed before both streams ended"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    statuses[event.stream_id] = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended.add(event.stream_id)
            writer.write(conn.data_to_send())
    finally:
        writer.close()
    assert statuses == {1: 200, 3: 421}
