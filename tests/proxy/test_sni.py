"""The ClientHello reader (portico_proxy.sni) on real ClientHellos made by the ssl module: whole, cut
at every byte, re-framed over several TLS records, without SNI; and on bytes that are not one."""

from __future__ import annotations

import contextlib
import functools
import ssl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portico_proxy.sni import MAX_CLIENT_HELLO, MAX_HELLO_BYTES, MAX_HELLO_RECORDS, Incomplete, NotClientHello, read_sni


@functools.cache
def client_hello(server_name: str | None) -> bytes:
    """The first flight of a real TLS client (TLS 1.2 and 1.3 offered)."""
    context = ssl.create_default_context()
    if server_name is None:
        context.check_hostname = False
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def reframe(hello: bytes, sizes: list[int]) -> bytes:
    """The same handshake bytes in several TLS records of the given sizes (RFC 8446 5.1 allows it)."""
    body = hello[5:]
    out = b""
    for size in sizes:
        chunk, body = body[:size], body[size:]
        out += hello[:3] + len(chunk).to_bytes(2) + chunk
    if body:
        out += hello[:3] + len(body).to_bytes(2) + body
    return out


def test_a_whole_hello_names_its_server() -> None:
    assert read_sni(client_hello("DB.Example.com")) == "db.example.com"


def test_every_cut_is_incomplete_until_the_last_byte() -> None:
    hello = client_hello("db.example.com")
    for end in range(len(hello)):
        assert read_sni(hello[:end]) is Incomplete, end
    assert read_sni(hello) == "db.example.com"


def test_a_hello_over_several_records() -> None:
    hello = reframe(client_hello("db.example.com"), [1, 3, 40, 7])
    for end in range(len(hello)):
        assert read_sni(hello[:end]) is Incomplete, end
    assert read_sni(hello) == "db.example.com"


def test_a_hello_without_server_name() -> None:
    assert read_sni(client_hello(None)) is None


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x00\x00",  # an empty record
        b"\x17\x03\x03\x00\x10" + b"\0" * 16,  # application data first
        b"\x16\x03\x01\x00\x04\x02\x00\x00\x00",  # a ServerHello
        b"\x16\x03\x01\x00\x04\x01" + (MAX_CLIENT_HELLO + 1).to_bytes(3),  # announces too much
        b"\x16\x03\x01\x00\x06\x01\x00\x00\x02\x03\x03",  # complete, yet cut inside its fields
    ],
)
def test_what_is_not_a_client_hello_is_refused(data: bytes) -> None:
    with pytest.raises(NotClientHello):
        read_sni(data)


def test_a_server_name_that_is_not_a_hostname_is_refused() -> None:
    hello = client_hello("db.example.com")
    with pytest.raises(NotClientHello):
        read_sni(hello.replace(b"db.example.com", b"db.exa/ple.com"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=600))
def test_arbitrary_bytes_never_raise_anything_else(noise: bytes, cut: int) -> None:
    hello = client_hello("db.example.com")
    for data in (noise, hello[:cut] + noise, b"\x16\x03\x01" + noise):
        with contextlib.suppress(NotClientHello):
            read_sni(data)


def test_a_hello_dribbled_in_tiny_records_is_refused_early() -> None:
    """Each arrival re-reads the records so far: a hello in hundreds of 1-byte records would cost
    CPU quadratically, so more than MAX_HELLO_RECORDS records before it is whole are refused."""
    hello = client_hello("db.example.com")
    assert read_sni(reframe(hello, [10] * (MAX_HELLO_RECORDS - 2))) == "db.example.com"
    dribbled = reframe(hello, [1] * 400)
    with pytest.raises(NotClientHello, match="TLS records"):
        read_sni(dribbled[: 6 * (MAX_HELLO_RECORDS + 1)])


def test_the_bytes_before_a_whole_hello_stay_bounded() -> None:
    # The largest hello allowed, in the most records allowed, all but its last byte sent.
    hello = b"\x01" + MAX_CLIENT_HELLO.to_bytes(3) + b"\0" * MAX_CLIENT_HELLO
    size = -(-len(hello) // MAX_HELLO_RECORDS)
    chunks = [hello[i : i + size] for i in range(0, len(hello), size)]
    data = b"".join(b"\x16\x03\x01" + len(c).to_bytes(2) + c for c in chunks)[:-1]
    assert len(chunks) == MAX_HELLO_RECORDS and read_sni(data) is Incomplete
    assert len(data) <= MAX_HELLO_BYTES
