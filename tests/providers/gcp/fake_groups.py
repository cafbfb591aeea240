"""Unmanaged instance groups in the fake: members added and removed through operations."""

from __future__ import annotations

from typing import Any

from tests.providers.gcp.fake_state import ComputeError, ComputeState, Key


def change_instances(state: ComputeState, key: Key, verb: str, instances: list[dict[str, Any]]) -> dict[str, Any]:
    """addInstances / removeInstances: every instance must exist, be absent (add) or present (remove)."""
    state.get(key)
    current = state.members.setdefault(key, [])
    adding = verb == "addInstances"
    wanted = []
    for item in instances:
        member = state.key_of(str(item.get("instance", "")))
        if member is None or member[1] != "instances":
            raise ComputeError(400, "invalid", f"Invalid value for field 'instances': {item}")
        if member not in state.resources:
            raise ComputeError(404, "notFound", f"The resource '{item['instance']}' was not found")
        if adding == (member in current):
            state_text = "already a member of" if adding else "not a member of"
            raise ComputeError(
                400, "memberAlreadyExists" if adding else "invalid", f"{member[2]} is {state_text} {key[2]}"
            )
        wanted.append(member)
    state.grant("compute.instances.use")

    def effect() -> None:
        members = state.members.setdefault(key, [])
        for member in wanted:
            if adding and member not in members:
                members.append(member)
            elif not adding and member in members:
                members.remove(member)
        if key in state.resources:
            state.resources[key]["size"] = len(members)

    return state.operation(key[0], verb, key, effect)


def list_instances(state: ComputeState, key: Key) -> dict[str, Any]:
    state.get(key)
    items = [{"instance": state.link(m), "status": "RUNNING"} for m in state.members.get(key, [])]
    return {"kind": "compute#instanceGroupsListInstances", "items": items}
