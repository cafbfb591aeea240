"""The v2 IR document's rule table: one copy of each rule however many listeners it is placed on.

A route attached to N listeners yields N Rule objects that differ only in their id, which starts with
the listener's name. The document keeps one body per distinct rule in `rules`, its id as `id_suffix`
(after "<listener name>:") or, for an id that does not start so, as `id`; each listener's `rules` is a
list of indexes into that table. Reading it back rebuilds the same in-memory objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portico.ir import Listener, Rule

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


def expand_rules(document: dict[str, Any], validate_rule: Callable[[Any], Rule]) -> dict[str, Any]:
    """A v2 document with each listener's rules in place; each shared body is validated once."""
    bodies = document.get("rules", [])
    if not isinstance(bodies, list) or not all(isinstance(body, dict) for body in bodies):
        raise ValueError("rules: expected a list of rule objects")
    table: list[tuple[Rule, str, str]] = []
    for position, body in enumerate(bodies):
        ids = [(key, body[key]) for key in _ID_KEYS if key in body]
        if len(ids) != 1 or not isinstance(ids[0][1], str):
            raise ValueError(f"rules[{position}]: expected exactly one of id_suffix or id, a string")
        rest = {key: value for key, value in body.items() if key not in _ID_KEYS}
        try:
            template = validate_rule({**rest, "id": ""})
        except ValueError as error:  # pydantic's ValidationError is one; say which table entry
            raise ValueError(f"rules[{position}]: {error}") from None
        table.append((template, *ids[0]))
    listeners: list[Any] = []
    for position, listener in enumerate(document.get("listeners", [])):
        if not isinstance(listener, dict):
            listeners.append(listener)  # the model's own validation names what is wrong with it
            continue
        rules: list[Rule] = []
        for index in listener.get("rules", []):
            if not isinstance(index, int) or not 0 <= index < len(table):
                raise ValueError(f"listeners[{position}].rules: {index!r} is not an index into rules")
            template, id_key, id_value = table[index]
            rule_id = f"{listener.get('name')}:{id_value}" if id_key == "id_suffix" else id_value
            rules.append(template.model_copy(update={"id": rule_id}))
        listeners.append({**listener, "rules": tuple(rules)})
    return {**{key: value for key, value in document.items() if key != "rules"}, "listeners": listeners}
