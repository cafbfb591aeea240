"""Limits of one client HTTP/2 connection: concurrent streams, resets, control-frame floods.

Rapid reset (CVE-2023-44487) opens and cancels streams faster than a proxy can start and stop
their backend work; floods of SETTINGS or PING make the server queue an acknowledgement for each.
Like nginx and Envoy, the connection is closed with GOAWAY(ENHANCE_YOUR_CALM) once a client
crosses a line no ordinary client does, and streams beyond the concurrency cap are refused one by
one (REFUSED_STREAM, safe for a client to retry) rather than failing the whole connection.
"""

from __future__ import annotations

from h2.connection import H2Connection

MAX_CONCURRENT_STREAMS = 100  # advertised in SETTINGS; RFC 9113 recommends at least 100
# Resets by the client of streams not yet answered: tolerated up to this floor, then while they stay
# under half of the streams opened (Envoy's premature-reset rule).
RESET_FLOOR = 100
# Streams refused for exceeding the cap: a client that ignores the advertised limit this often is abusive.
REFUSED_LIMIT = 1000
# SETTINGS and PING frames per window: each one makes the server queue an acknowledgement.
CONTROL_FRAMES_PER_WINDOW = 500
CONTROL_WINDOW_S = 10.0
MAX_HEADER_LIST_SIZE = 65536


class ServerConnection(H2Connection):
    """h2 enforces MAX_CONCURRENT_STREAMS by failing the whole connection (PROTOCOL_ERROR); the
    server counts its own streams instead and refuses the excess ones one by one."""

    @property
    def open_inbound_streams(self) -> int:
        super().open_inbound_streams  # noqa: B018 - its side effect: closed streams are forgotten
        return 0


class AbuseMeter:
    """Counts what a client did on one connection; `verdict()` names the limit it crossed, if any."""

    __slots__ = ("control", "control_since", "opened", "refused", "resets")

    def __init__(self, now: float) -> None:
        self.opened = 0
        self.resets = 0
        self.refused = 0
        self.control = 0
        self.control_since = now

    def stream_opened(self) -> None:
        self.opened += 1

    def stream_reset(self) -> None:
        self.resets += 1

    def stream_refused(self) -> None:
        self.refused += 1

    def control_frame(self, now: float) -> None:
        if now - self.control_since > CONTROL_WINDOW_S:
            self.control, self.control_since = 0, now
        self.control += 1

    def verdict(self) -> str | None:
        if self.resets > RESET_FLOOR and self.resets * 2 > self.opened:
            return f"{self.resets} of {self.opened} streams reset by the client"
        if self.refused > REFUSED_LIMIT:
            return f"{self.refused} streams over the concurrency limit"
        if self.control > CONTROL_FRAMES_PER_WINDOW:
            return f"more than {CONTROL_FRAMES_PER_WINDOW} SETTINGS/PING frames in {CONTROL_WINDOW_S:g}s"
        return None
