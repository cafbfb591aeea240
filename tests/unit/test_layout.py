"""The source roots are not packages: `operator` must stay the standard library's module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_operator_is_stdlib_from_repo_root() -> None:
    code = "import operator, sys; print(operator.__file__ or 'builtin'); print(operator.itemgetter(1)([0, 7]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    origin, value = out.stdout.split()
    assert value == "7"
    assert not origin.startswith(str(ROOT / "operator"))


def test_source_roots_have_no_init() -> None:
    assert not (ROOT / "operator" / "__init__.py").exists()
    assert not (ROOT / "providers" / "__init__.py").exists()
