"""A progress line on stderr for steps that run longer than a few seconds, on a terminal only."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

AFTER_S = 3.0


@contextmanager
def progress(step: str, stream: TextIO | None = None, after: float = AFTER_S) -> Iterator[None]:
    """Say `step` once it has taken `after` seconds, and how long it took when it ends."""
    out = stream or sys.stderr
    if not out.isatty():
        yield
        return
    started = time.monotonic()
    shown = threading.Event()

    def announce() -> None:
        shown.set()
        out.write(f"portico: {step}...\n")
        out.flush()

    timer = threading.Timer(after, announce)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            out.write(f"portico: {step} took {time.monotonic() - started:.1f}s\n")
            out.flush()
