"""YAML output for large documents: PyYAML's C emitter fed by a representer for JSON-shaped data.

PyYAML's own representer tracks aliases and walks each value's type hierarchy in Python; for the
35k-route status List that was two thirds of `portico status`. Everything we print is plain JSON
data (dict, list, str, int, bool, None), so those build nodes directly; anything else goes through
PyYAML's representer. The emitter still decides quoting (`"true"`, `"8080"` stay strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

BASE_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"


class JSONDataDumper(BASE_DUMPER):  # type: ignore[misc,valid-type]
    def node_for(self, value: Any) -> Node:
        if isinstance(value, str):
            return ScalarNode(STR, value)
        if isinstance(value, bool):
            return ScalarNode(BOOL, "true" if value else "false")
        if isinstance(value, int):
            return ScalarNode(INT, str(value))
        if value is None:
            return ScalarNode(NULL, "null")
        if isinstance(value, dict):
            pairs = [(self.node_for(k), self.node_for(v)) for k, v in value.items()]
            return MappingNode(MAP, pairs, flow_style=False)
        if isinstance(value, list | tuple):
            return SequenceNode(SEQ, [self.node_for(v) for v in value], flow_style=False)
        node: Node = self.represent_data(value)
        return node

    def represent(self, data: Any) -> None:
        self.serialize(self.node_for(data))
        self.represented_objects.clear()
        self.object_keeper.clear()
        self.alias_key = None


def dump_document(document: Mapping[str, Any], stream: TextIO) -> None:
    """Block-style YAML of `document`, one top-level key and one list element at a time: the same text
    as dumping it whole, without holding a node for every value of a 35k-item List at once."""
    for key, value in document.items():
        if isinstance(value, list) and value:
            stream.write(f"{key}:\n")  # our own keys (items, gateways): plain scalars
            for element in value:
                yaml.dump([element], stream, Dumper=JSONDataDumper, sort_keys=False)
        else:
            yaml.dump({key: value}, stream, Dumper=JSONDataDumper, sort_keys=False)
