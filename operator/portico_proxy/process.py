"""Running the proxy as a process: config source, reload on change or SIGHUP, drain on SIGTERM, workers."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from portico.ir import GatewayIR
from portico_proxy.context import AccessLog, Limits
from portico_proxy.fdlimit import raise_nofile_limit
from portico_proxy.runtime import ConfigRejected, ProxyRuntime

log = logging.getLogger("portico.proxy")

Loader = Callable[[], Sequence[GatewayIR]]
POLL_INTERVAL_S = 1.0


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="127.0.0.1", help="address every listener binds (default 127.0.0.1)")
    parser.add_argument("--admin-port", type=int, default=None, help="port of /healthz /readyz /metrics /config")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing each port (SO_REUSEPORT)")
    parser.add_argument(
        "--access-log-sample",
        type=float,
        default=1.0,
        metavar="FRACTION",
        help="fraction of requests written as JSON access log lines to stdout; 0 turns them off",
    )
    parser.add_argument("--drain-seconds", type=float, default=10.0, help="time given to in-flight requests on stop")
    defaults = Limits()
    for flag, default, what in (
        ("--connect-timeout", defaults.connect_timeout_s, "connecting to a backend"),
        ("--response-header-timeout", defaults.response_header_timeout_s, "a backend's response head, once sent"),
        ("--body-idle-timeout", defaults.body_idle_timeout_s, "the next bytes of a request body"),
    ):
        parser.add_argument(
            flag, type=_seconds, default=default, metavar="SECONDS", help=f"{what} (default {default:g}; 0: none)"
        )
    parser.add_argument(
        "--merge-slashes",
        action=argparse.BooleanOptionalAction,
        default=defaults.merge_slashes,
        help="treat // in request paths as / before matching and forwarding (default on)",
    )


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def limits_from(args: argparse.Namespace) -> Limits:
    return Limits(
        connect_timeout_s=args.connect_timeout,
        response_header_timeout_s=args.response_header_timeout,
        body_idle_timeout_s=args.body_idle_timeout,
        merge_slashes=args.merge_slashes,
    )


def fingerprint(paths: Sequence[str]) -> str:
    """A digest of every input file's content: reload when it changes (ConfigMap symlink swaps too)."""
    digest = hashlib.sha256()
    for raw in paths:
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file).encode())
            try:
                digest.update(file.read_bytes())
            except OSError as exc:
                digest.update(repr(exc).encode())
    return digest.hexdigest()


async def _serve(args: argparse.Namespace, paths: Sequence[str], load: Loader, reuse_port: bool) -> int:
    runtime = ProxyRuntime(
        args.address,
        args.admin_port,
        getattr(args, "secrets_dir", None),
        limits=limits_from(args),
        access_log=AccessLog(args.access_log_sample),
        reuse_port=reuse_port,
        port_fallback=False,
    )
    await runtime.start()
    stop = asyncio.Event()
    reload = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload.set)
    seen = ""
    next_poll = 0.0
    while not stop.is_set():
        now = time.monotonic()
        current = _poll(paths, seen) if reload.is_set() or now >= next_poll else seen
        next_poll = now + POLL_INTERVAL_S
        if current != seen or reload.is_set():
            reload.clear()
            seen = current
            await _reload(runtime, load)
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(reload.wait())]
        await asyncio.wait(waiters, timeout=POLL_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
    log.info("draining for up to %.1fs", args.drain_seconds)
    await runtime.stop(args.drain_seconds)
    return 0


def _poll(paths: Sequence[str], seen: str) -> str:
    """The inputs' fingerprint; when they cannot be read now (out of file descriptors, say), the
    last one, so the running configuration stays and the next poll tries again."""
    try:
        return fingerprint(paths)
    except OSError as exc:
        log.error("cannot read the configuration now, previous one keeps serving: %s", exc)
        return seen


async def _reload(runtime: ProxyRuntime, load: Loader) -> None:
    try:
        gateways = load()
    except Exception as exc:
        log.error("configuration rejected, previous one keeps serving: %s", exc)
        return
    try:
        await runtime.update(gateways)
    except ConfigRejected:
        return  # already logged by the runtime
    except OSError as exc:
        log.error("cannot bind a listener port, previous configuration keeps serving: %s", exc)


def run_proxy(args: argparse.Namespace, paths: Sequence[str], load: Loader) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    workers = max(1, args.workers)
    if workers == 1:
        return _run_worker(args, paths, load, reuse_port=False)
    return _supervise(args, paths, load, workers)


def _run_worker(args: argparse.Namespace, paths: Sequence[str], load: Loader, reuse_port: bool) -> int:
    import uvloop

    raise_nofile_limit()  # the connection caps are derived from the limit (fdlimit)
    return uvloop.run(_serve(args, paths, load, reuse_port))


def _supervise(args: argparse.Namespace, paths: Sequence[str], load: Loader, workers: int) -> int:
    """Fork `workers` processes that each bind every port with SO_REUSEPORT; relay signals; restart crashes."""
    children: dict[int, int] = {}
    stopping = False

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            os._exit(_run_worker(args, paths, load, reuse_port=True))
        children[pid] = slot

    def relay(signum: int, _: object) -> None:
        nonlocal stopping
        if signum in (signal.SIGTERM, signal.SIGINT):
            stopping = True
        for pid in children:
            os.kill(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    for slot in range(workers):
        spawn(slot)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, relay)
    status = 0
    while children:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        slot = children.pop(pid)
        if not stopping:
            log.error("worker %d exited with status %d; starting another", pid, code)
            time.sleep(0.5)
            spawn(slot)
        elif code:
            status = 1
    return status
