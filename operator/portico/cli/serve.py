"""`portico serve`: a standalone Gateway API proxy fed with manifest files (no Kubernetes needed)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from portico.api import build_snapshot
from portico.cli.common import add_paths_argument
from portico.ir import GatewayIR
from portico.manifests import load_manifests
from portico.translate import translate
from portico_proxy.process import add_common_arguments, run_proxy

CONTROLLER = "portico.dev/proxy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_paths_argument(parser, "reloaded on change")
    add_common_arguments(parser)


def gateways_from_manifests(paths: Sequence[str]) -> list[GatewayIR]:
    """Every Gateway whose class names Portico's proxy controller, translated to IR."""
    snapshot = build_snapshot([m.obj for m in load_manifests(paths)])
    result = translate(snapshot)
    return [ir for _, ir in sorted(result.ir_by_gateway.items()) if ir.controller_name == CONTROLLER]


def run(args: argparse.Namespace) -> int:
    paths = list(args.paths)
    return run_proxy(args, paths, lambda: gateways_from_manifests(paths))
