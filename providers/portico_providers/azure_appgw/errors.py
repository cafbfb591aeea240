"""What Azure's errors mean to the kit (`ErrorClassifier`): gone, transient, conflict, invalid input."""

from __future__ import annotations

from portico_providers.azure_appgw.arm import code_of, describe, is_transient, status_of
from portico_providers.kit.execute import ErrorKind

# Work Azure cannot do yet (another operation, a resource still provisioning or in use): look again later.
CONFLICT_CODES = frozenset(
    {
        "AnotherOperationInProgress",
        "PreconditionFailed",
        "ReferencedResourceNotProvisioned",
        "PublicIPAddressCannotBeDeleted",
        "PublicIPAddressInUse",
        "InUseSubnetCannotBeDeleted",
        "RetryableError",
    }
)


class AzureErrors:
    def classify(self, error: BaseException) -> ErrorKind | None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        if not isinstance(error, AzureError):
            return None
        if isinstance(error, ResourceNotFoundError) or status_of(error) == 404:
            return ErrorKind.GONE
        if is_transient(error):
            return ErrorKind.TRANSIENT
        if code_of(error) in CONFLICT_CODES or status_of(error) in (409, 412):
            return ErrorKind.CONFLICT
        return ErrorKind.INVALID_INPUT

    def describe(self, error: BaseException) -> str:
        return describe(error)
