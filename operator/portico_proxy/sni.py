"""The server name (SNI) of a TLS ClientHello, read from the raw bytes without terminating TLS
(RFC 8446 4.1.2 and 5.1, RFC 6066 3). The ClientHello may span several TLS records and arrive in
any number of TCP segments: the caller feeds everything read so far and asks again."""

from __future__ import annotations

import re

HANDSHAKE = 22
CLIENT_HELLO = 1
SERVER_NAME = 0
HOST_NAME = 0
# Far above any real ClientHello (post-quantum key shares make ~2 KiB); a longer one is refused.
MAX_CLIENT_HELLO = 32 * 1024
MAX_RECORD = 16384 + 256
# A 32 KiB hello needs 3 records of 16 KiB; the slack admits fragmented hellos, while a hello dribbled
# in 1-byte records (all re-read on every arrival) is refused early instead of costing CPU
# quadratically. With the record cap, the bytes before a whole hello stay under MAX_HELLO_BYTES.
MAX_HELLO_RECORDS = 64
MAX_HELLO_BYTES = MAX_CLIENT_HELLO + 1024
_HOST = re.compile(rb"^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*$")


class NotClientHello(ValueError):
    """The bytes are not the start of a TLS ClientHello, or one the proxy refuses to read."""


class Incomplete:
    """More bytes are needed; `Incomplete` (the class) is what `read_sni` returns then."""


def _handshake_bytes(data: bytes) -> bytes:
    """The handshake-layer bytes of the records in `data`, up to the end of the first handshake
    message (the client's next bytes may follow it at once), or all there is so far."""
    out = bytearray()
    offset = 0
    records = 0
    while offset + 5 <= len(data) and not _message_complete(out):
        records += 1
        if records > MAX_HELLO_RECORDS:
            raise NotClientHello(f"ClientHello spread over more than {MAX_HELLO_RECORDS} TLS records")
        content_type, major, length = data[offset], data[offset + 1], int.from_bytes(data[offset + 3 : offset + 5])
        if content_type != HANDSHAKE or major != 3:
            raise NotClientHello("not a TLS handshake record")
        if length == 0 or length > MAX_RECORD:
            raise NotClientHello(f"TLS record length {length} is invalid")
        out += data[offset + 5 : offset + 5 + length]
        offset += 5 + length
    return bytes(out)


def _message_complete(handshake: bytes | bytearray) -> bool:
    return len(handshake) >= 4 and len(handshake) >= 4 + int.from_bytes(handshake[1:4])


def read_sni(data: bytes) -> str | type[Incomplete] | None:
    """The lower-case server name, None for a complete ClientHello without one, or `Incomplete`.

    Raises NotClientHello for anything else (another protocol, a malformed or oversized hello)."""
    handshake = _handshake_bytes(data)
    if len(handshake) < 4:
        if len(data) > MAX_CLIENT_HELLO:
            raise NotClientHello("no ClientHello in the first bytes")
        return Incomplete
    if handshake[0] != CLIENT_HELLO:
        raise NotClientHello("the first handshake message is not a ClientHello")
    length = int.from_bytes(handshake[1:4])
    if length > MAX_CLIENT_HELLO:
        raise NotClientHello(f"ClientHello of {length} bytes is over the {MAX_CLIENT_HELLO}-byte limit")
    if len(handshake) < 4 + length:
        return Incomplete
    return _server_name(handshake[4 : 4 + length])


class _Reader:
    __slots__ = ("data", "offset")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        end = self.offset + size
        if end > len(self.data):
            raise NotClientHello("ClientHello is truncated")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size))

    def vector(self, length_size: int) -> bytes:
        return self.take(self.number(length_size))

    @property
    def left(self) -> int:
        return len(self.data) - self.offset


def _server_name(body: bytes) -> str | None:
    reader = _Reader(body)
    reader.take(2 + 32)  # legacy_version, random
    reader.vector(1)  # legacy_session_id
    reader.vector(2)  # cipher_suites
    reader.vector(1)  # legacy_compression_methods
    if reader.left == 0:
        return None  # no extensions at all
    extensions = _Reader(reader.vector(2))
    while extensions.left:
        kind = extensions.number(2)
        payload = extensions.vector(2)
        if kind == SERVER_NAME:
            return _host_name(payload)
    return None


def _host_name(payload: bytes) -> str | None:
    names = _Reader(_Reader(payload).vector(2))
    while names.left:
        name_type = names.number(1)
        name = names.vector(2)
        if name_type == HOST_NAME:
            host = name.lower().rstrip(b".")
            if not _HOST.match(host) or len(host) > 253:
                raise NotClientHello("the server name is not a DNS hostname")
            return host.decode("ascii")
    return None
