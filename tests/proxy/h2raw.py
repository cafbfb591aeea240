"""A raw HTTP/2 client for abuse tests: frames are built by hand (hyperframe, hpack), so it can do
what a well-behaved client library refuses to (too many streams, floods, zero windows)."""

from __future__ import annotations

import asyncio

from hpack import Decoder, Encoder
from hyperframe.frame import (
    ContinuationFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CANCEL = 8
REFUSED_STREAM = 7
ENHANCE_YOUR_CALM = 11


class RawH2:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.encoder = Encoder()
        self.next_id = 1

    @classmethod
    async def connect(cls, port: int, settings: dict[int, int] | None = None) -> RawH2:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        writer.write(PREFACE + SettingsFrame(0, settings or {}).serialize())
        return client

    def request_block(
        self,
        path: bytes,
        method: bytes = b"GET",
        authority: bytes = b"a.example",
        extra: tuple[tuple[bytes, bytes], ...] = (),
    ) -> bytes:
        pseudo = [(b":method", method), (b":scheme", b"http"), (b":path", path), (b":authority", authority)]
        return self.encoder.encode(pseudo + list(extra))

    def headers(self, path: bytes, end_headers: bool = True, **block: object) -> tuple[int, bytes]:
        """A request on a new stream: (stream id, the frame's bytes)."""
        stream_id, self.next_id = self.next_id, self.next_id + 2
        flags = ["END_STREAM"] + (["END_HEADERS"] if end_headers else [])
        data = self.request_block(path, **block)  # type: ignore[arg-type]
        return stream_id, HeadersFrame(stream_id, data, flags=flags).serialize()

    @staticmethod
    def continuation(stream_id: int, block: bytes) -> bytes:
        return ContinuationFrame(stream_id, block).serialize()

    @staticmethod
    def reset(stream_id: int) -> bytes:
        return RstStreamFrame(stream_id, error_code=CANCEL).serialize()

    @staticmethod
    def ping(n: int) -> bytes:
        return PingFrame(0, n.to_bytes(8, "big")).serialize()

    @staticmethod
    def settings(values: dict[int, int]) -> bytes:
        return SettingsFrame(0, values).serialize()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def frames(self, timeout: float) -> list[Frame]:
        """Every frame until the server closes the connection or `timeout` passes without one."""
        found: list[Frame] = []
        while True:
            try:
                header = await asyncio.wait_for(self.reader.readexactly(9), timeout)
                frame, length = Frame.parse_frame_header(memoryview(header))
                frame.parse_body(memoryview(await self.reader.readexactly(length)))
            except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                return found
            found.append(frame)

    def close(self) -> None:
        self.writer.close()


def goaway_code(frames: list[Frame]) -> int | None:
    codes = [f.error_code for f in frames if isinstance(f, GoAwayFrame)]
    return codes[-1] if codes else None


def resets(frames: list[Frame], code: int) -> set[int]:
    return {f.stream_id for f in frames if isinstance(f, RstStreamFrame) and f.error_code == code}


def answered(frames: list[Frame]) -> set[int]:
    return {f.stream_id for f in frames if isinstance(f, HeadersFrame)}


def statuses(frames: list[Frame]) -> dict[int, int]:
    """Stream id -> :status of its response (frames in the order the server sent them)."""
    decoder = Decoder()
    found: dict[int, int] = {}
    for frame in frames:
        if isinstance(frame, HeadersFrame):
            fields = dict(decoder.decode(frame.data, raw=True))
            if b":status" in fields:
                found.setdefault(frame.stream_id, int(fields[b":status"]))
    return found
