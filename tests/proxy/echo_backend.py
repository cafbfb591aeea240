"""A real HTTP/1.1 backend for the proxy tests: it reports what it received as JSON.

Paths: /status/<code> answers that code; /delay/<ms> waits first; /bytes/<n> sends n bytes;
/chunked/<n> sends n bytes in chunks without Content-Length; anything else echoes.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import cast

import httptools


@dataclass
class EchoStats:
    connections: int = 0
    requests: int = 0
    seen: list[dict[str, object]] = field(default_factory=list)


class _EchoProtocol(asyncio.Protocol):
    def __init__(self, name: str, stats: EchoStats) -> None:
        self.name = name
        self.stats = stats
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.head_only = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.stats.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            # Upgrade is not offered here (answered as plain HTTP): what follows is the next request.
            self.parser = httptools.HttpRequestParser(self)
            self.data_received(data[upgrade.args[0] :] if upgrade.args else b"")
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", [], bytearray()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode().lower(), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        method = self.parser.get_method().decode()
        url = self.url.decode("latin-1")
        report: dict[str, object] = {
            "backend": self.name,
            "method": method,
            "path": url,
            "headers": dict(self.headers) | {"_all": self.headers},
            "body": self.body.decode("latin-1"),
        }
        self.stats.requests += 1
        self.stats.seen.append(report)
        self.head_only = method == "HEAD"
        asyncio.get_running_loop().call_soon(self._answer, url, report, keep_alive)

    def _answer(self, url: str, report: dict[str, object], keep_alive: bool) -> None:
        parts = url.split("?", maxsplit=1)[0].strip("/").split("/")
        if parts[0] == "delay" and len(parts) > 1:
            asyncio.get_running_loop().call_later(int(parts[1]) / 1000, self._write, 200, report, keep_alive, None)
            return
        if parts[0] == "status" and len(parts) > 1:
            self._write(int(parts[1]), report, keep_alive, None)
            return
        if parts[0] in ("bytes", "chunked") and len(parts) > 1:
            self._write(200, report, keep_alive, (parts[0], int(parts[1])))
            return
        self._write(200, report, keep_alive, None)

    def _write(self, status: int, report: dict[str, object], keep_alive: bool, raw: tuple[str, int] | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        conn = b"" if keep_alive else b"connection: close\r\n"
        head = b"HTTP/1.1 %d X\r\nx-backend: %s\r\n" % (status, self.name.encode()) + conn
        if raw is not None and raw[0] == "chunked":
            transport.write(head + b"transfer-encoding: chunked\r\n\r\n")
            remaining = raw[1]
            while remaining:
                size = min(remaining, 65536)
                transport.write(b"%x\r\n" % size + b"x" * size + b"\r\n")
                remaining -= size
            transport.write(b"0\r\n\r\n")
        else:
            body = b"x" * raw[1] if raw is not None else json.dumps(report).encode()
            length = b"content-length: %d\r\n" % len(body)
            kind = b"application/json" if raw is None else b"application/octet-stream"
            no_body = self.head_only or status in (204, 304)
            if status in (204, 304):
                length = b""
            transport.write(head + b"content-type: " + kind + b"\r\n" + length + b"\r\n" + (b"" if no_body else body))
        if not keep_alive:
            transport.close()


class EchoBackend:
    def __init__(self, name: str) -> None:
        self.name = name
        self.stats = EchoStats()
        self.server: asyncio.Server | None = None

    async def start(self) -> EchoBackend:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _EchoProtocol(self.name, self.stats), "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
