"""docs/migrate-from-ingress-nginx.md stays true: a table row for every annotation the converter knows,
and the walk-through's report excerpt is what `portico convert` prints for the walk-through's input."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from portico.convert import convert, report_text
from portico.convert.annotations import CONVERTED, NOT_CONVERTED

DOC = Path(__file__).parents[2] / "docs" / "migrate-from-ingress-nginx.md"


def _block(text: str, language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", text, re.DOTALL)
    assert match is not None, f"no {language} block"
    return match.group(1)


def test_every_annotation_has_a_table_row() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([a-z0-9-]+)`", row.split("|")[1])}
    assert sorted((CONVERTED | set(NOT_CONVERTED)) - documented) == []


def test_walkthrough_report_excerpt_is_what_convert_prints() -> None:
    text = DOC.read_text()
    result = convert(list(yaml.safe_load_all(_block(text, "yaml"))))
    report = report_text(result.findings).splitlines()
    for line in _block(text, "text").splitlines():
        assert line in report, f"the walk-through shows a line convert does not print: {line}"


def test_rows_of_annotations_that_do_not_convert_say_what_the_report_says() -> None:
    lines = set(DOC.read_text().splitlines())
    stale = [name for name, advice in NOT_CONVERTED.items() if f"| `{name}` | not converted: {advice} |" not in lines]
    assert stale == []
