"""`portico serve`: a standalone Gateway API proxy fed with manifest files (no Kubernetes needed)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from portico.api import build_snapshot
from portico.cli.common import add_paths_argument
from portico.cli.inputs import check_manifests, ignored_notes
from portico.cli.table import false_conditions
from portico.ir import GatewayIR
from portico.manifests import load_manifests
from portico.translate import translate
from portico_proxy.capabilities import PROXY_CAPABILITIES
from portico_proxy.merge import merge_on_one_address
from portico_proxy.process import add_common_arguments, run_proxy

CONTROLLER = "portico.dev/proxy"
log = logging.getLogger("portico.proxy")


class ReloadRefused(ValueError):
    """An edit that would stop every listener that serves, while its Gateways are still in the input."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_paths_argument(parser, "reloaded on change")
    add_common_arguments(parser)


def _status_items(statuses: dict[tuple[str, str, str], dict[str, object]]) -> list[dict[str, object]]:
    return [
        {"kind": kind, "metadata": {"namespace": namespace, "name": name}, "status": status}
        for (kind, namespace, name), status in statuses.items()
    ]


def gateways_from_manifests(paths: Sequence[str]) -> list[GatewayIR]:
    """Every Gateway whose class names Portico's proxy controller, translated to IR; logs at WARNING
    why each Gateway, listener and route that will not be served is not."""
    manifests = load_manifests(paths)
    check_manifests(manifests)
    snapshot = build_snapshot([m.obj for m in manifests])
    result = translate(snapshot, {CONTROLLER: PROXY_CAPABILITIES})  # RE2 refusals reach route status
    for note in ignored_notes(manifests, snapshot, result.statuses):
        log.warning("%s", note)
    for problem in false_conditions(_status_items(result.statuses)):
        log.warning("%s", problem)
    served = [ir for _, ir in sorted(result.ir_by_gateway.items()) if ir.controller_name == CONTROLLER]
    merged, conflicts = merge_on_one_address(served)
    for conflict in conflicts:
        log.warning("%s", conflict)
    return merged


class ManifestSource:
    """The loader `portico serve` reloads: refuses an edit that would stop every serving listener
    while their Gateways are still in the input (deleting the Gateways on purpose still applies)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.serving: set[str] = set()

    def __call__(self) -> list[GatewayIR]:
        gateways = gateways_from_manifests(self.paths)
        now_serving = {str(g.gateway) for g in gateways if g.listeners}
        if self.serving and not now_serving:
            still_there = sorted(self.serving & self._gateways_in_input())
            if still_there:
                raise ReloadRefused(
                    f"the edit would stop every listener, but Gateway {', '.join(still_there)} is still in the "
                    "input (the warnings above say why it is not served); delete a Gateway to stop serving it"
                )
        self.serving = now_serving
        return gateways

    def _gateways_in_input(self) -> set[str]:
        found = set()
        for manifest in load_manifests(self.paths):
            obj = manifest.obj
            if obj.get("kind") == "Gateway":
                meta = obj["metadata"]
                found.add(f"{meta.get('namespace') or 'default'}/{meta['name']}")
        return found


def run(args: argparse.Namespace) -> int:
    paths = list(args.paths)
    return run_proxy(args, paths, ManifestSource(paths), strict_start=True)
