"""An ARM fake per test, served over HTTPS on 127.0.0.1 and reached through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.azure.arm_server import ArmFake, serve

GROUP = "rg-portico"


@pytest.fixture
def arm(tmp_path: Path) -> Iterator[ArmFake]:
    with serve(tmp_path) as fake:
        fake.state.add_subnet(GROUP, "vnet-aks", "appgw")
        yield fake
