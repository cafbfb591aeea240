"""Helpers shared by the offline sub-commands: read manifests, pick capabilities, print documents."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from portico.api import Snapshot, build_snapshot
from portico.cli.inputs import check_manifests, ignored_notes
from portico.cli.progress import progress
from portico.cli.yamlout import dump_document
from portico.manifests import Manifest, ManifestError, load_manifests
from portico.provider import Capabilities, ProviderUnavailable, load_capabilities, provider_name_for
from portico.translate import TranslateResult, translate


def add_paths_argument(parser: argparse.ArgumentParser, note: str = "") -> None:
    parser.add_argument(
        "-f",
        "--filename",
        dest="paths",
        action="append",
        required=True,
        metavar="PATH",
        help="a YAML/JSON file or a directory (recursive); repeatable" + (f"; {note}" if note else ""),
    )


def add_input_arguments(parser: argparse.ArgumentParser, formats: Sequence[str] = ("yaml", "json")) -> None:
    add_paths_argument(parser)
    parser.add_argument("-o", "--output", choices=list(formats), default=formats[0], help="output format")


def read_inputs(paths: Sequence[str]) -> list[Manifest] | None:
    """The manifests, or None after printing `file:line: message` to stderr."""
    try:
        with progress("reading manifests"):
            manifests = load_manifests(paths)
        check_manifests(manifests)
    except ManifestError as error:
        print(str(error), file=sys.stderr)
        return None
    if not manifests:
        print(f"no Kubernetes objects in {', '.join(paths)}", file=sys.stderr)
    return manifests


def provider_capabilities(snapshot: Snapshot) -> tuple[dict[str, Capabilities], dict[str, str]]:
    """Capabilities of the providers the GatewayClasses name; the ones that cannot load, with why."""
    found: dict[str, Capabilities] = {}
    unavailable: dict[str, str] = {}
    for gc in snapshot.gateway_classes.values():
        controller = gc.spec.controller_name
        name = provider_name_for(controller)
        if name is None or controller in found or controller in unavailable:
            continue
        try:
            found[controller] = load_capabilities(name)
        except ProviderUnavailable as error:
            unavailable[controller] = str(error)
    return found, unavailable


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def translate_files(manifests: Sequence[Manifest]) -> tuple[Snapshot, TranslateResult]:
    snapshot = build_snapshot([m.obj for m in manifests])
    capabilities, unavailable = provider_capabilities(snapshot)
    return snapshot, translate(snapshot, capabilities, now=now_rfc3339(), unavailable=unavailable)


def load_and_translate(paths: Sequence[str]) -> tuple[list[Manifest], TranslateResult] | None:
    """Manifests and their translation, or None after reporting unreadable input."""
    manifests = read_inputs(paths)
    if manifests is None:
        return None
    with progress("translating"):
        snapshot, result = translate_files(manifests)
    for note in ignored_notes(manifests, snapshot, result.statuses):
        print(note, file=sys.stderr)
    return manifests, result


def emit(document: Mapping[str, Any], output: str) -> None:
    if output == "json":
        json.dump(document, sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        dump_document(document, sys.stdout)
