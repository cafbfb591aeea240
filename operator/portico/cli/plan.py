"""`portico plan`: what a provider would create for each Gateway; offline, no credentials."""

from __future__ import annotations

import argparse
import sys

from portico.cli.common import add_input_arguments, emit, load_and_translate
from portico.provider import ProviderUnavailable, Undeliverable, available_providers, load_provider


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--provider",
        required=True,
        help=f"provider name (installed: {', '.join(available_providers()) or 'none'})",
    )


def run(args: argparse.Namespace) -> int:
    try:
        provider = load_provider(args.provider)
    except ProviderUnavailable as error:
        print(f"portico plan: {error}", file=sys.stderr)
        return 2
    loaded = load_and_translate(args.paths)
    if loaded is None:
        return 2
    _, result = loaded
    plans = []
    undeliverable = 0
    for (namespace, name), ir in sorted(result.ir_by_gateway.items()):
        if not ir.controller_name.endswith("/" + args.provider):
            continue
        try:
            plans.append({"gateway": f"{namespace}/{name}", "plan": provider.plan(ir, None).to_document()})
        except Undeliverable as error:  # e.g. too large for its data plane: said per Gateway, as in status
            undeliverable += 1
            plans.append({"gateway": f"{namespace}/{name}", "undeliverable": str(error)})
    emit({"provider": args.provider, "gateways": plans}, args.output)
    return 1 if undeliverable else 0
