"""gcp-permissions.txt lists exactly the IAM permissions Compute checks on the provider's calls.

The scenarios (the end-to-end lifecycle and the regional internal load balancer) run again here
against fresh fakes that record the permission of every call made with Portico's User-Agent;
`pytest --update-golden` rewrites the file from the recording. terraform/gcp grants this list.
"""

from __future__ import annotations

from pathlib import Path

from tests.providers.gcp import test_gcp_alb_e2e as e2e
from tests.providers.gcp import test_gcp_alb_ownership as ownership
from tests.providers.gcp.conftest import PROJECT, Compute
from tests.providers.gcp.fake_server import serve
from tests.providers.gcp.fake_state import ComputeState

FILE = Path(__file__).resolve().parents[3] / "providers" / "portico_providers" / "gcp_alb" / "gcp-permissions.txt"
HEADER = "# Compute IAM permissions the provider uses, one per line (tests/providers/gcp/test_gcp_permissions.py).\n"


def _seeded() -> ComputeState:
    state = ComputeState(PROJECT)
    state.put(("global", "networks", "default"), {})
    state.put(("global", "networks", "prod"), {})
    network = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/prod"
    state.put(("regions/europe-west1", "subnetworks", "prod-europe-west1"), {"network": network})
    return state


def test_permissions_file_equals_the_recorded_calls(update_golden: bool) -> None:
    recorded: set[str] = set()
    scenarios = (
        e2e.test_create_change_rotate_delete,
        e2e.test_backend_and_health_check_changes_update_in_place,
        e2e.test_instance_groups_and_node_ports_for_clusters_without_routable_pods,
        ownership.test_regional_internal_needs_a_proxy_only_subnet,
    )
    for scenario in scenarios:
        state = _seeded()
        with serve(state) as endpoint:
            scenario(Compute(state, endpoint))
        recorded |= state.permissions
    assert {"compute.urlMaps.update", "compute.regionUrlMaps.create", "compute.globalOperations.get"} <= recorded
    text = HEADER + "".join(f"{p}\n" for p in sorted(recorded))
    if update_golden:
        FILE.write_text(text)
    assert FILE.read_text() == text, "gcp-permissions.txt is stale: run pytest --update-golden and review the diff"
