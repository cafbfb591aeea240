"""`portico demo`: the quickstart on this machine, no cluster needed (see portico.devcluster.demo)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
from pathlib import Path

import portico
from portico.manifests import ManifestError

QUICKSTART = Path("examples") / "quickstart"


def default_manifests() -> Path:
    """The quickstart next to the working directory, else the one in Portico's own source tree."""
    here = Path.cwd() / QUICKSTART
    if here.is_dir():
        return here
    return Path(portico.__file__).resolve().parents[2] / QUICKSTART


def port_mapping(text: str) -> tuple[int | None, int]:
    """`LOCAL` (for the first listener port) or `LISTENER:LOCAL`."""
    listener, _, local = text.rpartition(":")
    try:
        pair = (int(listener) if listener else None, int(local))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not PORT or LISTENER_PORT:PORT") from None
    if not all(p is None or 0 <= p <= 65535 for p in pair):
        raise argparse.ArgumentTypeError(f"{text!r}: ports are 0-65535")
    return pair


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="exit after the checks: 0 when all pass")
    parser.add_argument(
        "--manifests", type=Path, default=None, help="a file or directory of manifests (default: the quickstart)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for Programmed")
    parser.add_argument("--address", default="127.0.0.1", help="address the Gateways' listeners bind")
    parser.add_argument(
        "--port",
        type=port_mapping,
        action="append",
        default=[],
        metavar="[LISTENER_PORT:]PORT",
        help="bind a listener port here instead (PORT alone: the lowest listener port); repeatable. "
        "By default each listener binds its own port, or a free one when that is taken",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="where to write a kubeconfig for the embedded API server (default: a new temporary file)",
    )


def _port_map(pairs: list[tuple[int | None, int]], listener_ports: list[int]) -> dict[int, int]:
    lowest = min(listener_ports, default=None)
    mapping: dict[int, int] = {}
    for listener, local in pairs:
        key = listener if listener is not None else lowest
        if key is not None:
            mapping[key] = local
    return mapping


def _listener_ports(path: Path) -> list[int]:
    from portico.manifests import load_manifests

    return [
        int(listener["port"])
        for m in load_manifests([path])
        if m.obj["kind"] == "Gateway"
        for listener in (m.obj.get("spec") or {}).get("listeners") or []
        if isinstance(listener, dict) and isinstance(listener.get("port"), int)
    ]


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from portico.devcluster.demo import DemoOptions, demo

    path = args.manifests or default_manifests()
    if not path.exists():
        print(f"portico demo: {path} does not exist", file=sys.stderr)
        return 2
    try:
        port_map = _port_map(args.port, _listener_ports(path))
    except ManifestError as error:
        print(str(error), file=sys.stderr)
        return 2
    kubeconfig = args.kubeconfig or Path(tempfile.mkdtemp(prefix="portico-demo-")) / "kubeconfig"
    options = DemoOptions(path, args.once, args.timeout, args.address, port_map, kubeconfig)
    try:
        return asyncio.run(demo(options))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("portico demo: stopped", file=sys.stderr)
        return 0
    except (TimeoutError, ModuleNotFoundError, ValueError, KeyError, ManifestError) as error:
        print(f"portico demo: {error}", file=sys.stderr)
        return 1
    finally:
        if args.kubeconfig is None:
            shutil.rmtree(kubeconfig.parent, ignore_errors=True)
