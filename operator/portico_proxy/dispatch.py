"""Indexes over runs of rules so a request skips, in one dict lookup, rules that cannot match.

A run of consecutive rules that all require an exact value of the same header (or an exact path)
is replaced by a dict from that value to the rules needing it, in their original order. Rules that
need another value cannot match, so the first match found is the one a linear scan would find.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from portico_proxy.rules import PATH_EXACT, CompiledRule, HeaderMap

MIN_RUN = 4


def _header_key(rule: CompiledRule) -> bytes | None:
    for name, _, regex in rule.headers:
        if regex is None:
            return name
    return None


def _header_value(rule: CompiledRule, name: bytes) -> bytes:
    return next(value for key, value, regex in rule.headers if key == name and regex is None)


class HeaderIndex:
    __slots__ = ("by_value", "name")

    def __init__(self, name: bytes, rules: Sequence[CompiledRule]) -> None:
        self.name = name
        grouped: dict[bytes, list[CompiledRule]] = {}
        for rule in rules:
            grouped.setdefault(_header_value(rule, name), []).append(rule)
        self.by_value = {value: tuple(group) for value, group in grouped.items()}

    def find(self, method: bytes, path: bytes, query: bytes, headers: HeaderMap, grpc: bool) -> CompiledRule | None:
        value = headers.get(self.name)
        if value is None:
            return None
        for rule in self.by_value.get(value, ()):
            if rule.matches(method, path, query, headers, grpc):
                return rule
        return None


class ExactPathIndex:
    __slots__ = ("by_path",)

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        grouped: dict[bytes, list[CompiledRule]] = {}
        for rule in rules:
            grouped.setdefault(rule.path_value, []).append(rule)
        self.by_path = {path: tuple(group) for path, group in grouped.items()}

    def find(self, method: bytes, path: bytes, query: bytes, headers: HeaderMap, grpc: bool) -> CompiledRule | None:
        for rule in self.by_path.get(path, ()):
            if rule.matches(method, path, query, headers, grpc):
                return rule
        return None


Entry = CompiledRule | HeaderIndex | ExactPathIndex


def _runs(rules: Sequence[CompiledRule], key: Callable[[CompiledRule], object]) -> list[list[CompiledRule]]:
    runs: list[list[CompiledRule]] = []
    for rule in rules:
        if runs and key(rule) is not None and key(runs[-1][0]) == key(rule):
            runs[-1].append(rule)
        else:
            runs.append([rule])
    return runs


def build_entries(rules: Sequence[CompiledRule]) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for path_run in _runs(rules, lambda r: r.path_kind == PATH_EXACT):
        if len(path_run) >= MIN_RUN and path_run[0].path_kind == PATH_EXACT:
            entries.append(ExactPathIndex(path_run))
            continue
        for header_run in _runs(path_run, _header_key):
            name = _header_key(header_run[0])
            if len(header_run) >= MIN_RUN and name is not None:
                entries.append(HeaderIndex(name, header_run))
            else:
                entries.extend(header_run)
    return tuple(entries)
