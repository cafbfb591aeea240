"""Reading IR documents: v2 (a shared rule table) and v1 (rules inline on every listener).

Both are validated by pydantic in JSON mode (the proxy reloads multi-MiB documents), as wire models
that differ from the in-memory ones only where the document does; each shared rule is validated once
and placed on its listeners with the listener's id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, StrictInt, TypeAdapter, model_validator

from portico.gcpause import cyclic_gc_paused
from portico.ir import IR_VERSION, IR_VERSION_V1, GatewayIR, IRBundle, Listener, Rule, _Frozen


class RuleBody(Rule):
    """A table entry: the rule without its id, plus `id_suffix` (after "<listener name>:") or the whole `id`."""

    id: str = ""
    id_suffix: str | None = None


class ListenerDocument(Listener):
    rules: tuple[StrictInt, ...] = ()  # type: ignore[assignment]  # indexes into the document's rule table


class GatewayDocument(GatewayIR):
    listeners: tuple[ListenerDocument, ...] = ()
    rules: tuple[RuleBody, ...] = ()

    @model_validator(mode="after")
    def _table_is_sound(self) -> Self:
        # One check per document, not a validator per rule: the proxy reloads tens of thousands of rules.
        for position, body in enumerate(self.rules):
            if (body.id_suffix is None) == (body.id == ""):
                raise ValueError(f"rules[{position}]: expected exactly one of id_suffix or id")
        for position, listener in enumerate(self.listeners):
            for index in listener.rules:
                if not 0 <= index < len(self.rules):
                    raise ValueError(f"listeners[{position}].rules: {index} is not an index into rules")
        return self


class GatewayDocumentV1(GatewayIR):
    version: Literal["portico.dev/ir/v1"]  # type: ignore[assignment]


AnyGatewayDocument = Annotated[GatewayDocument | GatewayDocumentV1, Field(discriminator="version")]
_GATEWAY: TypeAdapter[GatewayDocument | GatewayDocumentV1] = TypeAdapter(AnyGatewayDocument)


class BundleDocument(_Frozen):
    version: Literal["portico.dev/ir/v1", "portico.dev/ir/v2"] = IR_VERSION
    gateways: tuple[AnyGatewayDocument, ...] = ()


_RULE_FIELDS = tuple(name for name in Rule.model_fields if name != "id")
_LISTENER_FIELDS = tuple(name for name in Listener.model_fields if name != "rules")
_GATEWAY_FIELDS = tuple(name for name in GatewayIR.model_fields if name not in ("version", "listeners"))


def to_ir(document: GatewayDocument | GatewayDocumentV1) -> GatewayIR:
    """The in-memory IR of a validated document (constructed without validating anything twice)."""
    fields = {name: getattr(document, name) for name in _GATEWAY_FIELDS}
    if isinstance(document, GatewayDocumentV1):
        return GatewayIR.model_construct(**fields, listeners=document.listeners)
    # A table entry's first placement is constructed; the others copy it with their listener's id
    # (a copy costs half a construction, and the proxy places tens of thousands of rules per reload).
    placed: dict[int, Rule] = {}
    listeners = []
    for listener in document.listeners:
        rules = []
        for index in listener.rules:
            body = document.rules[index]
            rule_id = body.id if body.id_suffix is None else f"{listener.name}:{body.id_suffix}"
            first = placed.get(index)
            if first is None:
                shared = {name: getattr(body, name) for name in _RULE_FIELDS}
                first = placed[index] = Rule.model_construct(id=rule_id, **shared)
                rules.append(first)
            else:
                rules.append(first if first.id == rule_id else first.model_copy(update={"id": rule_id}))
        own = {name: getattr(listener, name) for name in _LISTENER_FIELDS}
        listeners.append(Listener.model_construct(**own, rules=tuple(rules)))
    return GatewayIR.model_construct(**fields, listeners=tuple(listeners))


@cyclic_gc_paused
def gateway_from_json(text: str | bytes) -> GatewayIR:
    return to_ir(_GATEWAY.validate_json(text))


@cyclic_gc_paused
def gateway_from_python(data: Any) -> GatewayIR:
    if isinstance(data, dict) and "version" not in data:  # hand-written IR (tests, examples): rules inline
        data = {**data, "version": IR_VERSION_V1}
    return to_ir(_GATEWAY.validate_python(data))


@cyclic_gc_paused
def bundle_from_json(text: str | bytes) -> IRBundle:
    document = BundleDocument.model_validate_json(text)
    return IRBundle(gateways=tuple(to_ir(gateway) for gateway in document.gateways))
