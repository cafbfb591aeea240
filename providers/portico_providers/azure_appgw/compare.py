"""Desired vs observed Application Gateway in a canonical form: what differs, and the body to PUT.

Azure answers with more than Portico sends (ids, etags, defaults it fills in, read-only state),
so the comparison asks whether everything Portico wants is there: objects compare key by key
on the desired side, named collections by their set of names and then item by item, path rules
in order (their order is the routing), resource ids ignoring case (ARM does), certificate
uploads by name only (the PFX is write-only; the name carries the Secret's fingerprint), tags
as a subset (tags someone else added stay).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

ORDERED = frozenset({"pathRules", "rewriteRules"})
UNORDERED_SCALARS = frozenset({"zones"})


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def differences(desired: Any, observed: Any, path: str = "") -> list[str]:
    """Dotted paths where `observed` lacks what `desired` says; empty means nothing to do."""
    if isinstance(desired, dict):
        if not isinstance(observed, dict):
            return [path or "."]
        if path.endswith("sslCertificates[]"):
            vault = (desired.get("properties") or {}).get("keyVaultSecretId")
            return [] if vault == ((observed.get("properties") or {}).get("keyVaultSecretId") or None) else [path]
        out: list[str] = []
        for key, value in desired.items():
            where = f"{path}.{key}" if path else key
            if key == "tags":
                mine = value or {}
                theirs = observed.get(key) or {}
                if any(theirs.get(k) != v for k, v in mine.items()):
                    out.append(where)
                continue
            out += differences(value, observed.get(key), where)
        return out
    if isinstance(desired, list):
        theirs = observed or []
        if not isinstance(theirs, list):
            return [path]
        if _named(desired) or (not desired and _named(theirs)):
            names = [str(i["name"]).lower() for i in desired]
            seen = [str(i["name"]).lower() for i in theirs]
            ordered = path.rsplit(".", 1)[-1] in ORDERED
            if (names != seen) if ordered else (sorted(names) != sorted(seen)):
                return [path]
            by_name = {str(i["name"]).lower(): i for i in theirs}
            return [d for item in desired for d in differences(item, by_name[str(item["name"]).lower()], path + "[]")]
        if path.rsplit(".", 1)[-1] in UNORDERED_SCALARS:
            return [] if sorted(map(str, desired)) == sorted(map(str, theirs)) else [path]
        if len(desired) != len(theirs):
            return [path]
        return [d for index, item in enumerate(desired) for d in differences(item, theirs[index], f"{path}[{index}]")]
    if path.endswith(".id") and isinstance(desired, str) and isinstance(observed, str):
        return [] if desired.lower() == observed.lower() else [path]
    if desired is None:
        return []
    return [] if desired == observed else [path]


def sections(paths: list[str]) -> list[str]:
    """`properties.httpListeners[].properties.protocol` -> `httpListeners` (what a plan shows)."""
    out: list[str] = []
    for path in paths:
        parts = path.split(".")
        head = parts[1] if parts[0] == "properties" and len(parts) > 1 else parts[0]
        head = head.split("[")[0]
        if head not in out:
            out.append(head)
    return out


def merged_body(desired: Mapping[str, Any], observed: Mapping[str, Any] | None) -> dict[str, Any]:
    """The whole gateway to PUT: what is there (writable parts), with Portico's sections replaced.

    Sections Portico does not manage (custom error pages, trusted roots, a WAF configuration
    someone set, extra tags) are sent back as they are, so a PUT never drops them.
    """
    body: dict[str, Any] = copy.deepcopy(dict(observed or {}))
    for key in ("id", "name", "type", "etag"):
        body.pop(key, None)
    for key, value in desired.items():
        if key == "tags":
            body["tags"] = {**(body.get("tags") or {}), **value}
        elif key == "properties":
            body.setdefault("properties", {}).update(copy.deepcopy(value))
        else:
            body[key] = copy.deepcopy(value)
    return body
