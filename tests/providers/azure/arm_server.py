"""The ARM fake served over HTTPS on 127.0.0.1, with a CA the SDK client is told to trust.

azure-core refuses bearer tokens over plain http, so the fake speaks TLS with a certificate made
here; the real NetworkManagementClient gets `base_url` and `connection_verify` (its supported
options), a static token credential, and no other help.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.providers.azure.arm_state import Answer, ArmState, error

TOKEN = "portico-test-token"


class StaticToken:
    """A TokenCredential (what azure-identity's credentials are to the SDK)."""

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        assert scopes == ("https://management.azure.com/.default",), scopes
        return AccessToken(TOKEN, int(time.time()) + 3600)


def _certificate(tmp: Path) -> tuple[Path, Path, Path]:
    """(CA file, server cert file, server key file) for 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portico test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (tmp / "ca.pem", tmp / "server.pem", tmp / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _handler(state: ArmState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per answer, sent at once: no Nagle / delayed-ACK stalls between header and body.
        disable_nagle_algorithm = True
        wbufsize = -1

        def log_message(self, *_: Any) -> None:
            return

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            if headers.get("authorization") != f"Bearer {TOKEN}":
                self._send(error(401, "AuthenticationFailed", "no valid bearer token"))
                return
            with state.lock:
                if self.command in ("PUT", "DELETE"):
                    state.mutating_requests += 1
                fault = next((f for f in state.faults if f.matches(self.command, url.path)), None)
                if fault is not None:
                    state.faults.remove(fault)
                    state.faults_served.append(fault)
            if fault is not None and not fault.lost and not fault.late:
                code = fault.code or ("TooManyRequests" if fault.status == 429 else "InternalServerError")
                extra = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
                self._send(error(fault.status, code, "injected fault", extra))
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._send(error(400, "InvalidRequestContent", "the body is not JSON"))
                return
            answer = state.handle(self.command, url.path, dict(parse_qsl(url.query)), headers, body)
            if fault is not None and fault.lost:  # the change happened; its answer is lost on the way back
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault is not None and fault.late:  # the change happened; the client stopped waiting
                time.sleep(fault.late)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self._send(answer)
                return
            self._send(answer)

        def _send(self, answer: Answer) -> None:
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-ms-request-id", "fake")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_DELETE = _serve

    return Handler


@dataclass
class ArmFake:
    state: ArmState
    url: str
    ca_file: Path

    def client(self) -> Any:
        """A NetworkManagementClient of the test's own (not the provider's)."""
        from azure.mgmt.network import NetworkManagementClient

        return NetworkManagementClient(
            StaticToken(),
            self.state.subscription,
            base_url=self.url,
            connection_verify=str(self.ca_file),
            retry_total=0,
        )

    def provider_options(self) -> dict[str, Any]:
        return {
            "subscription_id": self.state.subscription,
            "credential": StaticToken(),
            "base_url": self.url,
            "connection_verify": str(self.ca_file),
        }


@contextmanager
def serve(tmp: Path, state: ArmState | None = None) -> Iterator[ArmFake]:
    state = state or ArmState()
    ca_file, cert_file, key_file = _certificate(tmp)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    url = f"https://127.0.0.1:{server.server_address[1]}"
    state.base_url = url
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield ArmFake(state, url, ca_file)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
