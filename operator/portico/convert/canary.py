"""Canary Ingresses as extra rules next to the main Ingress's rule for the same host and path.

ingress-nginx decides per request, in this order (balancer.lua `route_to_alternative_balancer`):
1. `canary-by-header` present: with `canary-by-header-value`, that exact value goes to the canary
   (`always` is just another value); else with `canary-by-header-pattern`, a PCRE search; else
   `always` goes to the canary and `never` to the main backend. Any other value falls through.
2. `canary-by-cookie`: `always` -> canary, `never` -> main, anything else falls through.
3. `canary-weight` out of `canary-weight-total` (default 100) -> canary, else main.
Rules with one header match tie on Gateway API precedence, so rule order inside the route decides:
the rules are emitted in exactly that order, before the main rule that carries the weights.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from portico.convert.model import Ingress
from portico.convert.paths import escape, regex_problem
from portico.convert.report import Finding, Outcome

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,256}$")


def _with_header(rule: dict[str, Any], header: dict[str, str], backends: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(rule)
    out["matches"] = [{**m, "headers": [*m.get("headers", []), header]} for m in (rule.get("matches") or [{}])]
    out["backendRefs"] = copy.deepcopy(backends)
    return out


def _cookie(name: str, value: str) -> dict[str, str]:
    # nginx's $cookie_NAME: the cookie named NAME anywhere in the Cookie header.
    pattern = rf"(?:.*;\s*)?{escape(name)}={value}(?:;.*)?"
    return {"type": "RegularExpression", "name": "cookie", "value": pattern}


def _int(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    return int(value) if value.isdigit() else None


def canary_rules(
    canary: Ingress, main_rule: dict[str, Any], canary_backend: dict[str, Any], subject: str
) -> tuple[list[dict[str, Any]], dict[str, Any], list[Finding]]:
    """Rules to place before the main rule, the main rule with the weights, and the findings."""
    findings: list[Finding] = []
    main_backends = main_rule.get("backendRefs", [])
    before: list[dict[str, Any]] = []

    def note(name: str, outcome: Outcome, message: str) -> None:
        findings.append(Finding(canary.key, name, outcome, f"{subject}: {message}"))

    header = canary.nginx("canary-by-header")
    value, pattern = canary.nginx("canary-by-header-value"), canary.nginx("canary-by-header-pattern")
    if header:
        if not _HEADER_NAME.match(header):
            note("canary-by-header", Outcome.NOT_CONVERTIBLE, f"{header!r} is not a valid header name")
        elif value:
            before.append(_with_header(main_rule, {"name": header, "value": value}, [canary_backend]))
            note("canary-by-header-value", Outcome.EXACT, f"{header}: {value} -> canary; other values fall through")
            note(
                "canary-by-header",
                Outcome.EXACT,
                f"{header}: only the value {value!r} is special (always/never are not)",
            )
        elif pattern:
            search = f".*(?:{pattern}).*"
            if problem := regex_problem(search):
                note("canary-by-header-pattern", Outcome.NOT_CONVERTIBLE, f"{pattern!r} {problem}")
            else:
                match = {"type": "RegularExpression", "name": header, "value": search}
                before.append(_with_header(main_rule, match, [canary_backend]))
                note("canary-by-header-pattern", Outcome.EXACT, f"{header} matching {pattern!r} -> canary")
                note(
                    "canary-by-header",
                    Outcome.EXACT,
                    f"{header}: only the pattern decides (always/never are not special)",
                )
        else:
            before.append(_with_header(main_rule, {"name": header, "value": "always"}, [canary_backend]))
            before.append(_with_header(main_rule, {"name": header, "value": "never"}, main_backends))
            note("canary-by-header", Outcome.EXACT, f"{header}: always -> canary, never -> main, others fall through")
    if cookie := canary.nginx("canary-by-cookie"):
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+", cookie):
            note("canary-by-cookie", Outcome.NOT_CONVERTIBLE, f"{cookie!r} is not a valid cookie name")
        else:
            before.append(_with_header(main_rule, _cookie(cookie, "always"), [canary_backend]))
            before.append(_with_header(main_rule, _cookie(cookie, "never"), main_backends))
            note(
                "canary-by-cookie",
                Outcome.DIFFERENCE,
                f"cookie {cookie}=always -> canary, =never -> main, as a regex on the Cookie header; HTTP/2 "
                "clients may send each cookie in a header of its own, and only the first Cookie header is matched",
            )
    weighted = copy.deepcopy(main_rule)
    weight, total = _int(canary.nginx("canary-weight"), 0), _int(canary.nginx("canary-weight-total"), 100)
    if weight is None or total is None:
        note("canary-weight", Outcome.NOT_CONVERTIBLE, "canary-weight(-total) must be whole numbers")
    elif weight > 0:
        total = max(total, 100)  # ingress-nginx uses a total below 100 as 100
        share = min(weight, total)
        main_refs = [{**b, "weight": total - share} for b in main_backends] if len(main_backends) == 1 else None
        if main_refs is None:
            note("canary-weight", Outcome.NOT_CONVERTIBLE, "the main rule has no single backend to share weight with")
        else:
            weighted["backendRefs"] = [*main_refs, {**canary_backend, "weight": share}]
            note("canary-weight", Outcome.EXACT, f"weights {total - share}:{share} (main:canary)")
    if canary.nginx("canary-weight-total") is not None and weight:
        note("canary-weight-total", Outcome.EXACT, "used as the sum of the weights")
    return before, weighted, findings
