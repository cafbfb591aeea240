"""azure-actions.txt lists exactly the ARM operations (RBAC actions) the provider's scenarios call.

The scenarios are the end-to-end tests, run again here against fresh fakes while the fake
records every operation, including the linked-access checks ARM makes on a write (joining a
subnet or a public IP, assigning an identity, attaching a WAF policy). terraform/azure's custom
role is exactly this list; `pytest --update-golden` rewrites the file from the recording.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from unittest import mock

from tests.providers.azure import test_azure_e2e
from tests.providers.azure.arm_server import serve
from tests.providers.azure.conftest import GROUP

ROOT = Path(__file__).resolve().parents[3]
ACTIONS = ROOT / "providers" / "portico_providers" / "azure_appgw" / "azure-actions.txt"
HEADER = "# ARM actions the provider calls, one per line (checked by tests/providers/azure/test_azure_actions.py).\n"


def listed() -> list[str]:
    return [line.strip() for line in ACTIONS.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_actions_file_equals_the_recorded_calls(tmp_path: Path, update_golden: bool) -> None:
    scenarios = [
        f for name, f in sorted(vars(test_azure_e2e).items()) if name.startswith("test_") and inspect.isfunction(f)
    ]
    assert len(scenarios) >= 4
    recorded: set[str] = set()
    with mock.patch("portico_providers.azure_appgw.arm.sleep"):
        for index, scenario in enumerate(scenarios):
            folder = tmp_path / str(index)
            folder.mkdir()
            with serve(folder) as arm:
                arm.state.add_subnet(GROUP, "vnet-aks", "appgw")
                scenario(arm)
                recorded |= set(arm.state.actions)
    assert "Microsoft.Network/applicationGateways/delete" in recorded
    if update_golden:
        ACTIONS.write_text(HEADER + "".join(f"{action}\n" for action in sorted(recorded)))
    assert set(listed()) == recorded, f"missing: {sorted(recorded - set(listed()))}"
