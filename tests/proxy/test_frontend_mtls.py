"""Frontend client-certificate validation (Gateway spec.tls.frontend) with real TLS clients holding a
good certificate, one from another CA, or none, over HTTP/1.1 (TLS 1.2 and 1.3) and HTTP/2."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import pytest

from portico.ir import Certificate, ClientValidation, GatewayIR, ListenerProtocol, ObjectKey
from portico_proxy.merge import merge_on_one_address
from portico_proxy.tables import compile_gateways
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule
from tests.proxy.certs import certificate_authority, issued, self_signed
from tests.proxy.proxy_process import wait_ready

SERVER_PEM = self_signed("*.example.com", "a.example.com")
TRUSTED_CA = certificate_authority("Clients CA")
OTHER_CA = certificate_authority("Another CA")
GOOD = issued(TRUSTED_CA, ("alice.clients.example",), client=True)
WRONG_CA = issued(OTHER_CA, ("mallory.clients.example",), client=True)
Client = tuple[str, str] | None  # a client certificate (PEM, key), or none
CLI = "import sys; from portico.cli import main; sys.exit(main())"


def _https(  # type: ignore[no-untyped-def]
    port: int, target: int, validation: ClientValidation | None, name: str = "secure", hostname: str = "*.example.com"
):
    cert = Certificate(secret=ObjectKey(namespace="default", name="tls"), cert_pem=SERVER_PEM[0], key_pem=SERVER_PEM[1])
    return listener(
        port=port,
        rules=(rule(f"r-{name}", match=prefix("/"), backends=(local_backend("app", target),)),),
        protocol=ListenerProtocol.HTTPS,
        name=name,
        hostname=hostname,
        certificates=(cert,),
        client_validation=validation,
    )


def _validation(mode: str = "AllowValidOnly") -> ClientValidation:
    return ClientValidation(ca_pem=TRUSTED_CA[0], mode=mode)  # type: ignore[arg-type]


def _context(client: Client, alpn: str, tmp_path: Path, tls13: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols([alpn])
    if not tls13:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if client is not None:
        (tmp_path / "client.crt").write_text(client[0])
        (tmp_path / "client.key").write_text(client[1])
        context.load_cert_chain(tmp_path / "client.crt", tmp_path / "client.key")
    return context


async def _h1(port: int, context: ssl.SSLContext, headers: str = "") -> tuple[int, bytes] | None:
    """(status, body) of one request, or None when the proxy refused the TLS connection."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="a.example.com")
    except (ssl.SSLError, ConnectionError):
        return None
    try:
        writer.write(f"GET / HTTP/1.1\r\nHost: a.example.com\r\n{headers}Connection: close\r\n\r\n".encode())
        answer = await asyncio.wait_for(reader.read(), 5)
    except (ssl.SSLError, ConnectionError):
        return None  # TLS 1.3: the client learns of the refusal on its first read
    finally:
        writer.close()
    if not answer:
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


