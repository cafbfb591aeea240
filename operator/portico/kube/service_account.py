"""In a pod: the service account's projected token, CA and namespace, as kopf and client-go find them.

Bound service-account tokens expire (an hour by default); the kubelet writes a new token into the
projected volume before that, swapping the file atomically (a new directory behind the `..data`
symlink). client-go re-reads the file periodically and after a 401; here it is re-read whenever
the file changed (one stat per request) and after a 401, so a rotated token is used at once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from portico.kube.client import Connection
from portico.kube.credentials import Credentials

log = logging.getLogger("portico.kube")

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"


class ServiceAccountToken(Credentials):
    """The token file's content as a bearer credential, read again when the file changes."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._guard = threading.Lock()
        self._seen: tuple[int, int, int, int] | None = None  # device, inode, size, mtime of the last read
        self._token: str | None = None
        self.reads = 0  # how many times the file was read (tests and logs)
        self.reload()

    def _signature(self) -> tuple[int, int, int, int]:
        info = self.path.stat()  # follows the kubelet's symlinks to the file of the current generation
        return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns

    def current(self) -> str | None:
        try:
            changed = self._signature() != self._seen
        except OSError as error:
            log.warning("service account token %s unreadable, keeping the last one: %s", self.path, error)
            changed = False
        if changed:
            self.reload()
        return f"Bearer {self._token}" if self._token else None

    def reload(self) -> None:
        with self._guard:
            try:
                signature = self._signature()
                token = self.path.read_text(encoding="utf-8").strip()
            except OSError as error:
                if self._token is None:
                    raise
                log.warning("service account token %s unreadable, keeping the last one: %s", self.path, error)
                return
            self._seen, self._token = signature, token or None
            self.reads += 1


def service_account_connection(directory: Path = SERVICE_ACCOUNT_DIR) -> Connection | None:
    """The in-cluster connection when `directory` holds a service-account token, else None."""
    token_path = directory / "token"
    if not token_path.exists():
        return None
    credentials = ServiceAccountToken(token_path)
    ca_path = directory / "ca.crt"
    return Connection(
        server=IN_CLUSTER_SERVER,
        token=(credentials.current() or "").removeprefix("Bearer ") or None,
        ca_path=str(ca_path) if ca_path.exists() else None,
        credentials=credentials,
    )
