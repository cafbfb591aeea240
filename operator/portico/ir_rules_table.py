"""The v2 IR document's rule table: one copy of each rule however many listeners it is placed on.

A route attached to N listeners yields N Rule objects that differ only in their id, which starts with
the listener's name. The document keeps one body per distinct rule in `rules`, its id as `id_suffix`
(after "<listener name>:") or, for an id that does not start so, as `id`; each listener's `rules` is a
list of indexes into that table. portico.ir_document reads it back into the same in-memory objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portico.ir import Listener

_ID_KEYS = ("id_suffix", "id")


def share_rules(listeners: Sequence[Listener], dumped_listeners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace each dumped listener's rules by indexes; return the shared rule bodies."""
    index_by_body: dict[tuple[Any, ...], int] = {}
    bodies: list[dict[str, Any]] = []
    for listener, dumped in zip(listeners, dumped_listeners, strict=True):
        prefix = f"{listener.name}:"
        refs: list[int] = []
        for rule in listener.rules:
            if rule.id.startswith(prefix):
                id_key, id_value = "id_suffix", rule.id[len(prefix) :]
            else:
                id_key, id_value = "id", rule.id
            # Nested IR models are frozen, so the field values make a hashable key.
            body = (id_key, id_value, *(value for name, value in rule if name != "id"))
            index = index_by_body.get(body)
            if index is None:
                index = index_by_body[body] = len(bodies)
                bodies.append({**rule.model_dump(mode="json", exclude={"id"}), id_key: id_value})
            refs.append(index)
        dumped["rules"] = refs
    return bodies
