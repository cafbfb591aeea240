"""`portico translate`: the IR of every Gateway in the given manifests."""

from __future__ import annotations

import argparse

from portico.cli.common import add_input_arguments, emit, read_inputs, translate_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    manifests = read_inputs(args.paths)
    if manifests is None:
        return 2
    _, result = translate_files(manifests)
    emit({"gateways": [ir.to_dict() for _, ir in sorted(result.ir_by_gateway.items())]}, args.output)
    return 0
