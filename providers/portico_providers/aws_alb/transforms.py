"""HTTPRoute URLRewrite as ALB rule transforms (`url-rewrite`, `host-header-rewrite`).

What ALB does with a transform (ELB user guide, "Transforms for listener rules"; elbv2 API
model `RewriteConfig`): after the rule's conditions chose the rule, the regular expression is
matched against the request URL (the path, with `?` and the query string when there is one) or the
Host header, and the match is replaced by the replacement string, in which `$1`, `$2` stand for
capture groups; no match leaves the request as it is. One rewrite per transform, at most 1,024
characters for the expression and for the replacement.

Every expression written here matches the whole input (`^...$`) exactly once and uses only
literal characters (metacharacters escaped with `\\`), `[^?]`, `.`, `*`, `?` and capture groups, which
every dialect ALB could use (PCRE, RE2) reads the same way; so replacing the first match and
replacing every match give the same URL. Capture references are never followed by a digit.

- ReplaceFullPath `/x`: `^[^?]*(.*)$` -> `/x$1` (the query string kept; an empty value is `/`).
- ReplacePrefixMatch of PathPrefix `/p` with `/r`: `^/p([^?]*)(.*)$` -> `/r$1$2`. The rule's
  conditions (`/p` or `/p/*`) let only `/p` and `/p/...` through, so `$1` is empty or starts with
  `/`: `/p` -> `/r`, `/p/x` -> `/r/x`. With `/` (or an empty string) as the replacement the
  expression takes the slash after the prefix too, `^/p/?([^?]*)(.*)$` -> `/$1$2`, so `/p/x` gives
  `/x` (not `//x`) and `/p` gives `/`. A trailing `/` of prefix or replacement is dropped first, as
  the spec's table (and Portico's proxy) do.
- hostname `h`: `^.*$` -> `h` on the Host header (its port, if any, goes with it, as in the proxy).
"""

from __future__ import annotations

from portico.ir import PathModifier, PathModifierType, URLRewriteFilter
from portico_providers.aws_alb.model import Transform
from portico_providers.kit.limits import Unsupported

MAX_REWRITE_LENGTH = 1024  # the elbv2 model: Regex and Replace "The maximum length of the string is 1,024"
REGEX_METACHARACTERS = frozenset("\\.^$|?*+()[]{}")
# `$` starts a capture reference in ALB's replacement string, and no escape for it is documented.
REPLACEMENT_SPECIALS = ("$", "\\")
REST_OF_URL = "([^?]*)(.*)$"  # the rest of the path, then `?query` (or nothing)


def escaped(text: str) -> str:
    """`text` as a regular expression that matches exactly it."""
    return "".join("\\" + char if char in REGEX_METACHARACTERS else char for char in text)


def _literal_replacement(value: str, what: str) -> str:
    for special in REPLACEMENT_SPECIALS:
        if special in value:
            raise Unsupported(
                f"{what} {value!r} contains {special!r}, which an ALB url-rewrite replacement reads as a "
                "capture reference or escape (no way to write it literally is documented)"
            )
    return value


def _bounded(transform: Transform, what: str) -> Transform:
    for part, text in (("expression", transform.regex), ("replacement", transform.replace)):
        if len(text) > MAX_REWRITE_LENGTH:
            raise Unsupported(
                f"{what} needs a {len(text)}-character {transform.type} {part}; ALB allows {MAX_REWRITE_LENGTH}"
            )
    return transform


def path_rewrite(modifier: PathModifier) -> Transform:
    """The url-rewrite that does what Portico's proxy does with `modifier` (and keeps the query)."""
    if modifier.type is PathModifierType.REPLACE_FULL_PATH:
        value = _literal_replacement(modifier.value, "ReplaceFullPath") or "/"
        if not value.startswith("/"):
            raise Unsupported(f"ReplaceFullPath {value!r} does not start with '/': ALB rewrites the URL to a path")
        return _bounded(Transform(type="url-rewrite", regex="^[^?]*(.*)$", replace=value + "$1"), "ReplaceFullPath")
    if modifier.matched_prefix is None:
        raise Unsupported("ReplacePrefixMatch without the rule's PathPrefix match: ALB has no prefix to replace")
    prefix = escaped(modifier.matched_prefix.rstrip("/"))
    replacement = _literal_replacement(modifier.value, "ReplacePrefixMatch").rstrip("/")
    if not replacement:
        return _bounded(
            Transform(type="url-rewrite", regex=f"^{prefix}/?{REST_OF_URL}", replace="/$1$2"), "ReplacePrefixMatch"
        )
    if not replacement.startswith("/"):
        replacement = "/" + replacement
    return _bounded(
        Transform(type="url-rewrite", regex=f"^{prefix}{REST_OF_URL}", replace=replacement + "$1$2"),
        "ReplacePrefixMatch",
    )


def host_rewrite(hostname: str) -> Transform:
    return Transform(type="host-header-rewrite", regex="^.*$", replace=hostname)


def transforms_of(rewrite: URLRewriteFilter) -> tuple[Transform, ...]:
    """The rule's transforms in a canonical order (by type); raises Unsupported with the reason."""
    found = [path_rewrite(rewrite.path)] if rewrite.path is not None else []
    if rewrite.hostname:
        found.append(host_rewrite(rewrite.hostname))
    return tuple(sorted(found, key=lambda t: (t.type, t.regex, t.replace)))
