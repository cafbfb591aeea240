"""`portico status`: the status Portico would write, as a Kubernetes List."""

from __future__ import annotations

import argparse
from typing import Any

from portico.api.base import GATEWAY_GROUP
from portico.cli.common import add_input_arguments, emit, read_inputs, translate_files

KINDS = ("GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    manifests = read_inputs(args.paths)
    if manifests is None:
        return 2
    _, result = translate_files(manifests)
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
    emit({"apiVersion": "v1", "kind": "List", "items": items}, args.output)
    return 0
