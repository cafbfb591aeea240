"""HTTP/2 (h2c prior knowledge and ALPN), TLS with SNI certificate choice, and GRPCRoute end to end."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from portico.ir import Certificate, GRPCMethodMatch, ListenerProtocol, Match, MatchType, ObjectKey, RouteKind
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import common_name, self_signed


async def test_h2c_prior_knowledge_and_http1_on_one_port(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    port = free_port()
    await proxy(
        [gateway(listener(port=port, rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),)))]
    )
    async with httpx.AsyncClient(http1=False, http2=True, base_url=f"http://127.0.0.1:{port}") as h2:
        responses = await asyncio.gather(*(h2.post(f"/p{i}", content=b"z" * 100000) for i in range(8)))
        big = await h2.get("/bytes/2000000")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as h1:
        plain = await h1.get("/plain")
    assert all(r.http_version == "HTTP/2" and r.status_code == 200 for r in responses)
    assert {len(r.json()["body"]) for r in responses} == {100000}
    assert len(big.content) == 2_000_000
    assert plain.http_version == "HTTP/1.1" and plain.json()["path"] == "/plain"
    assert responses[0].json()["headers"]["host"] == f"127.0.0.1:{port}"


def _cert(name: str, pem: tuple[str, str], hostnames: tuple[str, ...]) -> Certificate:
    return Certificate(
        secret=ObjectKey(namespace="default", name=name), cert_pem=pem[0], key_pem=pem[1], hostnames=hostnames
    )


async def test_tls_sni_chooses_certificate_and_alpn(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    exact, wild = self_signed("a.example.com"), self_signed("*.example.com")
    port = free_port()
    https = listener(
        port=port,
        rules=(rule("r", match=prefix("/"), backends=(local_backend("a", a.port),)),),
        protocol=ListenerProtocol.HTTPS,
        name="https",
        certificates=(_cert("wild", wild, ("*.example.com",)), _cert("exact", exact, ("a.example.com",))),
    )
    await proxy([gateway(https)])
    for server_name, expected in (("a.example.com", "a.example.com"), ("b.example.com", "*.example.com")):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2", "http/1.1"])
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name)
        ssl_object = writer.get_extra_info("ssl_object")
        assert common_name(ssl_object.getpeercert(binary_form=True)) == expected
        assert ssl_object.selected_alpn_protocol() == "h2"
        writer.close()
    ca = tmp_path / "exact.pem"
    ca.write_text(exact[0])
    verify = ssl.create_default_context(cafile=str(ca))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=verify, server_hostname="a.example.com")
    writer.write(b"GET /tls HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n")
    data = await reader.read()
    writer.close()
    assert data.startswith(b"HTTP/1.1 200") and b'"x-forwarded-proto": "https"' in data


def test_redacted_key_is_read_from_secrets_dir(tmp_path: Path) -> None:
    from portico_proxy.tls import CertificateError, key_pair

    pem = self_signed("s.example.com")
    redacted = Certificate(secret=ObjectKey(namespace="ns", name="tls"), cert_pem=pem[0])
    folder = tmp_path / "ns" / "tls"
    folder.mkdir(parents=True)
    (folder / "tls.crt").write_text(pem[0])
    (folder / "tls.key").write_text(pem[1])
    assert key_pair(redacted, str(tmp_path)) == (pem[0].encode(), pem[1].encode())
    with pytest.raises(CertificateError, match="ns/tls: key redacted"):
        key_pair(redacted, None)
    with pytest.raises(CertificateError, match="cannot read"):
        key_pair(redacted, str(tmp_path / "missing"))


# ---- gRPC


def _unary(request: bytes, context: Any) -> bytes:
    context.set_trailing_metadata((("x-trailer", "t1"),))
    metadata = dict(context.invocation_metadata())
    return b"echo:" + request + b":" + metadata.get("x-added", "").encode()


def _stream(requests: Iterator[bytes], context: Any) -> Iterator[bytes]:
    for item in requests:
        yield item.upper()


@pytest.fixture
def grpc_backend() -> Iterator[int]:
    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(_unary),
            "Stream": grpc.stream_stream_rpc_method_handler(_stream),
        },
    )
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port
    server.stop(None)


def _grpc_calls(port: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        unary = channel.unary_unary("/test.Echo/Unary")
        response, call = unary.with_call(b"hi", timeout=5)
        results["unary"] = response
        results["trailers"] = dict(call.trailing_metadata() or ())
        stream = channel.stream_stream("/test.Echo/Stream")
        results["stream"] = list(stream(iter([b"a", b"b", b"c"]), timeout=5))
        for name, method in (("unknown", "/test.Echo/Nope"), ("invalid", "/test.Broken/Call")):
            try:
                channel.unary_unary(method)(b"x", timeout=5)
            except grpc.RpcError as error:
                results[name] = error.code()
    return results


async def test_grpc_route_unary_streaming_trailers_and_errors(proxy, grpc_backend: int) -> None:  # type: ignore[no-untyped-def]
    from portico.ir import HeaderModifier, HeaderValue, RequestHeaderModifierFilter

    port = free_port()
    h2c = local_backend("grpc", grpc_backend, protocol="h2c")
    add = RequestHeaderModifierFilter(modifier=HeaderModifier(set=(HeaderValue(name="x-added", value="yes"),)))

    def method(service: str, name: str = "") -> Match:
        return Match(grpc=GRPCMethodMatch(type=MatchType.EXACT, service=service, method=name))

    rules = (
        rule("unary", match=method("test.Echo", "Unary"), backends=(h2c,), kind=RouteKind.GRPC, filters=(add,)),
        rule("stream", match=method("test.Echo", "Stream"), backends=(h2c,), kind=RouteKind.GRPC),
        rule(
            "broken",
            match=method("test.Broken"),
            backends=(local_backend("x", invalid_reason="BackendNotFound"),),
            kind=RouteKind.GRPC,
        ),
    )
    await proxy([gateway(listener(port=port, rules=tuple(rules)))])
    results = await asyncio.to_thread(_grpc_calls, port)
    assert results["unary"] == b"echo:hi:yes"
    assert results["trailers"]["x-trailer"] == "t1"
    assert results["stream"] == [b"A", b"B", b"C"]
    assert results["unknown"] == grpc.StatusCode.UNIMPLEMENTED
    assert results["invalid"] == grpc.StatusCode.UNAVAILABLE
