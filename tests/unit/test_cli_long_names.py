"""Names at the Kubernetes limit (253 characters) give AWS resource ids within AWS's limit for tag values
(256), still distinct, and the same on every plan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portico.ir import Certificate, ObjectKey
from portico_providers.aws_common.acm import certificate_id
from portico_providers.aws_common.tags import TAG_VALUE_MAX, Owner, bounded_id
from tests.unit.cli_process import ROOT, portico

LONG = "s" * 253


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("provider", ["aws-alb", "aws-lattice"])
def test_plan_ids_stay_within_aws_limits_for_253_character_names(tmp_path: Path, provider: str) -> None:
    for manifest in (ROOT / "examples" / "aws").glob("*.yaml"):
        shutil.copy(manifest, tmp_path)
    routes = tmp_path / "routes.yaml"
    routes.write_text(
        routes.read_text()
        .replace("name: store\n", f"name: {LONG}\n")
        .replace("name: api-internal\n", f"name: {LONG[:-1]}x\n")
    )
    first = portico("plan", "--provider", provider, "-f", str(tmp_path), "-o", "json")
    assert first.returncode == 0, first.stderr
    plans = json.loads(first.stdout)["gateways"]
    steps = [step for gateway in plans for step in gateway["plan"]["steps"]]
    ids = [step["id"] for step in steps]
    assert any(LONG in step_id or "~" in step_id for step_id in ids)  # the long route is planned
    assert max(len(step_id) for step_id in ids) <= TAG_VALUE_MAX
    assert len(ids) == len(set(ids))
    assert all(len(s) <= TAG_VALUE_MAX for step in steps for s in _strings(step.get("spec", {}).get("tags", {})))
    again = portico("plan", "--provider", provider, "-f", str(tmp_path), "-o", "json")
    assert [s["id"] for g in json.loads(again.stdout)["gateways"] for s in g["plan"]["steps"]] == ids


def test_bounded_ids_are_short_distinct_and_stable() -> None:
    a, b = "rule:443:" + "a" * 300, "rule:443:" + "a" * 299 + "b"
    assert len(bounded_id(a)) == TAG_VALUE_MAX and bounded_id(a) == bounded_id(a)
    assert bounded_id(a) != bounded_id(b)
    assert bounded_id("short") == "short"


def test_gateway_tag_and_certificate_ids_of_longest_names_stay_within_aws_limits() -> None:
    """namespace (63) / name (253) is 317 characters: the Gateway tag value and the ACM certificate id
    (also a tag value) are bounded, and the owner still claims exactly what it marked."""
    namespace = "n" * 63
    owner = Owner(cluster_id="c1", gateway=ObjectKey(namespace=namespace, name=LONG))
    other = Owner(cluster_id="c1", gateway=ObjectKey(namespace=namespace, name=LONG[:-1] + "x"))
    marks = owner.mark("rule:443:" + LONG)
    assert all(len(value) <= TAG_VALUE_MAX for value in marks.tags.values())
    assert owner.claim(marks) == marks.tags["portico.dev/resource"]
    assert other.claim(marks) is None  # same start, different Gateway: not ours
    assert owner.tags("x", {"portico.dev/gateway": "forged"})["portico.dev/gateway"] != "forged"
    cert = Certificate(secret=ObjectKey(namespace=namespace, name=LONG), cert_pem="pem")
    twin = Certificate(secret=ObjectKey(namespace=namespace, name=LONG[:-1] + "x"), cert_pem="pem")
    assert len(certificate_id(cert)) <= TAG_VALUE_MAX
    assert certificate_id(cert) != certificate_id(twin)
    assert certificate_id(cert) == certificate_id(cert)


def _names(value: Any) -> Iterator[str]:
    """Every `name` field of a plan (Azure child resources, Compute resources)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "name" and isinstance(item, str):
                yield item
            else:
                yield from _names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


@pytest.mark.parametrize(("provider", "example", "limit"), [("azure-appgw", "azure", 80), ("gcp-alb", "gcp", 63)])
def test_plan_names_stay_within_the_clouds_limit_for_253_character_names(
    tmp_path: Path, provider: str, example: str, limit: int
) -> None:
    """Azure resource names are 1-80 characters, Compute names 1-63: a 253-character Gateway and route
    name still give names within them."""
    for manifest in (ROOT / "examples" / example).glob("*.yaml"):
        text = manifest.read_text()
        for short in ("store", "web") if manifest.name in ("gateway.yaml", "routes.yaml") else ():
            text = text.replace(f"  name: {short}\n", f"  name: {LONG}\n").replace(
                f"- name: {short}\n", f"- name: {LONG}\n"
            )
        (tmp_path / manifest.name).write_text(text)
    done = portico("plan", "--provider", provider, "-f", str(tmp_path), "-o", "json")
    assert done.returncode == 0, done.stderr
    names = list(_names(json.loads(done.stdout)))
    assert names and max(len(name) for name in names) <= limit, max(names, key=len)
