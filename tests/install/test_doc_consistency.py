"""Doc facts that drifted apart once: escaped backticks in Markdown, and where irsa-values.json lands."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IRSA_GUIDES = [ROOT / "docs" / "quickstart-aws.md", ROOT / "examples" / "aws-irsa" / "README.md"]


def test_no_escaped_backticks_in_markdown() -> None:
    pages = [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.md"), *ROOT.glob("examples/**/*.md")]
    escaped = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in pages
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "\\`" in line
    ]
    assert escaped == []


def test_both_irsa_guides_write_and_read_irsa_values_in_the_same_place() -> None:
    targets = set()
    for guide in IRSA_GUIDES:
        text = guide.read_text()
        written = re.search(r"terraform output -json helm_values > (\S+)\ncd (\S+)\n", text)
        assert written, f"{guide.name}: no `terraform output ... > FILE` followed by `cd`"
        # Written from examples/aws-irsa, then the guide changes back to the directory helm runs in.
        target = (ROOT / "examples" / "aws-irsa" / written.group(1)).resolve()
        helm_dir = (ROOT / "examples" / "aws-irsa" / written.group(2)).resolve()
        assert "-f irsa-values.json" in text and target == helm_dir / "irsa-values.json", guide.name
        targets.add(target)
    assert targets == {ROOT / "irsa-values.json"}
