"""YAML output for large documents: PyYAML's C emitter fed one event at a time.

Building PyYAML nodes for a whole document holds a node per value (gigabytes for the IR of a
Gateway with 35k routes), and PyYAML's representer walks each value's type hierarchy in Python.
Nearly everything we print is plain JSON data (dict, list, str, int, bool, None), so events are
made straight from it (anything else, such as a float, through PyYAML's representer) and handed
to the C emitter as they are made: memory is the depth of the document, not its size. Scalars
carry the same implicit-tag flags PyYAML's serializer gives them, so the emitter still decides
quoting (`"true"`, `"8080"` stay strings) and the text is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TextIO

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

BASE_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
_RESOLVER = yaml.resolver.Resolver()
_MAPPING_END = MappingEndEvent()
_SEQUENCE_END = SequenceEndEvent()


@lru_cache(maxsize=4096)
def _string_event(value: str) -> ScalarEvent:
    """A str scalar with the serializer's flags: may it be plain (it would not read back as another
    type), and may it be quoted without a tag (always, for str). Cached: keys and most values repeat,
    and the emitter only reads an event."""
    plain = _RESOLVER.resolve(ScalarNode, value, (True, False)) == STR  # type: ignore[no-untyped-call]
    return ScalarEvent(None, STR, (plain, True), value)


# Our bool/int/null texts read back as their own type when plain ("true", "12", "null").
_TRUE = ScalarEvent(None, BOOL, (True, False), "true")
_FALSE = ScalarEvent(None, BOOL, (True, False), "false")
_NULL = ScalarEvent(None, NULL, (True, False), "null")


@lru_cache(maxsize=4096)
def _int_event(value: int) -> ScalarEvent:
    return ScalarEvent(None, INT, (True, False), str(value))


class _EventWriter:
    """Events for a value, handed to the emitter as they are made (calls, not nested generators)."""

    def __init__(self, emitter: Any) -> None:
        self.emitter = emitter
        self.emit: Callable[[Event], None] = emitter.emit

    def value(self, value: Any) -> None:
        emit = self.emit
        if isinstance(value, str):
            emit(_string_event(value))
        elif isinstance(value, bool):
            emit(_TRUE if value else _FALSE)
        elif isinstance(value, int):
            emit(_int_event(value))
        elif value is None:
            emit(_NULL)
        elif isinstance(value, dict):
            emit(MappingStartEvent(None, MAP, True, flow_style=False))
            for key, item in value.items():
                self.value(key)
                self.value(item)
            emit(_MAPPING_END)
        elif isinstance(value, list | tuple):
            emit(SequenceStartEvent(None, SEQ, True, flow_style=False))
            for item in value:
                self.value(item)
            emit(_SEQUENCE_END)
        else:  # a float, a date: PyYAML's representer says how it is written
            self.node(self.emitter.represent_data(value))

    def node(self, node: Node) -> None:
        """What PyYAML's serializer emits for a node (without anchors: each value is written in full)."""
        resolve = self.emitter.resolve
        if isinstance(node, ScalarNode):
            implicit = (
                node.tag == resolve(ScalarNode, node.value, (True, False)),
                node.tag == resolve(ScalarNode, node.value, (False, True)),
            )
            self.emit(ScalarEvent(None, node.tag, implicit, node.value, style=node.style))
        elif isinstance(node, SequenceNode):
            implicit_seq = node.tag == resolve(SequenceNode, node.value, True)
            self.emit(SequenceStartEvent(None, node.tag, implicit_seq, flow_style=node.flow_style))
            for item in node.value:
                self.node(item)
            self.emit(_SEQUENCE_END)
        elif isinstance(node, MappingNode):
            implicit_map = node.tag == resolve(MappingNode, node.value, True)
            self.emit(MappingStartEvent(None, node.tag, implicit_map, flow_style=node.flow_style))
            for key, item in node.value:
                self.node(key)
                self.node(item)
            self.emit(_MAPPING_END)


def dump_document(document: Mapping[str, Any], stream: TextIO) -> None:
    """Block-style YAML of `document`: the text `yaml.dump(document, Dumper=CSafeDumper,
    sort_keys=False)` prints, made without holding more than one path through the document."""
    if not document:
        return
    emitter = BASE_DUMPER(stream, default_flow_style=False, sort_keys=False)
    emitter.open()
    emitter.emit(DocumentStartEvent(explicit=False))
    _EventWriter(emitter).value(dict(document))
    emitter.emit(DocumentEndEvent(explicit=False))
    emitter.close()
    emitter.dispose()
