"""The Dockerfile: multi-stage, pinned base, non-root as the chart expects, and the chart's default image."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.install.chart import CHART, ROOT, only, render

DOCKERFILE = (ROOT / "Dockerfile").read_text()
# An exact release tag (3.11.N-...) or a digest; never a floating tag.
PINNED = re.compile(r"^python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?$|^python@sha256:[0-9a-f]{64}$")


def _instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def test_multi_stage_on_a_pinned_python_311_base() -> None:
    bases = [line.split()[0] for line in _instructions("FROM")]
    assert len(bases) >= 2
    for base in bases:
        assert PINNED.match(base), f"base image {base} is not pinned to an exact release"
    assert len(set(bases)) == 1, "build and runtime stages should use the same base"


def test_runs_as_the_non_root_user_the_chart_expects() -> None:
    (user,) = _instructions("USER")
    uid, gid = user.split(":")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert int(uid) == values["podSecurityContext"]["runAsUser"] != 0
    assert int(gid) == values["podSecurityContext"]["runAsGroup"]
    assert _instructions("ENTRYPOINT") == ['["portico"]']


def test_chart_default_image_is_this_image_at_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == version
    image = only(render(), "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"portico/portico:{version}"
    assert f"docker build -t {image} ." in DOCKERFILE
    assert f"docker build -t {image} ." in (ROOT / "docs" / "quickstart-onprem.md").read_text()
