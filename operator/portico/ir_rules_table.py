"""The v2 IR document's rule table: one copy of each rule however many listeners it is placed on.

A route attached to N listeners yields N Rule objects that differ only in their id, which starts with
the listener's name. The document keeps one body per distinct rule in `rules`, its id as `id_suffix`
(after "<listener name>:") or, for an id that does not start so, as `id`; each listener's `rules` is a
list of indexes into that table. portico.ir_document reads it back into the same in-memory objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from portico.gcpause import cyclic_gc_paused

if TYPE_CHECKING:
    from portico.ir import Listener


@cyclic_gc_paused
def share_rules(listeners: Sequence[Listener], dumped_listeners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace each dumped listener's rules by indexes; return the shared rule bodies."""
    from portico.ir import Rule  # not at the top: portico.ir imports this module

    fields = attrgetter(*(name for name in Rule.model_fields if name != "id"))
    # Rules are grouped by their id without the listener's name, which already names the route, rule
    # and match; within a group the field values are compared. Hashing whole rules would walk every
    # nested model (endpoints, filters) of every rule; comparing tuples first compares by identity,
    # and translation places the same objects on every listener.
    groups: dict[tuple[str, str], list[tuple[tuple[Any, ...], int]]] = {}
    bodies: list[dict[str, Any]] = []
    for listener, dumped in zip(listeners, dumped_listeners, strict=True):
        prefix = f"{listener.name}:"
        refs: list[int] = []
        for rule in listener.rules:
            if rule.id.startswith(prefix):
                id_key, id_value = "id_suffix", rule.id[len(prefix) :]
            else:
                id_key, id_value = "id", rule.id
            values = fields(rule)
            group = groups.setdefault((id_key, id_value), [])
            index = next((i for shared, i in group if shared == values), None)
            if index is None:
                index = len(bodies)
                group.append((values, index))
                bodies.append({**rule.model_dump(mode="json", exclude={"id"}), id_key: id_value})
            refs.append(index)
        dumped["rules"] = refs
    return bodies
