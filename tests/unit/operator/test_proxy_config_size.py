"""The proxy's ConfigMap: readable JSON while small, gzip in binaryData when large, Undeliverable above
1 MiB compressed; the plan moves the IR between data and binaryData with one patch, and the proxy reads both."""

from __future__ import annotations

import base64
import gzip
import random
import string
from pathlib import Path

import pytest

from portico.ir import GatewayIR
from portico.provider import Undeliverable
from portico_providers.proxy import objects as o
from portico_providers.proxy.plan import KubeObject, Observed, object_id, patch_body, plan
from portico_proxy.cli_proxy import load_config
from tests.unit.operator.test_proxy_plan import GW, ir


def with_annotation(size: int, seed: int = 1) -> GatewayIR:
    """An IR grown by an incompressible annotation of `size` characters (random letters)."""
    rng = random.Random(seed)
    noise = "".join(rng.choice(string.ascii_letters) for _ in range(size))
    base = ir()
    return base.model_copy(
        update={"infrastructure": base.infrastructure.model_copy(update={"annotations": {"n": noise}})}
    )


def test_a_small_ir_stays_readable_json() -> None:
    config = o.config_map(ir())
    assert "binaryData" not in config and GatewayIR.from_json(config["data"][o.CONFIG_KEY]) == ir().redacted()


def test_a_large_ir_is_compressed_and_the_proxy_reads_it(tmp_path: Path) -> None:
    large = ir().model_copy(update={"uid": "u" * (o.INLINE_LIMIT + 1)})  # repetitive: compresses well
    config = o.config_map(large)
    assert "data" not in config
    packed = base64.b64decode(config["binaryData"][o.CONFIG_KEY])
    assert len(packed) < o.INLINE_LIMIT // 10
    assert o.config_map(large) == config  # the same IR gives the same bytes: no spurious patches
    mounted = tmp_path / "ir.json"
    mounted.write_bytes(packed)
    assert load_config(str(mounted)) == [large.redacted()]
    mounted.write_bytes(gzip.decompress(packed))
    assert load_config(str(mounted)) == [large.redacted()]


def test_an_ir_too_large_even_compressed_is_undeliverable_with_its_sizes() -> None:
    with pytest.raises(Undeliverable, match=r"MiB compressed; a ConfigMap holds at most 1 MiB"):
        o.config_map(with_annotation(1_500_000))


def test_growing_past_the_inline_limit_moves_the_ir_to_binary_data_in_one_patch() -> None:
    small = {object_id(obj): obj for obj in o.desired_objects(ir())}
    large = ir().model_copy(update={"uid": "u" * (o.INLINE_LIMIT + 1)})
    steps = [s for s in plan(large, Observed(small), GW, o.DEFAULT_IMAGE).steps if s.kind == "ConfigMap"]
    assert len(steps) == 1 and steps[0].action == "update" and steps[0].desired is not None
    spec = steps[0].desired.spec
    assert isinstance(spec, KubeObject)
    body = patch_body(spec.body)  # what the provider sends: data removed, binaryData set
    assert body["data"] is None and body["binaryData"]
    grown = {**small, ("ConfigMap", "portico-web"): o.config_map(large)}
    assert not [s for s in plan(large, Observed(grown), GW, o.DEFAULT_IMAGE).steps if s.kind == "ConfigMap"]
