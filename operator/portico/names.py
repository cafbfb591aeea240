"""Kubernetes object-name rules, as the API server applies them (apimachinery's validation package).

Input files never reach an API server in `portico status`/`serve`, so the CLI applies the same rules
and answers what `kubectl apply` would.
"""

from __future__ import annotations

import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(_LABEL)
DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")

LABEL_WHAT = "DNS-1123 label (lowercase letters, digits and '-')"
DNS1035_WHAT = "DNS-1035 label (lowercase letters, digits and '-', starting with a letter)"
SUBDOMAIN_WHAT = "DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"
# Kinds whose names are DNS labels rather than subdomains (they become DNS names or env prefixes).
LABEL_NAMED_KINDS = {"Namespace": DNS1123_LABEL, "Service": DNS1035_LABEL}


def _problem(value: object, pattern: re.Pattern[str], limit: int, what: str) -> str | None:
    if not isinstance(value, str):
        return "missing" if value is None else f"a {type(value).__name__}, not a string"
    if not value:
        return "empty"
    if len(value) > limit:
        return f"{len(value)} characters; Kubernetes allows at most {limit}"
    if not pattern.fullmatch(value):
        return f"{value!r} is not a valid {what}"
    return None


def name_problem(kind: str, name: object) -> str | None:
    """Why `name` cannot name an object of `kind`, or None."""
    pattern = LABEL_NAMED_KINDS.get(kind)
    if pattern is DNS1035_LABEL:
        return _problem(name, pattern, DNS1123_LABEL_MAX, DNS1035_WHAT)
    if pattern is DNS1123_LABEL:
        return _problem(name, pattern, DNS1123_LABEL_MAX, LABEL_WHAT)
    return _problem(name, DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MAX, SUBDOMAIN_WHAT)


def namespace_problem(namespace: object) -> str | None:
    return _problem(namespace, DNS1123_LABEL, DNS1123_LABEL_MAX, LABEL_WHAT)
