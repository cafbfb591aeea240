"""`portico convert --from-cluster` against the emulated API server over HTTP, as a real process with
a kubeconfig: it converts what the cluster holds and only ever lists."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from portico.devcluster import ClusterEmulator, declare_resources
from portico.manifests import load_manifests

CORPUS = Path(__file__).parent / "corpus"
TEST_TOKEN = "convert-test-writer"
CONVERT_TOKEN = "convert-reader"
INGRESS_API = ("networking.k8s.io", "v1")


def _url(base: str, obj: dict[str, Any]) -> str:
    version = obj["apiVersion"]
    plural = {"Ingress": "ingresses", "IngressClass": "ingressclasses"}.get(obj["kind"], obj["kind"].lower() + "s")
    prefix = f"{base}/api/{version}" if "/" not in version else f"{base}/apis/{version}"
    namespace = obj["metadata"].get("namespace")
    scoped = obj["kind"] != "IngressClass"
    return f"{prefix}/namespaces/{namespace or 'default'}/{plural}" if scoped else f"{prefix}/{plural}"


async def test_from_cluster_reads_with_list_calls_only(kmock: ClusterEmulator, tmp_path: Path) -> None:
    declare_resources(kmock)
    kmock.declare(*INGRESS_API, "ingresses", "Ingress", True)
    kmock.declare(*INGRESS_API, "ingressclasses", "IngressClass", False)
    base = str(kmock.url).rstrip("/")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TEST_TOKEN}"}) as client:
        for manifest in load_manifests([CORPUS / "canary.in.yaml"]):
            obj = {k: v for k, v in manifest.obj.items() if k != "status"}
            response = await client.post(_url(base, obj), json=obj)
            assert response.status_code in (200, 201), response.text
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "emulated", "cluster": {"server": base}}],
                "users": [{"name": "reader", "user": {"token": CONVERT_TOKEN}}],
                "contexts": [{"name": "emulated", "context": {"cluster": "emulated", "user": "reader"}}],
                "current-context": "emulated",
            }
        )
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from portico.cli import main; sys.exit(main())",
        "convert",
        "--from-cluster",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    routes = [d for d in yaml.safe_load_all(out) if d["kind"] == "HTTPRoute"]
    assert [r["metadata"]["name"] for r in routes] == ["production-echo-example-com"]
    assert "canary-by-header: converted" in err.decode()
    verbs = {(verb, resource) for verb, _, resource, auth in kmock.access_log if auth == f"Bearer {CONVERT_TOKEN}"}
    assert verbs == {
        ("list", "ingresses"),
        ("list", "ingressclasses"),
        ("list", "services"),
        ("list", "configmaps"),
        ("list", "secrets"),
    }


async def test_from_cluster_without_credentials_exits_2(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from portico.cli import main; sys.exit(main())",
        "convert",
        "--from-cluster",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"KUBECONFIG": str(tmp_path / "missing"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert (process.returncode, out) == (2, b"")
    assert err.decode().startswith("portico convert: --from-cluster: no kubeconfig or in-cluster credentials")
