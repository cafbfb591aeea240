"""A service-account volume laid out as the kubelet projects it, for the token-rotation tests."""

from __future__ import annotations

from pathlib import Path


def project_token(directory: Path, generation: int, token: str) -> None:
    """Write `token` as the kubelet's atomic writer does: the files go into a new directory, then the
    `..data` symlink is swapped to it by a rename; `token` and `namespace` link through `..data`."""
    data = directory / f"..generation-{generation}"
    data.mkdir()
    (data / "token").write_text(token)
    (data / "namespace").write_text("portico-system")
    swap = directory / "..data_tmp"
    swap.symlink_to(data.name)
    swap.replace(directory / "..data")
    for name in ("token", "namespace"):
        if not (directory / name).is_symlink():
            (directory / name).symlink_to(f"..data/{name}")
