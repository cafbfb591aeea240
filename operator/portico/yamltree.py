"""Node tree -> Python data for the manifests every YAML file holds: plain mappings, sequences and scalars.

libyaml composes nodes in C, but PyYAML's constructor then visits each node through a generic,
generator-based path (about 1.6 million nodes for 35k HTTPRoutes, most of `portico status`). This
builds the same data directly: strings are interned (a 35k-route file repeats
`apiVersion`, `name`, `path` ... hundreds of thousands of times), an alias gives the same object as
its anchor (as PyYAML does, so a billion-laughs file stays small). Anything else - merge keys
(`<<`), tags other than the core ones, unhashable keys - is `Unsupported`, and the caller lets
PyYAML's constructor read that document, with its own errors (also when it nests deeper than
Python's recursion limit: PyYAML's constructor does not recurse per level).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

STR = "tag:yaml.org,2002:str"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"
# Scalar tags whose SafeConstructor function reads only the node (no loader state).
SCALARS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp"))


_RESOLVER = Resolver()


@lru_cache(maxsize=4096)
def _plain_scalar_tag(value: str) -> str:
    return str(Resolver.resolve(_RESOLVER, ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]


def resolve(self: Resolver, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
    """`Resolver.resolve` for a loader, cached for plain scalars: libyaml asks it once per node,
    and keys and most values repeat (the implicit resolvers are regular expressions)."""
    if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
        return _plain_scalar_tag(value)
    return str(Resolver.resolve(self, kind, value, implicit))  # type: ignore[no-untyped-call]


class Unsupported(Exception):
    """A node this reader leaves to PyYAML's constructor."""


# Mapping node -> (duplicate key node, first occurrence): how the caller reports a duplicate.
DuplicateCheck = Callable[[MappingNode], None]


def build(constructor: SafeConstructor, root: Node, on_fewer_keys: DuplicateCheck) -> Any:
    """The data of one document. `on_fewer_keys` is called for a mapping with fewer keys than
    entries (a duplicate key: it raises the caller's error)."""
    return _Builder(constructor, on_fewer_keys).value(root)


class _Builder:
    # A class, not a recursive closure: a closure that calls itself is a reference cycle, which the
    # CLI (cyclic GC off) would keep, with its alias table, for every document.
    def __init__(self, constructor: SafeConstructor, on_fewer_keys: DuplicateCheck) -> None:
        self.constructor = constructor
        self.on_fewer_keys = on_fewer_keys
        self.made: dict[int, Any] = {}  # id(node) -> its data, for aliases

    def value(self, node: Node) -> Any:
        if type(node) is ScalarNode:
            tag = node.tag
            if tag == STR:
                return sys.intern(node.value)
            if tag in SCALARS:
                return self.constructor.yaml_constructors[tag](self.constructor, node)
            raise Unsupported(tag)
        known = self.made.get(id(node))
        if known is not None:
            return known
        if type(node) is SequenceNode and node.tag == SEQ:
            items: list[Any] = []
            self.made[id(node)] = items
            for item in node.value:
                items.append(self.value(item))
            return items
        if type(node) is MappingNode and node.tag == MAP:
            return self.mapping(node)
        raise Unsupported(node.tag)

    def mapping(self, node: MappingNode) -> dict[Any, Any]:
        mapping: dict[Any, Any] = {}
        self.made[id(node)] = mapping
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode or key_node.tag == MERGE:
                raise Unsupported("a merge or collection key")
            mapping[self.value(key_node)] = self.value(value_node)
        if len(mapping) < len(node.value):
            self.on_fewer_keys(node)
        return mapping
