"""The fake VPC Lattice's asynchronous states, as the API reference describes them.

Services, target groups and both kinds of service network association are created
`CREATE_IN_PROGRESS` and become `ACTIVE` (or `CREATE_FAILED`, when a test injects it) later; a
delete answers `DELETE_IN_PROGRESS` and the resource stays listed, and keeps refusing what it
refuses (a service network with associations, a service still associated), until it is gone.
"Later" is counted in API calls, so tests stay deterministic: `create_calls` (`delete_calls`)
calls after the request, the transition happens (0: at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.providers.aws.lattice_fake import conflict

CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
ACTIVE = "ACTIVE"
CREATE_FAILED = "CREATE_FAILED"
GONE = ""


@dataclass
class _Due:
    at: int
    table: dict[str, dict[str, Any]]
    ident: str
    final: str  # a status, or GONE


class AsyncStates:
    """Mixed into the fake: `_advance` runs on every request; creates and deletes go through
    `_born` and `_dying`."""

    # API calls after which a create or a delete finishes. Deletes last by default, as on Lattice
    # (every suite must wait for them); creates are immediate unless a test asks for more.
    create_calls = 0
    delete_calls = 2

    def _init_states(self) -> None:
        self._clock = 0
        self._due: list[_Due] = []
        # Injected failures: table name -> how many of its next creates end CREATE_FAILED.
        self.fail_creates: dict[str, int] = {}

    def _advance(self) -> None:
        self._clock += 1
        for due in [d for d in self._due if d.at <= self._clock]:
            self._due.remove(due)
            self._finish(due)

    @staticmethod
    def _finish(due: _Due) -> None:
        if due.ident not in due.table:
            return
        if due.final == GONE:
            del due.table[due.ident]
        else:
            due.table[due.ident]["status"] = due.final

    def _born(self, name: str, table: dict[str, dict[str, Any]], ident: str) -> None:
        """A new entry of `table` (named `name` for `fail_creates`) starts CREATE_IN_PROGRESS."""
        failing = self.fail_creates.get(name, 0) > 0
        if failing:
            self.fail_creates[name] -= 1
        final = CREATE_FAILED if failing else ACTIVE
        if self.create_calls <= 0:
            table[ident]["status"] = final
            return
        table[ident]["status"] = CREATE_IN_PROGRESS
        self._due.append(_Due(self._clock + self.create_calls, table, ident, final))

    def _dying(self, table: dict[str, dict[str, Any]], item: dict[str, Any]) -> dict[str, Any]:
        """Start deleting `item`: it stays listed DELETE_IN_PROGRESS until it is gone."""
        if item.get("status") == DELETE_IN_PROGRESS:
            raise conflict(f"{item['id']} is already being deleted")
        answer = {"id": item["id"], "arn": item["arn"], "status": DELETE_IN_PROGRESS}
        if self.delete_calls <= 0:
            del table[item["id"]]
        else:
            item["status"] = DELETE_IN_PROGRESS
            self._due.append(_Due(self._clock + self.delete_calls, table, item["id"], GONE))
        return answer

    @staticmethod
    def _usable(item: dict[str, Any], what: str) -> dict[str, Any]:
        """Lattice refuses to build on a resource that is being deleted or failed to be created."""
        status = item.get("status", ACTIVE)
        if status in (DELETE_IN_PROGRESS, CREATE_FAILED):
            raise conflict(f"{what} {item['id']} is {status}")
        return item

    def settle(self) -> None:
        """Finish every pending transition now (a test that waited long enough)."""
        for due in list(self._due):
            self._due.remove(due)
            self._finish(due)
