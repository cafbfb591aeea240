"""`portico`: one command, one sub-command per job. Each sub-command lives in its own module
exposing `add_arguments(parser)` and `run(args) -> int`, imported only when it is used."""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

# name -> (module, one-line help). Modules are imported lazily: `portico status` never
# imports the proxy or a cloud SDK.
COMMANDS: dict[str, tuple[str, str]] = {
    "status": ("portico.cli.status", "print the status Portico would write for the given manifests"),
    "translate": ("portico.cli.translate", "print the IR of every Gateway in the given manifests"),
    "convert": ("portico.cli.convert", "convert ingress-nginx Ingresses to Gateway API objects, with a report"),
    "plan": ("portico.cli.plan", "print the cloud resources a provider would create (offline dry run)"),
    "serve": ("portico.cli.serve", "serve Gateway API manifests with Portico's own proxy (standalone)"),
    "proxy": ("portico_proxy.cli_proxy", "run the in-cluster proxy data plane from the operator's IR file"),
    "demo": ("portico.cli.demo", "the quickstart on this machine: embedded API server, operator and proxy"),
    "run": ("portico.cli.run", "run the operator against a cluster (in-cluster, kubeconfig or --server)"),
}


OFFLINE = ("status", "translate", "plan")


def installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("portico-gateway")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico", description="Kubernetes Gateway API on any cloud.")
    parser.add_argument("--version", action="version", version=f"portico {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            importlib.import_module(module).add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    module = importlib.import_module(COMMANDS[args.command][0])
    if args.command in OFFLINE:
        # One-shot commands allocate millions of small acyclic objects; the cycle collector's
        # repeated scans of them cost more than the work itself (35k routes: 7.4 s -> 4.6 s of CPU).
        gc.disable()
    try:
        result: int = module.run(args)
    except BrokenPipeError:  # `portico status ... | head` is not an error
        sys.stderr.close()
        return 0
    return result


if __name__ == "__main__":
    raise SystemExit(main())
