"""Bearer tokens from a kubeconfig that outlive one token: exec plugins hand out short-lived ones.

The `kubernetes` client package reads the kubeconfig and runs the exec plugin (`aws eks get-token`,
`gke-gcloud-auth-plugin`, `kubelogin`) as kubectl does. It runs the plugin again when the token's
`expirationTimestamp` is near (its refresh hook, five minutes ahead); a 401 from the API server
(revoked, rotated, or a clock that disagrees) makes us read the kubeconfig again from scratch.
Running a plugin is a blocking subprocess, so it happens in a thread, one refresh at a time.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KubeconfigView:
    """What one read of the kubeconfig's current context gives."""

    server: str
    authorization: str | None  # the whole header value, "Bearer ..."
    ca_path: str | None
    insecure: bool
    certificate_path: str | None
    private_key_path: str | None


class NoKubeconfig(Exception):
    """Neither $KUBECONFIG nor ~/.kube/config holds a configuration."""


def _load_configuration() -> Any:
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        config.load_kube_config(client_configuration=configuration, persist_config=False)  # type: ignore[no-untyped-call]
    except config.ConfigException as error:
        if "Invalid kube-config file. No configuration found" in str(error):
            raise NoKubeconfig(str(error)) from error
        raise ValueError(str(error)) from error
    return configuration


def _authorization(configuration: Any) -> str | None:
    # "BearerToken" in recent client versions, "authorization" in older ones; with its "Bearer " prefix.
    # Asking for it runs the client's refresh hook, which re-runs an exec plugin whose token expired.
    value = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
    return str(value) if value else None


class KubeconfigCredentials:
    """The current context's credentials, refreshed when they expire or are refused."""

    def __init__(self) -> None:
        self._configuration = _load_configuration()
        self._guard = threading.Lock()  # the kubeconfig loader is not safe to run twice at once
        self._refreshing: asyncio.Lock | None = None
        self.loads = 1  # how many times the kubeconfig was read (tests and logs)

    def view(self) -> KubeconfigView:
        """Blocking: may run the exec plugin when the token has expired."""
        with self._guard:
            configuration = self._configuration
            return KubeconfigView(
                server=str(configuration.host),
                authorization=_authorization(configuration),
                ca_path=configuration.ssl_ca_cert,
                insecure=not configuration.verify_ssl,
                certificate_path=configuration.cert_file,
                private_key_path=configuration.key_file,
            )

    def reload(self) -> None:
        """Blocking: read the kubeconfig again, running its exec plugin for a new credential."""
        configuration = _load_configuration()
        with self._guard:
            self._configuration = configuration
            self.loads += 1

    def _lock(self) -> asyncio.Lock:
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        return self._refreshing

    async def authorization(self) -> str | None:
        """The Authorization header to send now (refreshed first if the token expired)."""
        async with self._lock():
            view = await asyncio.to_thread(self.view)
        return view.authorization

    async def refused(self, sent: str | None) -> str | None:
        """The server answered 401 to `sent`: a new header, read again unless another request already did."""
        async with self._lock():
            current = (await asyncio.to_thread(self.view)).authorization
            if current != sent:
                return current
            await asyncio.to_thread(self.reload)
            return (await asyncio.to_thread(self.view)).authorization
