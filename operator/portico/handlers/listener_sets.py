"""ListenerSets in a Gateway's reconcile: the parent Gateway's worker reads them with the routes and
Secrets they bring, and writes their statuses and the route parent entries that name them.

A route's entries for a ListenerSet parent go in a part of their own (source "ListenerSet:ns/name"),
so the writer replaces exactly those: entries for a ListenerSet that was deleted or that moved to
another Gateway are cleared by whichever worker runs next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portico.handlers import gateway_status as gs
from portico.handlers.store import NsName, Store, gateway_secrets, key_of
from portico.handlers.writer import LISTENER_SET_SOURCE, StatusWriter


def listener_set_inputs(
    store: Store, gateway: NsName, routes: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The Gateway's ListenerSets, the routes they add to `routes` (the Gateway's), and their Secrets."""
    listener_sets = store.listener_sets_for(gateway)
    seen = {key_of(route) for route in routes}
    added: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    for listener_set in listener_sets:
        namespace, name = key_of(listener_set)[1:]
        for route in store.routes_for_listener_set((namespace, name)):
            if key_of(route) not in seen:
                seen.add(key_of(route))
                added.append(route)
        secrets += [s for ns, n in sorted(gateway_secrets(listener_set)) if (s := store.get("Secret", ns, n))]
    return listener_sets, added, secrets


def submit_listener_sets(
    store: Store,
    writer: StatusWriter,
    gateway: NsName,
    statuses: Mapping[Any, dict[str, Any]],
    parent_status: Mapping[str, Any] | None,
) -> None:
    """Each ListenerSet of the Gateway gets its status, and every route naming it its parent entries.
    `parent_status` is the Gateway's (as last written, or as the provider's apply left it)."""
    for listener_set in store.listener_sets_for(gateway):
        key = key_of(listener_set)
        status = statuses.get(key)
        if status is not None:
            writer.submit(key, with_parent_programmed(status, parent_status), "listenerset")
        _submit_routes(store, writer, (key[1], key[2]), statuses)
    for missing in store.missing_listener_sets():
        _submit_routes(store, writer, missing, {})


def with_parent_programmed(status: Mapping[str, Any], parent: Mapping[str, Any] | None) -> dict[str, Any]:
    """An accepted ListenerSet is programmed once its Gateway is: else Programmed=False/ParentNotProgrammed
    with the Gateway's reason (the data plane that would serve its listeners is not ready)."""
    programmed = next((c for c in (parent or {}).get("conditions") or () if c.get("type") == "Programmed"), None)
    own = next((c for c in status.get("conditions") or () if c.get("type") == "Programmed"), None)
    if own is None or own.get("status") != "True" or (programmed or {}).get("status") == "True":
        return dict(status)
    why = f"{programmed.get('reason')}: {programmed.get('message', '')}" if programmed else "not yet"
    message = f"the parent Gateway is not programmed: {why}"
    changed = {**own, "status": "False", "reason": "ParentNotProgrammed", "message": message[:1024]}
    return {**status, "conditions": [changed if c is own else c for c in status["conditions"]]}


def clear_listener_set_parents(store: Store, writer: StatusWriter, gateway: NsName) -> None:
    """Portico no longer manages `gateway`: routes keep none of our entries for its ListenerSets."""
    for listener_set in store.listener_sets_for(gateway):
        key = key_of(listener_set)
        _submit_routes(store, writer, (key[1], key[2]), {})


def _submit_routes(
    store: Store, writer: StatusWriter, listener_set: NsName, statuses: Mapping[Any, dict[str, Any]]
) -> None:
    source = f"{LISTENER_SET_SOURCE}{listener_set[0]}/{listener_set[1]}"
    for route in store.routes_for_listener_set(listener_set):
        route_key = key_of(route)
        status = gs.parents_for_gateway(statuses.get(route_key) or {}, listener_set, route_key[1], "ListenerSet")
        writer.submit(route_key, status, source)
