"""ingress-nginx path matching as Gateway API path matches.

What ingress-nginx does (controller `updateServerLocations`, template `buildLocation`):
- `Exact` is `location = /p`; `Prefix /p` is `location /p/` plus `location = /p` (element-wise);
  `ImplementationSpecific /p` is a plain nginx prefix `location /p`, so `/p` matches `/pbar`.
- A prefix location ending in `/` answers the same path without the slash with a 301 to it
  (nginx's auto redirect for proxied locations), unless another location claims that path.
- When any Ingress of a host sets `use-regex` or `rewrite-target`, every location of that host,
  of every path type, becomes `location ~* "^<path>"`: a case-insensitive regex anchored at the
  start only, tried longest path first.
- `rewrite-target` is `rewrite "(?i)<path>" <target> break;`: the whole URI becomes the target,
  with `$n` replaced by the path's capture groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portico.convert.report import Outcome

# What the proxy's regex dialect (RE2) refuses: backreferences, lookarounds, atomic groups.
_NOT_RE2 = re.compile(r"\\[1-9]|\(\?[=!<>]|\(\?P=|\\K|\\[gk]<")
_REGEX_SPECIAL = set(".^$*+?{}[]\\|()")
_LITERAL = r"/[A-Za-z0-9._~!&'*+,;=:@%/-]*"
# `/app(/|$)(.*)` with `/$2`: the shape ingress-nginx documents for rewrites.
_GROUP_TAIL = re.compile(rf"^(?P<prefix>{_LITERAL}?)\(/\|\$\)\(\.\*\)$")
# `/app/(.*)` with `/$1` (or `/app/?(.*)`).
_SLASH_TAIL = re.compile(rf"^(?P<prefix>{_LITERAL}?)/(?P<optional>\??)\(\.\*\)$")
_TARGET_LITERAL = re.compile(rf"^{_LITERAL}$")


def escape(literal: str) -> str:
    """A regex matching `literal` exactly, escaping only what is special (RE2 and Python agree)."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in literal)


def regex_problem(pattern: str) -> str | None:
    if _NOT_RE2.search(pattern):
        return "uses a backreference or lookaround, which RE2 (the Gateway regex dialect Portico uses) refuses"
    try:
        re.compile(pattern)
    except re.error as error:
        return f"is not a valid regular expression: {error}"
    return None


def nginx_regex(path: str) -> str:
    """`location ~* "^<path>"` as a full-match RegularExpression of the same length order."""
    return f"(?i)(?:{path}).*"


@dataclass(frozen=True)
class PathResult:
    """Matches for one Ingress path (the first is the path itself), the rewrite it needs, and what
    differs. `bare_redirect` is the slash-less path nginx answers with a 301 to the path."""

    matches: tuple[dict[str, Any], ...]
    rewrite: dict[str, Any] | None = None
    notes: tuple[tuple[Outcome, str], ...] = ()
    bare_redirect: str | None = None
    regex: bool = False


@dataclass(frozen=True)
class NotConvertible:
    reason: str


def _match(kind: str, value: str) -> dict[str, Any]:
    return {"path": {"type": kind, "value": value}}


def _capture_rewrite(path: str, target: str) -> PathResult | NotConvertible:
    """The `rewrite-target` shapes that have an exact (or nearly exact) Gateway API form."""
    where = f"rewrite-target {target!r} on path {path!r}"
    case_note = (Outcome.DIFFERENCE, "matched case-sensitively now (ingress-nginx: case-insensitive `~*`)")
    grouped = _GROUP_TAIL.match(path)
    if grouped and target.endswith("$2") and _TARGET_LITERAL.match(target[:-2]) and target[:-2].endswith("/"):
        prefix = grouped["prefix"] or "/"
        return PathResult(
            matches=(_match("PathPrefix", prefix),),
            rewrite={"type": "ReplacePrefixMatch", "replacePrefixMatch": target[:-2]},
            notes=(case_note,),
        )
    slashed = _SLASH_TAIL.match(path)
    if slashed and target.endswith("$1") and _TARGET_LITERAL.match(target[:-2]) and target[:-2].endswith("/"):
        prefix = slashed["prefix"] or "/"
        notes = [case_note]
        if not slashed["optional"] and prefix != "/":
            notes.append(
                (Outcome.DIFFERENCE, f"{prefix} without the trailing slash now matches too (ingress-nginx: no)")
            )
        return PathResult(
            matches=(_match("PathPrefix", prefix),),
            rewrite={"type": "ReplacePrefixMatch", "replacePrefixMatch": target[:-2]},
            notes=tuple(notes),
        )
    if "$" not in target and _TARGET_LITERAL.match(target):
        if problem := regex_problem(path):
            return NotConvertible(f"path {path!r} {problem}")
        return PathResult(
            matches=(_match("RegularExpression", nginx_regex(path)),),
            rewrite={"type": "ReplaceFullPath", "replaceFullPath": target},
            regex=True,
        )
    return NotConvertible(
        f"{where} has no Gateway API form (only `/p(/|$)(.*)` + `/t/$2`, `/p/(.*)` + `/t/$1` and literal targets "
        "convert): rewrite in the application, or split the path into PathPrefix rules with ReplacePrefixMatch"
    )


def convert_path(
    path: str, path_type: str, *, regex_host: bool, rewrite_target: str | None
) -> PathResult | NotConvertible:
    """One Ingress path as ingress-nginx serves it on a host in regex mode or not."""
    if regex_host:
        if rewrite_target:
            return _capture_rewrite(path, rewrite_target)
        if path == "/":  # `~* "^/"` matches every path: PathPrefix / is the same, and sorts last like it
            return PathResult(matches=(_match("PathPrefix", "/"),))
        if problem := regex_problem(path):
            return NotConvertible(f"path {path!r} {problem} (the host is in regex mode)")
        return PathResult(matches=(_match("RegularExpression", nginx_regex(path)),), regex=True)
    if path_type == "Exact":
        return PathResult(matches=(_match("Exact", path),))
    if path == "/" or (path_type == "Prefix" and not path.endswith("/")):
        return PathResult(matches=(_match("PathPrefix", path),))
    if path.endswith("/"):
        return PathResult(matches=(_match("PathPrefix", path),), bare_redirect=path.rstrip("/"))
    # ImplementationSpecific without a trailing slash: a plain nginx prefix.
    return PathResult(matches=(_match("RegularExpression", escape(path) + ".*"),), regex=True)
