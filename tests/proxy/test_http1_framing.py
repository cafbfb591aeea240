"""Response framing on the HTTP/1.1 fast path: the head is not held back, interim and trailer fields
stay out of later responses, hop-by-hop fields go, and X-Forwarded-* is added exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from portico.ir import HeaderModifier, HeaderValue, RequestHeaderModifierFilter
from tests.irs import free_port, gateway, listener, local_backend, prefix, rule

# Answers one request on a backend connection: gets the writer and the request's index on the connection.
Script = Callable[[asyncio.StreamWriter, int], Awaitable[None]]


class ScriptedBackend:
    """An HTTP/1.1 backend whose answers the test writes byte by byte (requests have no body)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> ScriptedBackend:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        index = 0
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await self.script(writer, index)
                index += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def start_proxy(proxy: Any, backend_port: int, **rule_extra: Any) -> int:
    port = free_port()
    await proxy(
        [
            gateway(
                listener(
                    port=port,
                    rules=(rule("r", match=prefix("/"), backends=(local_backend("a", backend_port),), **rule_extra),),
                )
            )
        ]
    )
    return port


async def test_response_head_is_not_held_back_for_the_body(proxy) -> None:  # type: ignore[no-untyped-def]
    release = asyncio.Event()

    async def script(writer: asyncio.StreamWriter, index: int) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"body")

    upstream = await ScriptedBackend(script).start()
    port = await start_proxy(proxy, upstream.port)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    # The backend sends the body only after the client has the head.
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    release.set()
    body = await asyncio.wait_for(reader.readexactly(4), 5)
    writer.close()
    await upstream.stop()
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 4\r\n" in head.lower()
    assert body == b"body"


async def test_interim_and_trailer_fields_stay_out_of_responses(proxy) -> None:  # type: ignore[no-untyped-def]
    async def script(writer: asyncio.StreamWriter, index: int) -> None:
        if index == 0:
            writer.write(
                b"HTTP/1.1 103 Early Hints\r\nX-Interim: 1\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
                b"Keep-Alive: timeout=5\r\nTrailer: X-Trailer\r\nX-First: 1\r\n\r\n"
                b"2\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n"
            )
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Second: 1\r\n\r\nhi")

    upstream = await ScriptedBackend(script).start()
    port = await start_proxy(proxy, upstream.port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        first = await client.get("/")
        second = await client.get("/")
    await upstream.stop()
    assert first.status_code == 200 and first.content == b"ok" and first.headers["x-first"] == "1"
    # Re-framed for this hop: the backend's framing and hop-by-hop fields are not forwarded.
    assert first.headers["transfer-encoding"] == "chunked" and "keep-alive" not in first.headers
    assert "x-interim" not in first.headers and "trailer" not in first.headers
    assert second.content == b"hi" and second.headers["x-second"] == "1"
    assert not {"x-interim", "x-trailer", "x-first"} & set(second.headers)
    assert upstream.connections == 1


async def test_forwarded_fields_are_added_once(proxy, echo) -> None:  # type: ignore[no-untyped-def]
    a = await echo("a")
    plain = await start_proxy(proxy, a.port)
    set_by_filter = await start_proxy(
        proxy,
        a.port,
        filters=(
            RequestHeaderModifierFilter(
                modifier=HeaderModifier(set=(HeaderValue(name="X-Forwarded-For", value="10.9.9.9"),))
            ),
        ),
    )
    async with httpx.AsyncClient(timeout=10) as client:
        bare = (await client.get(f"http://127.0.0.1:{plain}/")).json()["headers"]["_all"]
        sent = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "spoofed", "X-Forwarded-For": "10.0.0.1"}
        replaced = (await client.get(f"http://127.0.0.1:{plain}/", headers=sent)).json()["headers"]["_all"]
        filtered = (await client.get(f"http://127.0.0.1:{set_by_filter}/")).json()["headers"]["_all"]

    def values(fields: list[list[str]], name: str) -> list[str]:
        return [value for key, value in fields if key == name]

    assert values(bare, "x-forwarded-for") == ["127.0.0.1"]
    assert values(bare, "x-forwarded-proto") == ["http"]
    assert values(bare, "x-forwarded-host") == [f"127.0.0.1:{plain}"]
    assert values(replaced, "x-forwarded-for") == ["10.0.0.1, 127.0.0.1"]
    assert values(replaced, "x-forwarded-proto") == ["http"]
    assert values(replaced, "x-forwarded-host") == [f"127.0.0.1:{plain}"]
    # A value set by a filter counts as one the client sent: the proxy appends to it.
    assert values(filtered, "x-forwarded-for") == ["10.9.9.9, 127.0.0.1"]
