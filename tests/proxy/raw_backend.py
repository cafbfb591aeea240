"""A hand-written HTTP/1.1 backend whose faults are chosen per request by the path.

/id/<x>           200, body <x> (Content-Length framed), keep-alive
/extra-now/<x>    body <x> then, in the same write, a whole second response the request never asked for
/extra-later/<x>  body <x>, then that second response after EXTRA_DELAY_S, while the connection is idle
/hang/<x>         reads the request and never answers
/close/<x>        closes the connection without answering
"""

from __future__ import annotations

import asyncio

EXTRA_DELAY_S = 0.05
STRAY = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nSTRAY"


def response(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


class RawBackend:
    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.requests: list[bytes] = []  # request lines, in arrival order
        self.connections = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> RawBackend:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(x[15:]) for x in head.lower().split(b"\r\n") if x.startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                line = head.split(b"\r\n", 1)[0]
                self.requests.append(line)
                target = line.split(b" ")[1]
                kind, _, value = target.lstrip(b"/").partition(b"/")
                if kind == b"hang":
                    await asyncio.sleep(3600)
                if kind == b"close" or (kind == b"stale" and served):
                    break
                served += 1
                if kind == b"extra-now":
                    writer.write(response(value) + STRAY)
                elif kind == b"extra-later":
                    writer.write(response(value))
                    await writer.drain()
                    await asyncio.sleep(EXTRA_DELAY_S)
                    writer.write(STRAY)
                else:
                    writer.write(response(value))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.tasks.discard(task)
            writer.close()
