"""TLSRoute through the proxy with real sockets: Passthrough (the route chosen by the ClientHello's
SNI, the TLS backend terminating; a raw backend sees the client's bytes untouched) and Terminate
(the proxy's certificate, plaintext to the backend). Weights, refused shares, half-close, the
ClientHello timeout and the idle timeout."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

from portico.cli.serve import gateways_from_manifests
from portico.ir import Backend, GatewayIR, ListenerProtocol, RouteKind, Rule, TLSMode
from portico_proxy.context import Limits
from portico_proxy.runtime import ProxyRuntime
from tests.irs import certificate, free_port, gateway, listener, local_backend, rule
from tests.proxy.certs import common_name, self_signed
from tests.proxy.l4_backends import Make
from tests.proxy.test_sni import client_hello, reframe

Start = Callable[..., Awaitable[ProxyRuntime]]
WAIT = 10.0


def tls_rule(route: str, hostnames: tuple[str, ...], *backends: Backend) -> Rule:
    return rule(route, path=None, kind=RouteKind.TLS, hostnames=hostnames, backends=backends)


def tls_gateway(port: int, *rules: Rule, mode: TLSMode = TLSMode.PASSTHROUGH, **fields: object) -> GatewayIR:
    return gateway(
        listener("tls", port, rules, protocol=ListenerProtocol.TLS, tls_mode=mode, **fields),  # type: ignore[arg-type]
        controller="portico.dev/proxy",
    )


def trusting(cert_pem: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=cert_pem)
    return context


async def tls_exchange(port: int, server_name: str, trust: str, payload: bytes = b"ping") -> tuple[str, bytes, str]:
    """(first line the backend sent, the echo of `payload`, the certificate's common name)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=trusting(trust), server_hostname=server_name), WAIT
    )
    try:
        name = (await asyncio.wait_for(reader.readline(), WAIT)).decode().strip()
        writer.write(payload)
        echo = await asyncio.wait_for(reader.readexactly(len(payload)), WAIT)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return name, echo, common_name(der)
    finally:
        writer.close()


