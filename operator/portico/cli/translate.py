"""`portico translate`: the IR of every Gateway in the given manifests."""

from __future__ import annotations

import argparse

from portico.cli.common import add_input_arguments, emit, load_and_translate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    loaded = load_and_translate(args.paths)
    if loaded is None:
        return 2
    _, result = loaded
    emit({"gateways": [ir.to_dict() for _, ir in sorted(result.ir_by_gateway.items())]}, args.output)
    return 0
