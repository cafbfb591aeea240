"""`portico proxy` as a real process for the abuse tests, and what /proc says about it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from portico.ir import GatewayIR, IRBundle


@dataclass
class ProxyProcess:
    process: asyncio.subprocess.Process
    port: int

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def open_fds(self) -> int:
        return len(list(Path(f"/proc/{self.process.pid}/fd").iterdir()))


async def wait_ready(
    admin: int, process: asyncio.subprocess.Process | None = None, timeout: float = 30.0, what: str = "the proxy"
) -> None:
    """Until /readyz on the admin port answers 200; fails at once when `process` has exited."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=5) as client:
        while asyncio.get_running_loop().time() < deadline:
            if process is not None and process.returncode is not None:
                raise AssertionError(f"{what} exited with {process.returncode} before it was ready")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{admin}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{what} never became ready")


@asynccontextmanager
async def proxy_process(
    tmp: Path,
    ir: GatewayIR,
    port: int,
    admin: int,
    *extra: str,
    nofile: tuple[int, int] | None = None,
) -> AsyncIterator[ProxyProcess]:
    config = tmp / "ir.json"
    config.write_text(IRBundle(gateways=(ir,)).to_json())
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        # The child lowers its own descriptor limit before Portico starts: preexec_fn is not safe in a
        # process with threads (the test runner has them) and has aborted the fork under load.
        (f"import resource; resource.setrlimit(resource.RLIMIT_NOFILE, {nofile}); " if nofile else "")
        + "import sys; from portico.cli import main; sys.exit(main())",
        "proxy",
        "--config",
        str(config),
        "--admin-port",
        str(admin),
        "--access-log-sample",
        "0",
        *extra,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_ready(admin)
        yield ProxyProcess(process, port)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
