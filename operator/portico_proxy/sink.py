"""The two interfaces an exchange joins: the client side (Responder) and the backend side (Upstream)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from portico_proxy.filters import Headers


class Responder(Protocol):
    """Where a response goes: an HTTP/1.1 connection or one HTTP/2 stream."""

    def send_head(self, status: int, headers: Headers, end: bool, has_length: bool | None = None) -> None:
        """`has_length`: whether `headers` frame the body with Content-Length (and hold no
        Transfer-Encoding), when the caller knows; None makes the responder look."""

    def send_data(self, data: bytes) -> None: ...
    def send_end(self, trailers: Headers | None) -> None: ...
    def flush(self) -> None: ...
    def abort(self) -> None: ...
    def pause_source(self) -> None: ...
    def resume_source(self) -> None: ...
    def switch_protocols(self, headers: Headers, backend: asyncio.Transport, rest: bytes) -> None:
        """Send 101 with `headers` and splice the client to `backend` (HTTP/1.1 clients only)."""


class BlockResponder(Protocol):
    """A responder that takes a response head as an HTTP/1.1 field block, as the backend sent it."""

    def send_head_block(self, status: int, block: bytes, has_length: bool) -> None:
        """`block`: CRLF-separated "name: value" lines, hop-by-hop fields already removed."""


class UpstreamSink(Protocol):
    """What an upstream connection (or stream) reports to: an exchange or a mirror."""

    def upstream_response_head(self, status: int, headers: Headers, has_length: bool | None) -> None: ...
    def upstream_response_block(self, status: int, block: bytes, has_length: bool) -> None:
        """The head as a raw field block: only for a request sent with `raw_response`."""

    def upstream_response_body(self, data: bytes) -> None: ...
    def upstream_response_end(self, trailers: Headers | None) -> None: ...
    def upstream_error(self, sent: bool, message: str) -> None:
        """`sent` False: a reused connection closed before any byte of the answer (the backend
        dropped it while idle), so an idempotent request may be tried once more on a new one."""

    def upstream_write_paused(self) -> None: ...
    def upstream_write_resumed(self) -> None: ...
    def upstream_idle(self) -> None:
        """The backend has no more bytes for now: anything held back for a joint write goes out."""

    def upstream_switched(self, headers: Headers, transport: asyncio.Transport, rest: bytes) -> None:
        """The backend answered an Upgrade request with 101: its connection (`transport`, with `rest`
        read after the head) is no longer HTTP and now belongs to the sink."""


class Upstream(Protocol):
    """One request's way to a backend: an HTTP/1.1 pooled connection or an h2c stream."""

    reused: bool

    def send_request(self, sink: UpstreamSink, request: OutgoingRequest) -> None: ...
    def send_body(self, data: bytes) -> None: ...
    def end_body(self) -> None: ...
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def abort(self) -> None: ...


class OutgoingRequest:
    """The request as it leaves for the backend, after filters."""

    __slots__ = (
        "authority",
        "content_length",
        "has_body",
        "head_only",
        "headers",
        "method",
        "raw_response",
        "target",
        "te_trailers",
        "upgrade",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        authority: bytes,
        headers: Headers,
        has_body: bool,
        content_length: int | None,
        te_trailers: bool,
        raw_response: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.authority = authority
        self.headers = headers
        self.has_body = has_body
        self.content_length = content_length
        self.te_trailers = te_trailers
        self.head_only = method == b"HEAD"
        # The response head may reach the sink as the backend's field block (upstream_response_block):
        # set only when nothing needs the fields one by one (an HTTP/1.1 client, no response filter).
        self.raw_response = raw_response
        self.upgrade = b""  # Upgrade protocols asked for (HTTP/1.1 backends only); b"": none
