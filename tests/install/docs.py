"""Reading the shell commands out of the quick starts, as a user would copy them."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm

REAL_CLUSTER = "# needs a real cluster"
CHECKED = "# checked by the tests"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Block:
    language: str
    marker: str
    commands: tuple[list[str], ...]
    text: str


def blocks(path: Path) -> list[Block]:
    out = []
    for language, body in _FENCE.findall(path.read_text()):
        lines = body.replace("\\\n", " ").splitlines()
        marker = lines[0] if lines and lines[0].startswith("#") else ""
        commands = tuple(shlex.split(line.rstrip(" &")) for line in lines if line.strip() and not line.startswith("#"))
        out.append(Block(language, marker, commands, body))
    return out


def shell_blocks(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.language == "sh"]


def option(command: list[str], *names: str) -> str | None:
    for index, word in enumerate(command):
        for name in names:
            if word == name and index + 1 < len(command):
                return command[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def helm_set_values(command: list[str]) -> dict[str, Any]:
    """The values a `helm install ... --set a=b --set c=d` command passes, parsed by Helm's own parser."""
    sets = [command[i + 1] for i, word in enumerate(command) if word == "--set"]
    return helm.parse_set_string(",".join(sets)) if sets else {}