async def _h2(
    port: int, context: ssl.SSLContext, server_name: str = "a.example.com", authority: str = "a.example.com"
) -> int | None:
    """The status of one HTTP/2 request, or None when the proxy refused the TLS connection."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name)
    except (ssl.SSLError, ConnectionError):
        return None
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    conn.send_headers(
        1, [(":method", "GET"), (":path", "/"), (":scheme", "https"), (":authority", authority)], end_stream=True
    )
    status: int | None = None
    try:
        writer.write(conn.data_to_send())
        while True:
            data = await asyncio.wait_for(reader.read(65536), 5)
            if not data:
                return None
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.StreamEnded):
                    return status
            writer.write(conn.data_to_send())
    except (ssl.SSLError, ConnectionError):
        return None
    finally:
        writer.close()


async def _serve(proxy, echo, validation: ClientValidation | None) -> int:  # type: ignore[no-untyped-def]
    app = await echo("app")
    port = free_port()
    await proxy([gateway(_https(port, app.port, validation), controller="portico.dev/proxy")])
    return port


@pytest.mark.parametrize("tls13", [True, False], ids=["tls1.3", "tls1.2"])
async def test_allow_valid_only_over_http1(proxy, echo, tmp_path: Path, tls13: bool) -> None:  # type: ignore[no-untyped-def]
    port = await _serve(proxy, echo, _validation())
    good = await _h1(port, _context(GOOD, "http/1.1", tmp_path, tls13))
    assert good is not None and good[0] == 200
    assert await _h1(port, _context(WRONG_CA, "http/1.1", tmp_path, tls13)) is None
    assert await _h1(port, _context(None, "http/1.1", tmp_path, tls13)) is None


async def test_allow_valid_only_over_http2(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = await _serve(proxy, echo, _validation())
    assert await _h2(port, _context(GOOD, "h2", tmp_path)) == 200
    assert await _h2(port, _context(WRONG_CA, "h2", tmp_path)) is None
    assert await _h2(port, _context(None, "h2", tmp_path)) is None


async def test_insecure_fallback_serves_clients_without_a_certificate(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = await _serve(proxy, echo, _validation("AllowInsecureFallback"))
    for alpn, call in (("http/1.1", _h1), ("h2", _h2)):
        for client in (GOOD, None):
            answer = await call(port, _context(client, alpn, tmp_path))  # type: ignore[operator]
            assert answer is not None and (answer if isinstance(answer, int) else answer[0]) == 200, (alpn, client)
        # The ssl module cannot let a certificate that fails verification through: still refused.
        assert await call(port, _context(WRONG_CA, alpn, tmp_path)) is None  # type: ignore[operator]


async def test_without_validation_no_certificate_is_asked_for(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = await _serve(proxy, echo, None)
    for client in (GOOD, WRONG_CA, None):
        answer = await _h1(port, _context(client, "http/1.1", tmp_path))
        assert answer is not None and answer[0] == 200


async def test_a_reload_that_turns_validation_on_applies_to_new_connections(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = await echo("app")
    port = free_port()
    runtime = await proxy([gateway(_https(port, app.port, None), controller="portico.dev/proxy")])
    assert await _h1(port, _context(None, "http/1.1", tmp_path)) is not None
    await runtime.update([gateway(_https(port, app.port, _validation()), controller="portico.dev/proxy")])
    assert await _h1(port, _context(None, "http/1.1", tmp_path)) is None
    good = await _h1(port, _context(GOOD, "http/1.1", tmp_path))
    assert good is not None and good[0] == 200
    await runtime.update([gateway(_https(port, app.port, None), controller="portico.dev/proxy")])
    assert await _h1(port, _context(None, "http/1.1", tmp_path)) is not None


async def test_a_client_forwarded_client_cert_header_never_reaches_the_backend(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = await _serve(proxy, echo, _validation())
    spoofed = 'X-Forwarded-Client-Cert: Subject="CN=admin"\r\nX-Forwarded-For: 192.0.2.7\r\n'
    answer = await _h1(port, _context(GOOD, "http/1.1", tmp_path), spoofed)
    assert answer is not None and answer[0] == 200
    seen = json.loads(answer[1])["headers"]
    assert "x-forwarded-client-cert" not in seen
    assert seen["x-forwarded-for"].startswith("192.0.2.7, ")


async def test_coalesced_http2_connections_stay_behind_the_ports_validation(proxy, echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every listener of a validated port validates: a connection reused for another listener's name
    was verified all the same, and still gets 421 for a name its SNI did not select."""
    app = await echo("app")
    port = free_port()
    exact = _https(port, app.port, _validation(), "exact", "a.example.com")
    wildcard = _https(port, app.port, _validation(), "wildcard", "*.example.com")
    await proxy([gateway(exact, wildcard, controller="portico.dev/proxy")])
    good = _context(GOOD, "h2", tmp_path)
    assert await _h2(port, good, "b.example.com", "b.example.com") == 200
    assert await _h2(port, good, "b.example.com", "a.example.com") == 421
    for client in (None, WRONG_CA):
        for name in ("a.example.com", "b.example.com"):
            assert await _h2(port, _context(client, "h2", tmp_path), name, name) is None


