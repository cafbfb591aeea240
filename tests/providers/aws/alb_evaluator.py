"""A small evaluator of ALB listener rules as AWS documents them, for comparing with the spec.

Rules are tried in priority order (lowest first); the first whose conditions all match wins, and
the listener's default action answers when none does. Conditions of one rule AND; the values of
one condition OR. host-header values match case-insensitively, `*` any run of characters and `?`
one; path-pattern the same wildcards on the path alone, case-sensitively; http-header values
case-insensitively (the header name too); query-string key/value pairs case-insensitively, any
pair; http-request-method exactly. Transforms (ELB guide, "Transforms for listener rules") rewrite
the URL or the Host header of a request the rule matched: the expression's match is replaced, `$n`
standing for capture group n.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from portico_providers.aws_alb.model import Condition, RuleSpec, Transform


@dataclass(frozen=True)
class Request:
    host: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    query: str = ""


def wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def condition_matches(condition: Condition, request: Request) -> bool:
    if condition.field == "host-header":
        return any(wildcard(v, request.host, ignore_case=True) for v in condition.values)
    if condition.field == "path-pattern":
        return any(wildcard(v, request.path, ignore_case=False) for v in condition.values)
    if condition.field == "http-request-method":
        return request.method in condition.values
    if condition.field == "http-header":
        assert condition.header_name is not None
        sent = [v for n, v in request.headers if n.lower() == condition.header_name.lower()]
        return any(wildcard(p, v, ignore_case=True) for p in condition.values for v in sent)
    pairs = parse_qsl(request.query, keep_blank_values=True)
    return any(
        wildcard(q.value, value, ignore_case=True) and (not q.key or wildcard(q.key, key, ignore_case=True))
        for q in condition.query
        for key, value in pairs
    )


def first_match(rules: Sequence[tuple[str, RuleSpec]], request: Request) -> str | None:
    """The id of the rule ALB would answer `request` with; None for the listener's default."""
    for rule_id, rule in sorted(rules, key=lambda item: item[1].priority):
        if all(condition_matches(c, request) for c in rule.conditions):
            return rule_id
    return None


def _expanded(replace: str, found: re.Match[str]) -> str:
    """ALB's replacement string: `$n` is capture group n, empty when the group took no part."""
    return re.sub(r"\$(\d)", lambda ref: found.group(int(ref.group(1))) or "", replace)


def rewrite(transform: Transform, text: str, every_match: bool = False) -> str:
    """One transform's rewrite of `text` (the URL, or the Host header): the first match of its
    expression replaced (or every match, the other reading of "replaces it"); no match, no change.
    The expressions Portico writes use only syntax Python's `re` reads as PCRE and RE2 do."""
    return re.sub(
        transform.regex, lambda found: _expanded(transform.replace, found), text, count=0 if every_match else 1
    )


def transformed(rule: RuleSpec, request: Request, every_match: bool = False) -> tuple[str, str]:
    """(Host, URL) the targets get from `rule`: the URL is the path with `?query` when there is one."""
    host, url = request.host, request.path + (f"?{request.query}" if request.query else "")
    for transform in rule.transforms:
        if transform.type == "host-header-rewrite":
            host = rewrite(transform, host, every_match)
        else:
            url = rewrite(transform, url, every_match)
    return host, url