async def refused(port: int, server_name: str) -> bool:
    """True when the proxy closes the connection instead of completing a handshake."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name), WAIT
        )
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        return True
    writer.close()
    return False


async def test_passthrough_routes_by_sni_exact_before_wildcard(proxy: Start, backends: Make) -> None:
    exact = await backends("exact", "db.example.com")
    wildcard = await backends("wildcard", "*.example.com", "db.example.com")
    port = free_port()
    gw = tls_gateway(
        port,
        tls_rule("star", ("*.example.com",), local_backend("wildcard", wildcard.port)),
        tls_rule("db", ("db.example.com",), local_backend("exact", exact.port)),
    )
    await proxy([gw])
    assert await tls_exchange(port, "db.example.com", exact.cert_pem) == ("exact", b"ping", "db.example.com")
    name, echo, cn = await tls_exchange(port, "api.example.com", wildcard.cert_pem)
    assert (name, echo, cn) == ("wildcard", b"ping", "*.example.com")
    assert await refused(port, "db.example.org")  # no route: closed, never another backend
    assert (exact.connections, wildcard.connections) == (1, 1)


async def test_passthrough_relays_the_untouched_client_hello_in_pieces(proxy: Start, backends: Make) -> None:
    recorder = await backends("recorder", record_only=True)
    port = free_port()
    await proxy([tls_gateway(port, tls_rule("raw", ("raw.example.com",), local_backend("raw", recorder.port)))])
    hello = reframe(client_hello("raw.example.com"), [2, 30])  # three records
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for start in range(0, len(hello), 50):  # several writes, each flushed before the next
        writer.write(hello[start : start + 50])
        await writer.drain()
    writer.write(b"and then some bytes")
    writer.write_eof()  # a half-close reaches the backend, whose answer still comes back
    answer = await asyncio.wait_for(reader.read(), WAIT)
    writer.close()
    sent = hello + b"and then some bytes"
    assert answer == b"got %d bytes from you" % len(sent)
    assert bytes(recorder.received) == sent


async def test_passthrough_weights_and_refused_share(proxy: Start, backends: Make) -> None:
    heavy = await backends("heavy", "w.example.com")
    light = await backends("light", "w.example.com")
    port = free_port()
    missing = Backend(namespace="shop", name="missing", port=443, invalid_reason="BackendNotFound")
    await proxy(
        [
            tls_gateway(
                port,
                tls_rule(
                    "weighted",
                    ("w.example.com",),
                    local_backend("heavy", heavy.port, weight=3),
                    local_backend("light", light.port, weight=1),
                    missing.model_copy(update={"weight": 4}),
                ),
            )
        ]
    )
    outcomes = []
    for _ in range(8):
        outcomes.append("refused" if await refused(port, "w.example.com") else "served")
    assert outcomes.count("refused") == 4  # the invalid backend's share of connections, no more
    assert (heavy.connections, light.connections) == (3, 1)


async def test_terminate_serves_the_proxys_certificate_and_sends_plaintext(proxy: Start, backends: Make) -> None:
    plain = await backends("plain")
    cert_pem, key_pem = self_signed("app.example.com")
    port = free_port()
    gw = tls_gateway(
        port,
        tls_rule("app", ("app.example.com",), local_backend("plain", plain.port)),
        mode=TLSMode.TERMINATE,
        certificates=(certificate(cert_pem, key_pem),),
    )
    await proxy([gw])
    big = bytes(range(256)) * 8192  # 2 MiB each way, through both flow controls
    assert await tls_exchange(port, "app.example.com", cert_pem, big) == ("plain", big, "app.example.com")
    # No route for this name: the handshake completes (the proxy holds a certificate), then it closes.
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=trusting(cert_pem), server_hostname="app.example.com"
    )
    assert await asyncio.wait_for(reader.readline(), WAIT) == b"plain\n"
    writer.close()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="other.example.com")
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    assert plain.connections == 2


async def test_a_silent_or_non_tls_client_is_closed(proxy: Start, backends: Make) -> None:
    target = await backends("target", "t.example.com")
    port = free_port()
    await proxy(
        [tls_gateway(port, tls_rule("t", ("t.example.com",), local_backend("t", target.port)))],
        Limits(header_timeout_s=0.5),
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(client_hello("t.example.com")[:20])  # and never the rest
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: t.example.com\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    assert target.connections == 0


async def test_an_idle_tunnel_is_closed(proxy: Start, backends: Make) -> None:
    target = await backends("idle", "i.example.com")
    port = free_port()
    await proxy(
        [tls_gateway(port, tls_rule("i", ("i.example.com",), local_backend("i", target.port)))],
        Limits(idle_timeout_s=0.5),
    )
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=trusting(target.cert_pem), server_hostname="i.example.com"
    )
    assert await asyncio.wait_for(reader.readline(), WAIT) == b"idle\n"
    assert await asyncio.wait_for(reader.read(), WAIT) == b""  # closed by the proxy, not by us
    writer.close()


async def test_backend_unreachable_closes_the_client(proxy: Start) -> None:
    port, dead = free_port(), free_port()
    await proxy([tls_gateway(port, tls_rule("d", ("d.example.com",), local_backend("dead", dead)))])
    assert await refused(port, "d.example.com")


async def test_tlsroute_from_files_as_portico_serve_reads_them(proxy: Start, backends: Make, tmp_path: Path) -> None:
    target = await backends("from-files", "files.example.com")
    port = free_port()
    (tmp_path / "tls.yaml").write_text(
        f"""
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portico}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: edge}}
spec:
  gatewayClassName: portico
  listeners:
  - {{name: tls, port: {port}, protocol: TLS, tls: {{mode: Passthrough}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: files}}
spec:
  parentRefs: [{{name: edge}}]
  hostnames: [files.example.com]
  rules: [{{backendRefs: [{{name: files, port: 443}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: files}}
spec: {{ports: [{{port: 443, targetPort: {target.port}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: files-1, labels: {{kubernetes.io/service-name: files}}}}
addressType: IPv4
ports: [{{port: {target.port}}}]
endpoints: [{{addresses: [127.0.0.1]}}]
"""
    )
    gateways = gateways_from_manifests([str(tmp_path)])
    await proxy(gateways)
    name, echo, _ = await tls_exchange(port, "files.example.com", target.cert_pem)
    assert (name, echo) == ("from-files", b"ping")


async def test_a_stream_outlives_the_reload_that_removes_its_route(proxy: Start, backends: Make) -> None:
    target = await backends("kept", "kept.example.com")
    port = free_port()
    runtime = await proxy([tls_gateway(port, tls_rule("kept", ("kept.example.com",), local_backend("k", target.port)))])
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=trusting(target.cert_pem), server_hostname="kept.example.com"
    )
    assert await asyncio.wait_for(reader.readline(), WAIT) == b"kept\n"
    await runtime.update(
        [tls_gateway(port, tls_rule("other", ("other.example.com",), local_backend("k", target.port)))]
    )
    writer.write(b"still here")
    assert await asyncio.wait_for(reader.readexactly(10), WAIT) == b"still here"
    writer.close()
    assert await refused(port, "kept.example.com")  # new connections follow the new table
