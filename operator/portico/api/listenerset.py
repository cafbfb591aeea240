"""ListenerSet (gateway.networking.k8s.io/v1, standard since v1.5): listeners attached to a Gateway
from another object, often another namespace, when the Gateway's spec.allowedListeners admits it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from portico.api.base import GATEWAY_GROUP, FieldError, Group, Kind, Model, ObjectName, Resource, parse_as
from portico.api.gateway import ParsedListener, parse_listeners


class ParentGatewayReference(Model):
    group: Group = GATEWAY_GROUP
    kind: Kind = "Gateway"
    name: ObjectName
    namespace: str | None = None


class ListenerSetSpecShell(Model):
    """The listeners are parsed one by one (as a Gateway's are), so one bad listener stays local."""

    parent_ref: ParentGatewayReference
    listeners: list[Any] = Field(min_length=1, max_length=64)


class ListenerSetShell(Resource):
    spec: ListenerSetSpecShell


class ListenerSet(Resource):
    spec: ListenerSetSpecShell
    listeners: tuple[ParsedListener, ...] = ()

    @property
    def parent_key(self) -> tuple[str, str] | None:
        """The parent Gateway (namespace, name), or None when parentRef names another kind."""
        ref = self.spec.parent_ref
        if ref.group != GATEWAY_GROUP or ref.kind != "Gateway":
            return None
        return (ref.namespace or self.metadata.namespace, ref.name)


def parse_listener_set(data: Any) -> ListenerSet | list[FieldError]:
    shell = parse_as(ListenerSetShell, data)
    if not isinstance(shell, ListenerSetShell):
        return shell
    return ListenerSet(
        api_version=shell.api_version,
        kind=shell.kind,
        metadata=shell.metadata,
        spec=shell.spec,
        listeners=parse_listeners(shell.spec.listeners),
    )
