"""`portico proxy`: the in-cluster data plane, reading the IR the operator writes (a mounted ConfigMap)."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from portico.ir import GatewayIR, IRBundle
from portico_proxy.process import add_common_arguments, run_proxy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, metavar="FILE", help="GatewayIR or IRBundle JSON; reloaded on change"
    )
    parser.add_argument(
        "--secrets-dir",
        default=None,
        metavar="DIR",
        help="where TLS keys redacted from the IR are mounted: DIR/<namespace>/<name>/tls.crt and tls.key",
    )
    add_common_arguments(parser)


def load_config(path: str) -> list[GatewayIR]:
    """One GatewayIR document, or an IRBundle (a `gateways` list); gzip-compressed or not."""
    raw = Path(path).read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
    document = json.loads(text)
    if isinstance(document, dict) and "gateways" in document:
        return list(IRBundle.from_json(text).gateways)
    return [GatewayIR.from_json(text)]


def run(args: argparse.Namespace) -> int:
    config = args.config
    return run_proxy(args, [config], lambda: load_config(config))
