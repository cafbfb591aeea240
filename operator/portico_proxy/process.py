"""Running the proxy as a process: config source, reload on change or SIGHUP, drain on SIGTERM, workers."""

from __future__ import annotations

import argparse
import asyncio
import gc
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
# Exit statuses of a worker that could not start; the supervisor stops instead of restarting it.
EXIT_CANNOT_BIND = 1
EXIT_BAD_CONFIG = 2
EXIT_CRASHED = 70


def port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535; 0 picks a free port)")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 1")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds (0 or more)")
    return value


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="127.0.0.1", help="address every listener binds (default 127.0.0.1)")
    parser.add_argument(
        "--admin-port", type=port_number, default=None, help="port of /healthz /readyz /metrics /config"
    )
    parser.add_argument("--workers", type=positive_int, default=1, help="processes sharing each port (SO_REUSEPORT)")
    parser.add_argument(
        "--access-log-sample",
        type=fraction,
        default=1.0,
        metavar="FRACTION",
        help="fraction of requests written as JSON access log lines to stdout; 0 turns them off",
    )
    parser.add_argument("--drain-seconds", type=seconds, default=10.0, help="time given to in-flight requests on stop")
    defaults = Limits()
    for flag, default, what in (
        ("--connect-timeout", defaults.connect_timeout_s, "connecting to a backend"),
        ("--response-header-timeout", defaults.response_header_timeout_s, "a backend's response head, once sent"),
        ("--body-idle-timeout", defaults.body_idle_timeout_s, "the next bytes of a request body"),
    ):
        parser.add_argument(
            flag, type=seconds, default=default, metavar="SECONDS", help=f"{what} (default {default:g}; 0: none)"
        )
    parser.add_argument(
        "--merge-slashes",
        action=argparse.BooleanOptionalAction,
        default=defaults.merge_slashes,
        help="treat // in request paths as / before matching and forwarding (default on)",
    )
    parser.add_argument(
        "--insecure-backend-tls",
        action="store_true",
        help="reach https backends that no BackendTLSPolicy covers without verifying their certificate",
    )


def limits_from(args: argparse.Namespace) -> Limits:
    return Limits(
        connect_timeout_s=args.connect_timeout,
        response_header_timeout_s=args.response_header_timeout,
        body_idle_timeout_s=args.body_idle_timeout,
        merge_slashes=args.merge_slashes,
        insecure_backend_tls=args.insecure_backend_tls,
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


async def _serve(args: argparse.Namespace, paths: Sequence[str], load: Loader, reuse_port: bool, strict: bool) -> int:
    runtime = ProxyRuntime(
        args.address,
        args.admin_port,
        getattr(args, "secrets_dir", None),
        limits=limits_from(args),
        access_log=AccessLog(args.access_log_sample),
        reuse_port=reuse_port,
        port_fallback=False,
    )
    try:
        await runtime.start()
    except OSError as exc:
        log.error("cannot serve the admin endpoints on %s port %s: %s", args.address, args.admin_port, exc)
        await runtime.stop(0)
        return EXIT_CANNOT_BIND
    if strict:
        failed = await _first_load(runtime, load)
        if failed:
            await runtime.stop(0)
            return failed
        await _settle_heap_soon()
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
        if strict and not seen:
            seen = _poll(paths, seen)  # loaded by _first_load just before the files were read
        current = _poll(paths, seen) if reload.is_set() or now >= next_poll else seen
        next_poll = now + POLL_INTERVAL_S
        if current != seen or reload.is_set():
            reload.clear()
            seen = current
            if await _reload(runtime, load):
                await _settle_heap_soon()
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


async def _first_load(runtime: ProxyRuntime, load: Loader) -> int:
    """0 once the first configuration serves, or the exit status after saying why it cannot."""
    try:
        gateways = load()
    except Exception as exc:
        log.error("configuration does not load, nothing to serve: %s", exc)
        return EXIT_BAD_CONFIG
    if not any(gateway.listeners for gateway in gateways):
        log.error("nothing to serve: no accepted Gateway has a listener (the warnings above say why)")
        return EXIT_BAD_CONFIG
    try:
        await runtime.update(gateways)
    except ConfigRejected:
        return EXIT_BAD_CONFIG  # already logged by the runtime
    except OSError as exc:
        log.error("cannot bind a listener: %s", exc)
        return EXIT_CANNOT_BIND
    return 0


async def _reload(runtime: ProxyRuntime, load: Loader) -> bool:
    """True once the new configuration serves."""
    keeps = "the previous one keeps serving" if runtime.ready else "nothing is served until a valid one arrives"
    try:
        gateways = load()
    except Exception as exc:
        log.error("configuration rejected, %s: %s", keeps, exc)
        return False
    try:
        await runtime.update(gateways)
    except ConfigRejected:
        return False  # already logged by the runtime
    except OSError as exc:
        log.error("cannot bind a listener port, %s: %s", keeps, exc)
        return False
    return True


async def _settle_heap_soon() -> None:
    # What the update queued (closing removed ports' idle keep-alive connections) is done first:
    # during the collection the loop stands still, and a client would reuse a connection whose
    # close had not been sent. Two turns: the write batch's flush, then the transport's close.
    for _ in range(2):
        await asyncio.sleep(0)
    settle_heap()


def settle_heap() -> None:
    """Once a configuration serves: one full collection, then everything still alive (the imports,
    the compiled tables) is frozen out of the cyclic collector's reach.

    A worker holds about 50,000 long-lived objects; a full collection over them stops the event loop
    for 25-330 ms (2-core machine, idle to loaded), and translation runs with the collector paused
    (portico.gcpause), so without this the first one falls while serving. After the freeze a full
    collection scans only what was made since. Unfreezing first lets the previous configuration's
    cyclic garbage go instead of staying frozen for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def run_proxy(args: argparse.Namespace, paths: Sequence[str], load: Loader, strict_start: bool = False) -> int:
    """Serve until SIGTERM/SIGINT. `strict_start`: exit non-zero, saying why, when the first configuration
    does not load, serves nothing, or a port cannot be bound (`portico serve`); otherwise wait for a
    valid configuration (`portico proxy`, whose ConfigMap may still be on its way)."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    if args.workers == 1:
        return _run_worker(args, paths, load, False, strict_start)
    return _supervise(args, paths, load, args.workers, strict_start)


def _run_worker(args: argparse.Namespace, paths: Sequence[str], load: Loader, reuse_port: bool, strict: bool) -> int:
    import uvloop

    raise_nofile_limit()  # the connection caps are derived from the limit (fdlimit)
    return uvloop.run(_serve(args, paths, load, reuse_port, strict))


def _supervise(args: argparse.Namespace, paths: Sequence[str], load: Loader, workers: int, strict: bool) -> int:
    """Fork `workers` processes that each bind every port with SO_REUSEPORT; relay signals; restart crashes.
    A worker that cannot start (bad configuration, port unavailable) stops them all with its status."""
    children: dict[int, int] = {}
    stopping = False

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            try:
                code = _run_worker(args, paths, load, True, strict)
            except BaseException:
                log.exception("worker crashed")
                code = EXIT_CRASHED
            os._exit(code)
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
        exit_code = os.waitstatus_to_exitcode(code)
        if not stopping and exit_code in (EXIT_CANNOT_BIND, EXIT_BAD_CONFIG):
            stopping, status = True, exit_code
            for other in children:
                os.kill(other, signal.SIGTERM)
        elif not stopping:
            log.error("worker %d exited with status %d; starting another", pid, exit_code)
            time.sleep(0.5)
            spawn(slot)
        elif code and not status:
            status = 1
    return status
