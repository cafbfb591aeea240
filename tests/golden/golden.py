"""Golden files: compare output with `*.out.yaml`, or rewrite it with `pytest --update-golden`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, width=110)


def check_golden(out_path: Path, document: Any, update: bool) -> None:
    text = dump(document)
    if update or not out_path.exists():
        if not update:
            raise AssertionError(f"{out_path} is missing; run pytest --update-golden and review the diff")
        out_path.write_text(text)
        return
    expected = out_path.read_text()
    assert text == expected, f"{out_path} differs; if intended, run pytest --update-golden and review the diff"