def _two_gateways(validation_b: ClientValidation | None) -> list[GatewayIR]:
    port = 8443
    return [
        gateway(_https(port, 9, _validation(), "a", "a.example.com"), name="a", controller="portico.dev/proxy"),
        gateway(_https(port, 9, validation_b, "b", "b.example.com"), name="b", controller="portico.dev/proxy"),
    ]


def test_one_port_never_mixes_validations() -> None:
    """Two Gateways on one address: a later listener that validates otherwise is not served, since a
    connection that skipped validation could otherwise reach the validated listener's routes."""
    merged, problems = merge_on_one_address(_two_gateways(None))
    assert [len(g.listeners) for g in merged] == [1, 0]
    assert "not served: ProtocolConflict: port 8443 validates client certificates otherwise" in problems[0]
    merged, problems = merge_on_one_address(_two_gateways(_validation()))
    assert problems == [] and [len(g.listeners) for g in merged] == [1, 1]
    with pytest.raises(ValueError, match="differ in client certificate validation"):
        compile_gateways(_two_gateways(_validation("AllowInsecureFallback")))


SERVE_MANIFESTS = """\
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
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{{group: "", kind: ConfigMap, name: {ca_name}}}]
  listeners:
  - {{name: https, port: {port}, protocol: HTTPS, tls: {{certificateRefs: [{{name: tls}}]}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: default}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{name: echo, port: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: echo, namespace: default}}
spec: {{ports: [{{name: http, port: 80, targetPort: {backend}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: echo-1, namespace: default, labels: {{kubernetes.io/service-name: echo}}}}
addressType: IPv4
ports: [{{name: http, port: {backend}}}]
endpoints: [{{addresses: [127.0.0.1], conditions: {{ready: true}}}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: tls, namespace: default}}
type: kubernetes.io/tls
data: {{tls.crt: {crt}, tls.key: {key}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: clients-ca, namespace: default}}
data: {{ca.crt: {ca}}}
"""


def _serve_manifests(port: int, backend: int, ca_name: str = "clients-ca") -> str:
    crt, key = (base64.b64encode(pem.encode()).decode() for pem in SERVER_PEM)
    return SERVE_MANIFESTS.format(
        port=port, backend=backend, ca_name=ca_name, crt=crt, key=key, ca=json.dumps(TRUSTED_CA[0])
    )


async def test_portico_serve_validates_clients_from_files(echo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = await echo("app")
    port, admin = free_port(), free_port()
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "gw.yaml").write_text(_serve_manifests(port, app.port))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLI,
        *("serve", "-f", str(tmp_path / "manifests"), "--admin-port", str(admin)),
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_ready(admin)
        good = await _h1(port, _context(GOOD, "http/1.1", tmp_path))
        assert good is not None and good[0] == 200
        assert await _h1(port, _context(None, "http/1.1", tmp_path)) is None
        assert await _h1(port, _context(WRONG_CA, "http/1.1", tmp_path)) is None
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0


def test_portico_status_names_the_missing_ca(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(_serve_manifests(8443, 8080, ca_name="nowhere"))
    done = subprocess.run(
        [sys.executable, "-c", CLI, "status", "-f", str(tmp_path / "gw.yaml"), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    gateway_status = next(i for i in json.loads(done.stdout)["items"] if i["kind"] == "Gateway")["status"]
    conditions = {c["type"]: c for c in gateway_status["listeners"][0]["conditions"]}
    assert conditions["Accepted"]["reason"] == "NoValidCACertificate"
    assert conditions["ResolvedRefs"]["reason"] == "InvalidCACertificateRef"
    assert (
        "spec.tls.frontend.default.validation.caCertificateRefs[0]: ConfigMap default/nowhere not found"
        in (conditions["ResolvedRefs"]["message"])
    )
