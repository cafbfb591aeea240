"""Large Gateways with `portico run` as a process: compressed delivery, a clear Programmed=False when a
configuration cannot be delivered, and a small Gateway programmed while a huge one reconciles."""

from __future__ import annotations

import base64
import gzip
import random
import string
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from portico_proxy.cli_proxy import load_config
from tests.e2e.conftest import Cluster
from tests.e2e.process import OperatorProcess
from tests.e2e.test_operator_e2e import condition, programmed

Start = Callable[..., Awaitable[OperatorProcess]]
RANDOM_ROUTES = 12


def big_gateway(name: str, listeners: int) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "gatewayClassName": "portico",
            "listeners": [
                {
                    "name": f"http-{i}",
                    "port": 8000 + i,
                    "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
                for i in range(listeners)
            ],
        },
    }


def route(name: str, gateway: str, paths: list[str]) -> dict[str, Any]:
    """One rule per 32 paths (the spec allows 128 matches per route)."""
    rules = [
        {
            "matches": [{"path": {"type": "PathPrefix", "value": p}} for p in paths[i : i + 32]],
            "backendRefs": [{"name": "app", "port": 8080}],
        }
        for i in range(0, len(paths), 32)
    ]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"parentRefs": [{"name": gateway, "namespace": "default"}], "rules": rules},
    }


def random_paths(rng: random.Random, count: int, length: int) -> list[str]:
    alphabet = string.ascii_letters + string.digits
    return ["/" + "".join(rng.choice(alphabet) for _ in range(length)) for _ in range(count)]


async def test_a_large_configuration_is_compressed_and_one_too_large_is_invalid(
    cluster: Cluster, operator_processes: Start, tmp_path: Path
) -> None:
    await operator_processes("--standalone")
    await cluster.apply("base.yaml")
    await cluster.create(big_gateway("big", 8))
    for index in range(6):  # 6 x 128 repetitive paths on 8 listeners: MiBs of JSON, compressible
        await cluster.create(route(f"many-{index}", "big", [f"/service-{index}/api/v{n}" for n in range(128)]))

    async def compressed() -> dict[str, Any] | None:
        config = await cluster.get("ConfigMap", "default", "portico-big")
        return config if config and "binaryData" in config and "/service-5/api/v127" in _ir(config) else None

    config = await cluster.wait_for("the IR compressed in binaryData", compressed, timeout=60)
    assert "data" not in config or not config["data"]
    mounted = tmp_path / "ir.json"
    mounted.write_bytes(base64.b64decode(config["binaryData"]["ir.json"]))  # as the kubelet mounts it
    (loaded,) = load_config(str(mounted))
    assert loaded.gateway.name == "big" and len(loaded.listeners) == 8
    await cluster.wait_for("Gateway big Programmed", lambda: programmed(cluster, "big"))

    # Random 1000-character paths do not compress: 12 routes of them make 1.1 MiB gzip-compressed (the
    # document holds each rule once however many listeners share it, so the 8 listeners do not count).
    rng = random.Random(18)
    for index in range(RANDOM_ROUTES):
        await cluster.create(route(f"random-{index}", "big", random_paths(rng, 128, 1000)))

    async def invalid() -> dict[str, Any] | None:
        # While the routes arrive one by one, an intermediate configuration still fits and the Gateway may
        # pass through Pending while the proxy takes it; the state to reach is Invalid.
        cond = condition(await cluster.get("Gateway", "default", "big"), "Programmed")
        return cond if cond and cond["status"] == "False" and cond["reason"] == "Invalid" else None

    cond = await cluster.wait_for("Programmed=False/Invalid for a configuration too large", invalid, timeout=60)
    assert "MiB compressed" in cond["message"] and "at most 1 MiB" in cond["message"]
    assert "/service-5/api/v127" in _ir(await cluster.get("ConfigMap", "default", "portico-big"))

    for index in range(RANDOM_ROUTES):
        await cluster.delete("HTTPRoute", "shop", f"random-{index}")
    await cluster.wait_for("Gateway big Programmed again", lambda: programmed(cluster, "big"), timeout=60)


def _ir(config: dict[str, Any] | None) -> str:
    config = config or {}
    if (config.get("data") or {}).get("ir.json"):
        return str(config["data"]["ir.json"])
    packed = (config.get("binaryData") or {}).get("ir.json")
    return gzip.decompress(base64.b64decode(packed)).decode() if packed else ""


async def test_a_small_gateway_is_programmed_while_a_huge_one_translates(
    cluster: Cluster, operator_processes: Start
) -> None:
    operator = await operator_processes("--standalone")
    await cluster.apply("base.yaml")
    await cluster.create(big_gateway("huge", 64))
    for index in range(4):  # 4 x 128 paths attached to 64 listeners: 32,768 IR matches
        await cluster.create(route(f"wide-{index}", "huge", [f"/wide-{index}/v{n}" for n in range(128)]))
    await cluster.wait_for("Gateway huge Programmed", lambda: programmed(cluster, "huge"), timeout=120)

    # A fifth route for the huge Gateway (a translation of 40,960 matches: seconds of CPU) and a new
    # small Gateway, at the same moment. The huge one's translation ends with its routes' statuses.
    log = cluster.emulator.write_log
    since = len(log)
    await cluster.create(route("wide-4", "huge", [f"/wide-4/v{n}" for n in range(128)]))
    await cluster.create(big_gateway("small", 1))
    await cluster.create(route("small", "small", ["/small"]))

    def written(plural: str, name: str, subresource: str | None = None) -> int | None:
        """Position of the first write to the object in the emulator's log since the change."""
        return next(
            (
                i
                for i, w in enumerate(log[since:], since)
                if w.plural == plural and w.name == name and w.subresource == subresource
            ),
            None,
        )

    async def huge_translated() -> bool:
        return written("httproutes", "wide-4", "status") is not None

    await cluster.wait_for("Gateway small Programmed", lambda: programmed(cluster, "small"), timeout=60)
    await cluster.wait_for("the huge Gateway's fifth route translated", huge_translated, timeout=120)
    small_status, huge_translation = written("gateways", "small", "status"), written("httproutes", "wide-4", "status")
    assert small_status is not None and huge_translation is not None
    assert small_status < huge_translation, operator.output()[-2000:]
