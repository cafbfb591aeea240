"""`portico demo`: the quickstart on this machine, no cluster needed (see portico.devcluster.demo)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true", help="exit after the checks: 0 when all pass")
    parser.add_argument("--manifests", default="examples/quickstart", help="the quickstart manifests")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for Programmed")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from portico.devcluster.demo import demo

    path = Path(args.manifests)
    if not path.exists():
        print(f"portico demo: {path} does not exist (run it from the repository root)", file=sys.stderr)
        return 2
    try:
        return asyncio.run(demo(path, args.once, args.timeout))
    except KeyboardInterrupt:
        return 0
    except (TimeoutError, ModuleNotFoundError) as error:
        print(f"portico demo: {error}", file=sys.stderr)
        return 1
