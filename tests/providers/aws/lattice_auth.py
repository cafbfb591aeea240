"""The fake VPC Lattice's auth policies (PutAuthPolicy, GetAuthPolicy, DeleteAuthPolicy).

One policy per service network or service, as the API reference describes: a JSON document
without newlines, at most 102400 characters; `state` is Active while the resource's authType is
AWS_IAM, else Inactive; a resource without a policy answers ResourceNotFoundException.
"""

from __future__ import annotations

import json
from typing import Any

from tests.providers.aws.lattice_fake import LatticeError, not_found

MAX_POLICY = 102400


class AuthPolicies:
    """Mixed into the fake, which has `networks`, `services` and `_find`."""

    networks: dict[str, dict[str, Any]]
    services: dict[str, dict[str, Any]]

    def _init_auth(self) -> None:
        self.auth_policies: dict[str, str] = {}  # resource ARN -> policy text

    def _protected(self, ident: str) -> dict[str, Any]:
        for table in (self.networks, self.services):
            for item in table.values():
                if ident in (item["id"], item["arn"]):
                    return item
        raise not_found("resource", ident)

    def put_auth_policy(self, p: dict[str, Any]) -> dict[str, Any]:
        resource = self._protected(p["resourceIdentifier"])
        policy = p["policy"]
        if "\n" in policy or len(policy) > MAX_POLICY:
            raise LatticeError(400, "ValidationException", "policy: one line of at most 102400 characters")
        try:
            json.loads(policy)
        except ValueError as error:
            raise LatticeError(400, "ValidationException", f"policy: not JSON: {error}") from error
        self.auth_policies[resource["arn"]] = policy
        return {"policy": policy, "state": self._state(resource)}

    def get_auth_policy(self, p: dict[str, Any]) -> dict[str, Any]:
        resource = self._protected(p["resourceIdentifier"])
        if resource["arn"] not in self.auth_policies:
            raise not_found("auth policy of", resource["arn"])
        return {"policy": self.auth_policies[resource["arn"]], "state": self._state(resource)}

    def delete_auth_policy(self, p: dict[str, Any]) -> dict[str, Any]:
        resource = self._protected(p["resourceIdentifier"])
        if self.auth_policies.pop(resource["arn"], None) is None:
            raise not_found("auth policy of", resource["arn"])
        return {}

    @staticmethod
    def _state(resource: dict[str, Any]) -> str:
        return "Active" if resource.get("authType") == "AWS_IAM" else "Inactive"
