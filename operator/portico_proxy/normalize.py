"""One normalisation policy for request paths and hosts, applied before matching and to what is
forwarded, for HTTP/1.1 and HTTP/2 alike (so a backend never sees a path the rules did not).

Path (RFC 3986 6.2.2):
- percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded; other escapes keep
  their encoding with upper-case hex; a malformed escape is refused (400);
- an encoded slash or backslash (%2F, %5C) and a literal backslash are refused (400): kept encoded,
  a backend that decodes them would see a path no rule matched (Envoy's REJECT_REQUEST choice);
- dot segments are removed (RFC 3986 5.2.4), after the decoding above (so %2e%2e is one);
- repeated slashes are merged into one (configurable);
- a segment's parameters (`;x`, which Java servers strip) are ignored when matching, kept when
  forwarding (RequestHead.route_path).
The query is left as it came. A target without '%', ';', a backslash, '//' or '/.' is taken as it
is (one regular-expression scan), so ordinary requests pay almost nothing.

Host (HTTP/1 Host or the absolute-form authority, HTTP/2 :authority): one trailing dot of the name
is dropped; anything that is not a valid authority (RFC 3986 3.2: reg-name or IP literal, optional
port) is refused (400).
"""

from __future__ import annotations

import re

SPECIAL = re.compile(rb"[%;\\]|//|/\.")
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
HEX = frozenset(b"0123456789abcdefABCDEF")
AUTHORITY = re.compile(rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?")
MULTI_SLASH = re.compile(rb"/{2,}")


class BadRequest(ValueError):
    """A request target or host the policy refuses: the status to answer and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Malformed(BadRequest):
    """An HTTP/2 request no HTTP/1 request line could carry: the stream is reset (RFC 9113 8.1.1)."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


CONTROL_OR_SPACE = re.compile(rb"[\x00-\x20\x7f]")


def normalize_path(path: bytes, merge_slashes: bool = True) -> bytes:
    """The normalised form of an origin-form path (no query); raises BadRequest."""
    if SPECIAL.search(path) is None:
        return path
    if b"\\" in path:
        raise BadRequest(400, "backslash in the request path")
    if b"%" in path:
        path = _decode_unreserved(path)
    if merge_slashes and b"//" in path:
        path = MULTI_SLASH.sub(b"/", path)
    if b"/." in path:
        path = remove_dot_segments(path)
    return path


def normalize_target(target: bytes, merge_slashes: bool = True) -> bytes:
    """path?query with the path normalised; raises BadRequest."""
    if SPECIAL.search(target) is None:
        return target
    path, sep, query = target.partition(b"?")
    return normalize_path(path, merge_slashes) + sep + query


def h1_target(method: bytes, url: bytes, version: bytes, authority: bytes, merge: bool) -> tuple[bytes, bytes]:
    """An HTTP/1 request line's target and the Host field -> (normalised origin-form target,
    authority to route by and forward); raises BadRequest."""
    if version not in (b"1.1", b"1.0"):
        raise BadRequest(505, "HTTP version not supported")
    if not authority and version == b"1.1":
        raise BadRequest(400, "missing Host header")
    if method == b"CONNECT":
        raise BadRequest(405, "CONNECT is not supported")
    if not url.startswith(b"/"):
        if url == b"*":
            raise BadRequest(400, "asterisk-form target (OPTIONS *) is not forwarded")
        authority, url = split_absolute(url)
    elif SPECIAL.search(url) is None:
        return url, authority  # the common case, without one more call
    return normalize_target(url, merge), authority


def _decode_unreserved(path: bytes) -> bytes:
    parts = path.split(b"%")
    out = [parts[0]]
    for part in parts[1:]:
        if len(part) < 2 or part[0] not in HEX or part[1] not in HEX:
            raise BadRequest(400, "malformed percent-encoding in the request path")
        code = int(part[:2], 16)
        if code in (0x2F, 0x5C):
            raise BadRequest(400, "encoded slash or backslash in the request path")
        if code in UNRESERVED:
            out.append(bytes((code,)) + part[2:])
        else:
            out.append(b"%" + part[:2].upper() + part[2:])
    return b"".join(out)


def remove_dot_segments(path: bytes) -> bytes:
    """RFC 3986 5.2.4 for an absolute path: `.` segments go, `..` removes the segment before it
    (never above the root); a trailing dot segment leaves a trailing slash."""
    segments = path.split(b"/")
    out: list[bytes] = []
    for segment in segments[1:]:
        if segment == b".":
            continue
        if segment == b"..":
            if out:
                out.pop()
            continue
        out.append(segment)
    if segments[-1] in (b".", b".."):
        out.append(b"")
    return b"/" + b"/".join(out)


def normalize_authority(authority: bytes) -> bytes:
    """Host[:port] with one trailing dot of the name dropped; raises BadRequest if invalid."""
    if AUTHORITY.fullmatch(authority) is None:
        raise BadRequest(400, "invalid Host")
    if authority.startswith(b"["):
        return authority
    name, colon, port = authority.partition(b":")
    if name.endswith(b"."):
        return name[:-1] + colon + port
    return authority


def split_absolute(url: bytes) -> tuple[bytes, bytes]:
    """An absolute-form target (RFC 9112 3.2.2) -> (authority, path?query); the authority replaces
    the Host field. Raises BadRequest for anything that is not http(s)://authority[/...]."""
    scheme, sep, rest = url.partition(b"://")
    if not sep or scheme.lower() not in (b"http", b"https"):
        raise BadRequest(400, "request target is neither a path nor an http(s) URL")
    end = len(rest)
    for mark in (b"/", b"?"):
        found = rest.find(mark)
        if found >= 0:
            end = min(end, found)
    authority, target = rest[:end], rest[end:]
    if b"@" in authority:
        raise BadRequest(400, "user information in the request target")
    if not target.startswith(b"/"):
        target = b"/" + target
    return authority, target


def h2_target(method: bytes, path: bytes, authority: bytes, merge: bool) -> tuple[bytes, bytes]:
    """HTTP/2 :method, :path, :authority -> (normalised target, authority); raises BadRequest."""
    if CONTROL_OR_SPACE.search(method) or CONTROL_OR_SPACE.search(path):
        raise Malformed("space or control character in :method or :path")
    if method == b"CONNECT":
        raise BadRequest(405, "CONNECT is not supported")
    if not path.startswith(b"/"):
        raise BadRequest(400, "request target is not a path")
    return normalize_target(path, merge), normalize_authority(authority)
