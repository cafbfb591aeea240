"""`convert()` on every tests/convert/corpus/<case>.in.yaml against its .out.yaml: the objects, and the
report including what Portico's proxy (the default target) would reject."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portico.convert import Options, convert, report_document
from portico.convert.target import target_findings
from portico.manifests import load_manifests
from portico.provider import load_capabilities
from tests.golden.golden import check_golden

PROXY = load_capabilities("proxy")  # what `portico convert` targets by default
CASES = sorted((Path(__file__).parent / "corpus").glob("*.in.yaml"))


def render_case(path: Path) -> dict[str, Any]:
    objects = [m.obj for m in load_manifests([path])]
    options = Options(features=PROXY.features, listener_protocols=PROXY.listener_protocols)
    result = convert(objects, options)
    findings = result.findings + target_findings(result.objects, objects, options.controller, PROXY, "proxy")
    return {"objects": result.objects, "report": report_document(findings)}


@pytest.mark.parametrize("case", CASES, ids=[p.name.removesuffix(".in.yaml") for p in CASES])
def test_golden(case: Path, update_golden: bool) -> None:
    out = case.with_name(case.name.replace(".in.yaml", ".out.yaml"))
    check_golden(out, render_case(case), update_golden)


def test_output_is_deterministic() -> None:
    for case in CASES:
        assert render_case(case) == render_case(case)
