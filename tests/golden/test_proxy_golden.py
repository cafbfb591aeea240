"""The proxy provider's objects and offline plan for tests/golden/proxy/<case>.in.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portico.api import build_snapshot
from portico.manifests import load_manifests
from portico.translate import translate
from portico_providers.proxy.objects import desired_objects
from portico_providers.proxy.provider import ProxyProvider
from tests.golden.golden import check_golden

CONTROLLER = "portico.dev/proxy"
CASES = sorted((Path(__file__).parent / "proxy").glob("*.in.yaml"))


def _readable(obj: dict[str, Any]) -> dict[str, Any]:
    """The IR in a ConfigMap is one JSON line: show what matters of it instead."""
    if obj["kind"] == "ConfigMap":
        ir = json.loads(obj["data"]["ir.json"])
        keys = [c["key_pem"] for listener in ir["listeners"] for c in listener["certificates"]]
        if ir.get("client_certificate"):
            keys.append(ir["client_certificate"]["key_pem"])
        summary = {"listeners": [f"{lsn['name']}:{lsn['port']}" for lsn in ir["listeners"]], "private_keys": keys}
        return {**obj, "data": {"ir.json": summary}}
    if obj["kind"] == "Secret":
        return {**obj, "data": {k: f"<{len(v)} base64 bytes>" for k, v in obj["data"].items()}}
    return obj


@pytest.mark.parametrize("case", CASES, ids=[p.name.removesuffix(".in.yaml") for p in CASES])
def test_golden(case: Path, update_golden: bool) -> None:
    manifests = load_manifests([case])
    capabilities = {CONTROLLER: ProxyProvider(None).capabilities()}
    result = translate(build_snapshot([m.obj for m in manifests]), capabilities, now="2026-01-01T00:00:00Z")
    documents = []
    for (namespace, name), ir in sorted(result.ir_by_gateway.items()):
        documents.append(
            {
                "gateway": f"{namespace}/{name}",
                "plan": ProxyProvider(None).plan(ir, None).to_document(),
                "objects": [_readable(obj) for obj in desired_objects(ir)],
            }
        )
    check_golden(case.with_name(case.name.replace(".in.yaml", ".out.yaml")), documents, update_golden)


@pytest.mark.parametrize("case", CASES, ids=[p.name.removesuffix(".in.yaml") for p in CASES])
def test_objects_are_valid_kubernetes_and_run_non_root(case: Path) -> None:
    import kubernetes_validate

    capabilities = {CONTROLLER: ProxyProvider(None).capabilities()}
    result = translate(build_snapshot([m.obj for m in load_manifests([case])]), capabilities)
    for ir in result.ir_by_gateway.values():
        for obj in desired_objects(ir):
            kubernetes_validate.validate(obj, "1.30", strict=True)
            if obj["kind"] == "Deployment":
                pod = obj["spec"]["template"]["spec"]
                assert pod["securityContext"]["runAsNonRoot"] is True
                # Listener ports below 1024 bind without any added capability.
                assert {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"} in pod["securityContext"][
                    "sysctls"
                ]
                assert pod["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
