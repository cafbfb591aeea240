"""The typed resource model: specs, desired and observed resources, and per-kind planning rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from portico_providers.kit.ownership import Marks


class Spec(BaseModel):
    """Base of every typed resource spec: frozen, no unknown fields, YAML-friendly.

    A `tags` field, when a spec has one, holds the user's tags or labels; execute adds the
    ownership marks on top so user data can never override them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Desired:
    kind: str
    id: str
    spec: Spec
    secret: Any = field(default=None, repr=False, compare=False)  # never shown in documents
    # The IR rule ids this resource programs: a refusal of it (or of what it needs) is reported on
    # those rules' routes; a resource that serves no particular rule is the whole Gateway's.
    rules: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Observed:
    """A resource found in the cloud. `cloud_id` is its ARN / resource id / self link; `marks` are
    the tags, labels, name and description it was found with (checked again before any change)."""

    kind: str
    id: str
    cloud_id: str
    spec: Spec
    extra: Mapping[str, Any] = field(default_factory=dict)
    marks: Marks = field(default_factory=Marks, compare=False)
    # What the cloud is still doing with it ("CREATE_IN_PROGRESS"); empty when it is ready. A Gateway
    # is programmed only when none of the resources it keeps is busy.
    busy: str = field(default="", compare=False)
    # Why the cloud says it is unusable ("CREATE_FAILED"); such a resource is replaced, never adopted.
    failed: str = field(default="", compare=False)

    @property
    def arn(self) -> str:
        return self.cloud_id


def equal(current: Any, wanted: Any) -> bool:
    return bool(current == wanted)


@dataclass(frozen=True)
class KindRules:
    """How one resource kind is planned: its place in the forward order, what forces a replace,
    and when an observed field value already satisfies the desired one (`same`: equality; a
    kind whose API adds defaults around what was set compares by containment instead).

    `members`: fields holding a membership set (a NEG's endpoints, an instance group's
    instances): compared ignoring order and duplicates; the handler's update adds and removes
    the difference. `ignored`: fields the API answers in another form than they were sent (an
    address URL answered as the IP), set on create and never compared. `reuses_name`: the name
    is the identity, so a replacement can only be created once the old resource is deleted.
    """

    kind: str
    immutable: frozenset[str] = frozenset()
    delete_early: bool = False
    same: Callable[[Any, Any], bool] = equal
    members: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()
    reuses_name: bool = False


def member_set(value: Any) -> frozenset[str]:
    """A membership field's items as a set (each item in its canonical JSON form)."""
    return frozenset(json.dumps(item, sort_keys=True) for item in value or ())
