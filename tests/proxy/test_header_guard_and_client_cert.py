"""Configured header values never put CR/LF on the wire; the Gateway's backend client certificate is
presented to a real TLS backend that requires one."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from portico.ir import (
    BackendProtocol,
    Certificate,
    GatewayIR,
    HeaderModifier,
    HeaderValue,
    ObjectKey,
    PathModifier,
    PathModifierType,
    RequestHeaderModifierFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
)
from portico_proxy.runtime import ConfigRejected
from tests.proxy.builders import backend, free_port, gateway, listener, prefix, rule
from tests.proxy.certs import common_name, self_signed


def _modifier_gateway(port: int, backend_port: int, value: str) -> GatewayIR:
    modifier = HeaderModifier(set=(HeaderValue(name="x-note", value=value),))
    filters = (RequestHeaderModifierFilter(modifier=modifier), ResponseHeaderModifierFilter(modifier=modifier))
    return gateway(listener(port, rule("r", prefix("/"), (backend("a", backend_port),), filters=filters)))


@pytest.mark.parametrize(
    "bad",
    ["ok\r\nx-injected: 1", "ok\nx-injected: 1", "ok\rx-injected: 1", "ok\x00x-injected: 1"],
    ids=["crlf", "lf", "cr", "nul"],
)
async def test_a_header_value_with_cr_or_lf_never_reaches_the_wire(proxy, echo, bad: str) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port = free_port()
    runtime = await proxy([_modifier_gateway(port, a.port, "fine")])
    with pytest.raises(ConfigRejected, match=r"x-note.*CR, LF or NUL"):
        await runtime.update([_modifier_gateway(port, a.port, bad)])
    redirect = RequestRedirectFilter(
        path=PathModifier(type=PathModifierType.REPLACE_FULL_PATH, value="/x" + bad.removeprefix("ok"))
    )
    with pytest.raises(ConfigRejected, match="path modifier"):
        await runtime.update([gateway(listener(port, rule("r", prefix("/"), filters=(redirect,))))])
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/")
    assert response.status_code == 200
    assert response.headers["x-note"] == "fine"
    assert "x-injected" not in response.headers
    seen = response.json()["headers"]
    assert seen["x-note"] == "fine"
    assert "x-injected" not in seen


@pytest.fixture
async def mtls_backend(tmp_path: Path) -> AsyncIterator[Callable[[str], Awaitable[int]]]:
    """A TLS backend that requires a client certificate signed by `trusted` and answers with its CN."""
    servers: list[asyncio.Server] = []

    async def start(trusted: str) -> int:
        cert, key = self_signed("backend.local")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=trusted)
        folder = tmp_path / "mtls-backend"
        folder.mkdir(exist_ok=True)
        (folder / "tls.crt").write_text(cert)
        (folder / "tls.key").write_text(key)
        context.load_cert_chain(folder / "tls.crt", folder / "tls.key")

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while await reader.readuntil(b"\r\n\r\n"):
                    peer = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
                    body = json.dumps({"client": common_name(peer) if peer else None}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("redacted", [False, True], ids=["key-in-ir", "key-from-secrets-dir"])
async def test_client_certificate_is_presented_to_a_backend_that_requires_one(  # type: ignore[no-untyped-def]
    proxy, mtls_backend, tmp_path: Path, redacted: bool
) -> None:
    client_cert, client_key = self_signed("portico-client.example")
    backend_port = await mtls_backend(client_cert)
    with_cert, without_cert = free_port(), free_port()
    upstream = backend("secure", backend_port, protocol=BackendProtocol.HTTPS)
    identity = Certificate(
        secret=ObjectKey(namespace="default", name="client"),
        cert_pem=client_cert,
        key_pem=None if redacted else client_key,
    )
    if redacted:
        folder = tmp_path / "default" / "client"
        folder.mkdir(parents=True)
        (folder / "tls.crt").write_text(client_cert)
        (folder / "tls.key").write_text(client_key)
    presenting = gateway(listener(with_cert, rule("r", prefix("/"), (upstream,))), name="presenting")
    presenting = presenting.model_copy(update={"client_certificate": identity})
    anonymous = gateway(listener(without_cert, rule("r", prefix("/"), (upstream,))), name="anonymous")
    await proxy([presenting, anonymous], secrets_dir=str(tmp_path) if redacted else None)
    async with httpx.AsyncClient() as client:
        for _ in range(3):  # pooled connections keep presenting it
            response = await client.get(f"http://127.0.0.1:{with_cert}/")
            assert response.status_code == 200
            assert response.json() == {"client": "portico-client.example"}
        refused = await client.get(f"http://127.0.0.1:{without_cert}/")
    assert refused.status_code == 502
