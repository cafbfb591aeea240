"""The progress line: said on a terminal once a step runs long, never into a pipe or a file."""

from __future__ import annotations

import io
import time

from portico.cli.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _wait_for(stream: io.StringIO, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in stream.getvalue():
        assert time.monotonic() < deadline, stream.getvalue()
        time.sleep(0.01)


def test_a_long_step_on_a_terminal_is_announced_and_timed() -> None:
    terminal = Terminal()
    with progress("reading manifests", stream=terminal, after=0.0):
        _wait_for(terminal, "portico: reading manifests...\n")
    assert terminal.getvalue().splitlines()[1].startswith("portico: reading manifests took ")


def test_a_short_step_says_nothing() -> None:
    terminal = Terminal()
    with progress("translating", stream=terminal, after=60.0):
        pass
    assert terminal.getvalue() == ""


def test_nothing_is_said_into_a_pipe() -> None:
    pipe = io.StringIO()
    with progress("translating", stream=pipe, after=0.0):
        time.sleep(0.05)  # longer than `after`: a terminal would have been told
    assert pipe.getvalue() == ""
