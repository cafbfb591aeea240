"""`portico status`: the status Portico would write, as a Kubernetes List."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from portico.api.base import GATEWAY_GROUP
from portico.cli.common import add_input_arguments, emit, load_and_translate
from portico.manifests import Manifest
from portico.translate import TranslateResult

KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    loaded = load_and_translate(args.paths)
    if loaded is None:
        return 2
    emit(status_list(*loaded), args.output)
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
