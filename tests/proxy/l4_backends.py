"""Byte-stream backends for the TLSRoute/TCPRoute tests: a TLS (or plain) echo server that says
which backend it is, and a raw one that records every byte it receives."""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.proxy.certs import self_signed


@dataclass
class StreamBackend:
    """`name` first (one line), then an echo of everything; TLS when `tls_names` are given."""

    name: str
    tls_names: tuple[str, ...] = ()
    received: bytearray = field(default_factory=bytearray)
    connections: int = 0
    server: asyncio.Server | None = None
    cert_pem: str = ""
    record_only: bool = False

    async def start(self) -> StreamBackend:
        context = None
        if self.tls_names:
            self.cert_pem, key_pem = self_signed(*self.tls_names)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory(prefix="portico-test-") as folder:
                cert, key = Path(folder, "tls.crt"), Path(folder, "tls.key")
                cert.write_text(self.cert_pem)
                key.write_text(key_pem)
                context.load_cert_chain(cert, key)
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=context)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.record_only:
                # Everything until the client's EOF (a half-close), then one answer and close.
                while chunk := await reader.read(65536):
                    self.received += chunk
                writer.write(b"got %d bytes from you" % len(self.received))
                await writer.drain()
                return
            writer.write(self.name.encode() + b"\n")
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


Make = Callable[..., Awaitable[StreamBackend]]
