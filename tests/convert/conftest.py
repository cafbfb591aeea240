from __future__ import annotations

from typing import Any

import pytest

from portico.devcluster import ClusterEmulator
from tests.proxy.conftest import echo  # noqa: F401  (the proxy tests' echo-backend fixture, shared)


@pytest.fixture
def kmock_options(kmock_options: dict[str, Any]) -> dict[str, Any]:
    return {**kmock_options, "cls": ClusterEmulator}
