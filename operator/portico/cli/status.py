"""`portico status`: the status Portico would write, as a Kubernetes List or a kubectl-like table."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from portico.api.base import GATEWAY_GROUP
from portico.cli.common import add_paths_argument, emit, load_and_translate
from portico.cli.inputs import STATUS_KINDS
from portico.cli.table import false_conditions, render_table
from portico.manifests import Manifest
from portico.translate import TranslateResult

# Listed with their status: the kinds that always get one, and policies (which get one only once a
# Gateway reaches what they target, so a policy without one is not reported as ignored).
KINDS = (*STATUS_KINDS, "BackendTLSPolicy")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_paths_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        choices=["wide", "yaml", "json"],
        default=None,
        help="output format (default: wide on a terminal, yaml otherwise)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any condition Portico owns is False (for CI pipelines that lint manifests)",
    )


def run(args: argparse.Namespace) -> int:
    loaded = load_and_translate(args.paths)
    if loaded is None:
        return 2
    document = status_list(*loaded)
    output = args.output or ("wide" if sys.stdout.isatty() else "yaml")
    if output == "wide":
        sys.stdout.write(render_table(document["items"]))
    else:
        emit(document, output)
    if args.strict:
        failing = false_conditions(document["items"])
        for line in failing:
            print(f"strict: {line}", file=sys.stderr)
        return 1 if failing else 0
    return 0


def status_list(manifests: Sequence[Manifest], result: TranslateResult) -> dict[str, Any]:
    """A Kubernetes List of every object Portico is responsible for, in input order, with its status."""
    items: list[dict[str, Any]] = []
    for manifest in manifests:
        obj = manifest.obj
        kind = obj.get("kind")
        if kind not in KINDS or not str(obj.get("apiVersion", "")).startswith(GATEWAY_GROUP + "/"):
            continue
        meta = dict(obj.get("metadata") or {})
        namespace = "" if kind == "GatewayClass" else (meta.get("namespace") or "default")
        status = result.statuses.get((str(kind), namespace, str(meta.get("name", ""))))
        if status is None:
            continue
        if kind != "GatewayClass":
            meta["namespace"] = namespace
        items.append({**obj, "metadata": meta, "status": status})
    return {"apiVersion": "v1", "kind": "List", "items": items}
