"""Configured header values never put CR/LF on the wire; the Gateway's backend client certificate is
presented to a real TLS backend that requires one."""

from __future__ import annotations

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
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import self_signed


def _modifier_gateway(port: int, backend_port: int, value: str) -> GatewayIR:
    modifier = HeaderModifier(set=(HeaderValue(name="x-note", value=value),))
    filters = (RequestHeaderModifierFilter(modifier=modifier), ResponseHeaderModifierFilter(modifier=modifier))
    return gateway(
        listener(
            port=port,
            rules=(rule("r", match=prefix("/"), backends=(local_backend("a", backend_port),), filters=filters),),
        )
    )


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
        await runtime.update([gateway(listener(port=port, rules=(rule("r", match=prefix("/"), filters=(redirect,)),)))])
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/")
    assert response.status_code == 200
    assert response.headers["x-note"] == "fine"
    assert "x-injected" not in response.headers
    seen = response.json()["headers"]
    assert seen["x-note"] == "fine"
    assert "x-injected" not in seen


@pytest.mark.parametrize("redacted", [False, True], ids=["key-in-ir", "key-from-secrets-dir"])
async def test_client_certificate_is_presented_to_a_backend_that_requires_one(  # type: ignore[no-untyped-def]
    proxy, tls_backend, tmp_path: Path, redacted: bool
) -> None:
    client_cert, client_key = self_signed("portico-client.example")
    backend_port = await tls_backend(*self_signed("backend.local"), client_ca=client_cert)
    with_cert, without_cert = free_port(), free_port()
    upstream = local_backend("secure", backend_port, protocol=BackendProtocol.HTTPS)
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
    presenting = gateway(
        listener(port=with_cert, rules=(rule("r", match=prefix("/"), backends=(upstream,)),)), name="presenting"
    )
    presenting = presenting.model_copy(update={"client_certificate": identity})
    anonymous = gateway(
        listener(port=without_cert, rules=(rule("r", match=prefix("/"), backends=(upstream,)),)), name="anonymous"
    )
    await proxy([presenting, anonymous], secrets_dir=str(tmp_path) if redacted else None)
    async with httpx.AsyncClient() as client:
        for _ in range(3):  # pooled connections keep presenting it
            response = await client.get(f"http://127.0.0.1:{with_cert}/")
            assert response.status_code == 200
            assert response.json()["client"] == "portico-client.example"
        refused = await client.get(f"http://127.0.0.1:{without_cert}/")
    assert refused.status_code == 502
