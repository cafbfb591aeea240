"""translate() on every tests/golden/translate/<feature>/<case>.in.yaml against its .out.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portico.api import build_snapshot
from portico.cli.status import status_list
from portico.manifests import load_manifests
from portico.provider import load_capabilities
from portico.translate import translate
from tests.golden.golden import check_golden

CASES = sorted((Path(__file__).parent / "translate").rglob("*.in.yaml"))
NOW = "2026-01-01T00:00:00Z"
# Cases in this folder are translated with the proxy provider's own capabilities (what the operator
# uses for portico.dev/proxy), the others with every feature claimed.
PROVIDER_CASES = {"proxy-provider": ("portico.dev/proxy", "proxy")}


def _short_pem(node: Any) -> Any:
    """Keep goldens readable: certificates and keys become their size."""
    if isinstance(node, dict):
        return {
            k: (f"<pem {len(v)} bytes>" if k in ("cert_pem", "key_pem") and v else _short_pem(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_short_pem(v) for v in node]
    return node


def render_case(path: Path) -> dict[str, Any]:
    manifests = load_manifests([path])
    capabilities = None
    if path.parent.name in PROVIDER_CASES:
        controller, provider = PROVIDER_CASES[path.parent.name]
        capabilities = {controller: load_capabilities(provider)}
    result = translate(build_snapshot([m.obj for m in manifests]), capabilities, now=NOW)
    ir = [_short_pem(i.model_dump(mode="json", exclude_defaults=True)) for _, i in sorted(result.ir_by_gateway.items())]
    statuses = [
        {
            "kind": item["kind"],
            "name": item["metadata"]["name"],
            "namespace": item["metadata"].get("namespace"),
            "status": item["status"],
        }
        for item in status_list(manifests, result)["items"]
    ]
    return {"statuses": statuses, "ir": ir}


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name.removesuffix('.in.yaml')}" for p in CASES])
def test_golden(case: Path, update_golden: bool) -> None:
    out = case.with_name(case.name.replace(".in.yaml", ".out.yaml"))
    check_golden(out, render_case(case), update_golden)
