"""Deterministic, length-bounded resource names: a readable part plus a hash of what makes them unique."""

from __future__ import annotations

import hashlib
import re


def short_hash(*parts: object, length: int = 8) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:length]


def bounded_name(
    readable: str, *unique: object, max_length: int = 32, lowercase: bool = False, prefix: str = "pt"
) -> str:
    """`<prefix>-<readable>-<hash>`: letters, digits and single hyphens, within `max_length`.

    The hash covers every part that must make the name unique (cluster, Gateway, resource id
    and immutable settings), so a resource replaced for an immutable change gets a new name.
    """
    suffix = short_hash(*unique)
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", readable).strip("-")
    if lowercase:
        cleaned = cleaned.lower()
    room = max_length - len(prefix) - len(suffix) - 2
    cleaned = cleaned[: max(room, 0)].strip("-")
    name = f"{prefix}-{cleaned}-{suffix}" if cleaned else f"{prefix}-{suffix}"
    return re.sub(r"-{2,}", "-", name)
