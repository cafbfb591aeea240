"""Listeners that come from ListenerSets, served by the proxy with real clients: manifests are
translated as the operator and `portico serve` do, then the proxy serves the Gateway's IR."""

from __future__ import annotations

import asyncio
import base64
import signal
import ssl
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import yaml

from portico.api import build_snapshot
from portico.provider import load_capabilities
from portico.translate import translate
from tests.irs import free_port
from tests.proxy.certs import self_signed
from tests.proxy.conftest import Start
from tests.proxy.echo_backend import EchoBackend
from tests.proxy.proxy_process import wait_ready

MANIFESTS = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portico}}
spec: {{controllerName: portico.dev/proxy}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: infra}}
spec:
  gatewayClassName: portico
  allowedListeners: {{namespaces: {{from: All}}}}
  listeners: [{{name: web, port: {shared}, protocol: HTTP, hostname: gw.example.com}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {{name: apps, namespace: team, creationTimestamp: "2026-01-01T00:00:00Z"}}
spec:
  parentRef: {{name: gw, namespace: infra}}
  listeners:
  - {{name: shared-port, port: {shared}, protocol: HTTP, hostname: app.example.com}}
  - {{name: own-port, port: {own}, protocol: HTTP}}
  - name: tls
    port: {tls}
    protocol: HTTPS
    hostname: secure.example.com
    tls: {{certificateRefs: [{{name: secure}}]}}
  - {{name: clash, port: {shared}, protocol: HTTP, hostname: gw.example.com}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: gateway-route, namespace: infra}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{name: gateway-backend, port: 80}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: app, namespace: team}}
spec:
  parentRefs: [{{kind: ListenerSet, name: apps}}]
  rules: [{{backendRefs: [{{name: app-backend, port: 80}}]}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: secure, namespace: team}}
type: kubernetes.io/tls
data: {{tls.crt: {crt}, tls.key: {key}}}
"""
BACKEND = """\
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{ports: [{{name: http, port: 80, targetPort: {port}}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: {name}-1, namespace: {namespace}, labels: {{kubernetes.io/service-name: {name}}}}}
addressType: IPv4
ports: [{{name: http, port: {port}}}]
endpoints: [{{addresses: [127.0.0.1], conditions: {{ready: true}}}}]
"""


async def test_listenerset_listeners_are_served_next_to_the_gateways(
    echo: Callable[[str], Awaitable[EchoBackend]], proxy: Start, tmp_path: Path
) -> None:
    gateway_backend, app_backend = await echo("gateway"), await echo("app")
    shared, own, tls = free_port(), free_port(), free_port()
    cert, key = self_signed("secure.example.com")
    text = MANIFESTS.format(
        shared=shared,
        own=own,
        tls=tls,
        crt=base64.b64encode(cert.encode()).decode(),
        key=base64.b64encode(key.encode()).decode(),
    )
    text += BACKEND.format(name="gateway-backend", namespace="infra", port=gateway_backend.port)
    text += BACKEND.format(name="app-backend", namespace="team", port=app_backend.port)
    result = translate(build_snapshot(yaml.safe_load_all(text)), {"portico.dev/proxy": load_capabilities("proxy")})
    clash = result.statuses[("ListenerSet", "team", "apps")]["listeners"][3]
    assert [c["reason"] for c in clash["conditions"] if c["type"] == "Conflicted"] == ["HostnameConflict"]
    await proxy(list(result.ir_by_gateway.values()))

    async with httpx.AsyncClient(timeout=5) as client:
        # One port, two listeners: the Gateway's hostname keeps its route (the clashing ListenerSet
        # listener is not served); the ListenerSet's hostname reaches the ListenerSet's route.
        on_gateway = await client.get(f"http://127.0.0.1:{shared}/", headers={"host": "gw.example.com"})
        on_set = await client.get(f"http://127.0.0.1:{shared}/", headers={"host": "app.example.com"})
        elsewhere = await client.get(f"http://127.0.0.1:{shared}/", headers={"host": "other.example.com"})
        own_port = await client.get(f"http://127.0.0.1:{own}/", headers={"host": "any.example.com"})
    assert on_gateway.headers["x-backend"] == "gateway"
    assert on_set.headers["x-backend"] == "app"
    assert elsewhere.status_code == 404
    assert own_port.headers["x-backend"] == "app"

    # HTTPS with the certificate from the ListenerSet's own namespace.
    context = ssl.create_default_context(cadata=cert)
    async with httpx.AsyncClient(timeout=5, verify=context) as client:
        secure = await client.get(
            f"https://127.0.0.1:{tls}/",
            headers={"host": "secure.example.com"},
            extensions={"sni_hostname": "secure.example.com"},
        )
    assert secure.status_code == 200
    assert secure.headers["x-backend"] == "app"


async def test_portico_serve_reads_listenersets_from_files(
    echo: Callable[[str], Awaitable[EchoBackend]], tmp_path: Path
) -> None:
    gateway_backend, app_backend = await echo("gateway"), await echo("app")
    shared, own, tls, admin = free_port(), free_port(), free_port(), free_port()
    cert, key = self_signed("secure.example.com")
    text = MANIFESTS.format(
        shared=shared,
        own=own,
        tls=tls,
        crt=base64.b64encode(cert.encode()).decode(),
        key=base64.b64encode(key.encode()).decode(),
    )
    text += BACKEND.format(name="gateway-backend", namespace="infra", port=gateway_backend.port)
    text += BACKEND.format(name="app-backend", namespace="team", port=app_backend.port)
    (tmp_path / "manifests.yaml").write_text(text)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from portico.cli import main; sys.exit(main())",
        *("serve", "-f", str(tmp_path), "--admin-port", str(admin), "--access-log-sample", "0"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await wait_ready(admin, process)
            answer = await client.get(f"http://127.0.0.1:{own}/", headers={"host": "any.example.com"})
            assert answer.headers["x-backend"] == "app"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    # The listener that lost to the Gateway's is named with its reason.
    assert "ListenerSet team/apps: listener clash: Accepted=False HostnameConflict" in stderr.decode()
