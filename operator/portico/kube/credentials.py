"""Bearer tokens that outlive one token: exec plugins and projected service-account tokens expire.

Every client Portico runs (its own `KubeClient` and kopf's, through the login handler) asks a
`Credentials` for the header on each request and after a 401, as client-go does:

- a kubeconfig (`KubeconfigCredentials`): the `kubernetes` client package reads it and runs the exec
  plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`) as kubectl does, again when the
  token's `expirationTimestamp` is near (its refresh hook, five minutes ahead); a 401 makes us read
  the kubeconfig again from scratch;
- a pod's service account (`portico.kube.service_account`): the kubelet replaces the token file
  before the token expires; the file is read again when it changed and after a 401.

Reading can block (a plugin is a subprocess), so it happens in a thread, one refresh at a time.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


class Credentials(ABC):
    """A bearer credential that may change while the operator runs."""

    def __init__(self) -> None:
        self._refreshing: asyncio.Lock | None = None

    @abstractmethod
    def current(self) -> str | None:
        """Blocking: the Authorization header value to send now ("Bearer ..."), refreshed if expired."""

    @abstractmethod
    def reload(self) -> None:
        """Blocking: read the credential again from its source (after the server refused it)."""

    def _lock(self) -> asyncio.Lock:
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        return self._refreshing

    async def authorization(self) -> str | None:
        """The Authorization header to send now."""
        async with self._lock():
            return await asyncio.to_thread(self.current)

    async def refused(self, sent: str | None) -> str | None:
        """The server answered 401 to `sent`: a new header, read again unless another request already did."""
        async with self._lock():
            current = await asyncio.to_thread(self.current)
            if current != sent:
                return current
            await asyncio.to_thread(self.reload)
            return await asyncio.to_thread(self.current)


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


class KubeconfigCredentials(Credentials):
    """The current context's credentials, refreshed when they expire or are refused."""

    def __init__(self) -> None:
        super().__init__()
        self._configuration = _load_configuration()
        self._guard = threading.Lock()  # the kubeconfig loader is not safe to run twice at once
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

    def current(self) -> str | None:
        return self.view().authorization

    def reload(self) -> None:
        """Blocking: read the kubeconfig again, running its exec plugin for a new credential."""
        configuration = _load_configuration()
        with self._guard:
            self._configuration = configuration
            self.loads += 1
