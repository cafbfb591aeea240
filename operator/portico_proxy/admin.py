"""The admin port: /healthz, /readyz, /metrics (Prometheus), /config (the IR in use)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, cast

import httptools
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from portico.ir import IRBundle
from portico_proxy.messages import status_line

if TYPE_CHECKING:
    from portico_proxy.runtime import ProxyRuntime


class AdminServer:
    def __init__(self, runtime: ProxyRuntime) -> None:
        self.runtime = runtime
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(runtime.ctx.metrics)
        self.server: asyncio.Server | None = None

    async def start(self, address: str, port: int, reuse_port: bool) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: _AdminProtocol(self), address, port, reuse_port=reuse_port or None
        )

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def answer(self, path: str) -> tuple[int, bytes, bytes]:
        runtime = self.runtime
        if path == "/healthz":
            return 200, b"text/plain", b"ok\n"
        if path == "/readyz":
            if runtime.ready:
                return 200, b"text/plain", b"ready\n"
            return 503, b"text/plain", b"listeners not bound yet\n"
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST.encode(), generate_latest(self.registry)
        if path == "/config":
            bundle = IRBundle(gateways=tuple(g.redacted() for g in runtime.gateways))
            body = json.dumps(json.loads(bundle.to_json()), indent=2).encode() + b"\n"
            return 200, b"application/json", body
        return 404, b"text/plain", b"not found\n"


class _AdminProtocol(asyncio.Protocol):
    def __init__(self, admin: AdminServer) -> None:
        self.admin = admin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        assert self.transport is not None
        path = self.url.decode("latin-1").partition("?")[0]
        self.url = b""
        status, content_type, body = self.admin.answer(path)
        head = status_line(status) + b"content-type: " + content_type + b"\r\ncontent-length: %d\r\n\r\n" % len(body)
        self.transport.write(head + body)
        if not self.parser.should_keep_alive():
            self.transport.close()
