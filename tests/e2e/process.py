"""`portico run` as a real process against the emulated API server (for kills, restarts and HA)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path


class OperatorProcess:
    """One `portico run --server URL ...` child process; its output goes to `log`."""

    def __init__(self, server: str, log: Path, *args: str) -> None:
        self.server = server
        self.log = log
        self.args = args
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> OperatorProcess:
        command = [sys.executable, "-m", "portico.cli", "run", "--server", self.server, "--liveness", "", *self.args]
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(*command, stdout=out, stderr=out)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_log(self, text: str, timeout: float = 20.0) -> None:
        """Wait until the process has logged `text` (e.g. that it started or leads)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.output():
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"operator exited {self.process.returncode}:\n{self.output()[-3000:]}")
            if loop.time() > deadline:
                raise AssertionError(f"operator did not log {text!r} in {timeout}s:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.05)

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)

    async def exited(self, timeout: float = 20.0) -> int:
        """The exit status, once the process has ended by itself (e.g. after a signal it handles)."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 5)
            return None
