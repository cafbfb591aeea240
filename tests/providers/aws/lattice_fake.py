"""A small stateful VPC Lattice behind the real boto3 client: transport, helpers, tags.

moto implements only create/get/list for Lattice. This fake answers every operation the
provider uses, deletes and updates included, at the HTTP level: a botocore `before-send`
hook receives the request boto3 serialised (REST-JSON, path parameters URL-encoded), routes
it by the service model's URI templates, and returns an HTTP response botocore parses as it
would AWS's. Constraints mirror the API reference: unique names, one priority per rule in a
listener, no deleting a service network with associations, a service still associated, or a
target group that a rule uses or that has targets.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ACCOUNT = "123456789012"
PAGE = 3  # small pages, so the provider's pagination is exercised


class LatticeError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str, ident: str) -> LatticeError:
    return LatticeError(404, "ResourceNotFoundException", f"{what} {ident} not found")


def conflict(message: str) -> LatticeError:
    return LatticeError(409, "ConflictException", message)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class LatticeCore:
    def __init__(self, region: str) -> None:
        import botocore.session

        self.region = region
        self.model = botocore.session.get_session().get_service_model("vpc-lattice")
        self.routes: list[tuple[str, re.Pattern[str], str]] = []
        for name in self.model.operation_names:
            http = self.model.operation_model(name).http
            template = http["requestUri"].split("?")[0]
            pattern = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", template)
            self.routes.append((http["method"], re.compile(f"^{pattern}$"), name))
        # Literal paths before templated ones (`/services/x/listeners` vs `/services/{id}`).
        self.routes.sort(key=lambda r: -len(re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "", r[1].pattern)))
        self.counter = itertools.count(1)
        self.networks: dict[str, dict[str, Any]] = {}
        self.vpc_associations: dict[str, dict[str, Any]] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.service_associations: dict[str, dict[str, Any]] = {}
        self.listeners: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self.target_groups: dict[str, dict[str, Any]] = {}
        self.targets: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.client_tokens: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    # -- transport -------------------------------------------------------------------------
    def __call__(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        url = urlsplit(request.url)
        if not url.netloc.startswith("vpc-lattice."):
            return None
        route = next(
            (
                (name, found)
                for method, pattern, name in self.routes
                if method == request.method and (found := pattern.match(url.path))
            ),
            None,
        )
        if route is None:
            return self._error(request.url, LatticeError(404, "UnknownOperationException", url.path))
        name, found = route
        params: dict[str, Any] = {k: unquote(v) for k, v in found.groupdict().items()}
        for key, values in parse_qs(url.query).items():
            params[key] = values if key == "tagKeys" else values[0]
        if request.body:
            body = request.body.read() if hasattr(request.body, "read") else request.body
            params.update(json.loads(body or b"{}"))
        self._advance()
        handler: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, _snake(name))
        try:
            out = self._idempotent(name, params, handler)
        except LatticeError as error:
            return self._error(request.url, error)
        status = self.model.operation_model(name).http.get("responseCode", 200)
        return AWSResponse(request.url, status, {"Content-Type": "application/json"}, _Raw(json.dumps(out).encode()))

    def _idempotent(self, name: str, params: dict[str, Any], handler: Callable[..., dict[str, Any]]) -> Any:
        """clientToken as Lattice keeps it: a retry with the same token and request gets the first
        answer; the same token with another request is a ConflictException."""
        token = params.pop("clientToken", None)
        if token is None:
            return handler(params)
        seen = self.client_tokens.get((name, token))
        if seen is not None:
            if seen[0] != params:
                raise conflict(f"clientToken {token} was used with another request")
            return seen[1]
        request = json.loads(json.dumps(params))
        out = handler(params)
        self.client_tokens[(name, token)] = (request, out)
        return out

    def _advance(self) -> None:
        """Called before every request: asynchronous work moves on (see lattice_states.py)."""

    @staticmethod
    def _error(url: str, error: LatticeError) -> Any:
        from botocore.awsrequest import AWSResponse

        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.code}
        return AWSResponse(url, error.status, headers, _Raw(json.dumps({"message": error.message}).encode()))

    # -- helpers ---------------------------------------------------------------------------
    def _new(self, prefix: str, path: str, tags: dict[str, str] | None) -> tuple[str, str]:
        ident = f"{prefix}-{next(self.counter):017x}"
        arn = f"arn:aws:vpc-lattice:{self.region}:{ACCOUNT}:{path}{ident}"
        self.tags[arn] = dict(tags or {})
        return ident, arn

    @staticmethod
    def _find(table: dict[str, dict[str, Any]], ident: str, what: str) -> dict[str, Any]:
        for item in table.values():
            if ident in (item["id"], item["arn"]):
                return item
        raise not_found(what, ident)

    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        start = int(params.get("nextToken", 0))
        out: dict[str, Any] = {"items": items[start : start + PAGE]}
        if start + PAGE < len(items):
            out["nextToken"] = str(start + PAGE)
        return out

    def _arn_of_group(self, ident: str) -> str:
        return str(self._find(self.target_groups, ident, "target group")["arn"])

    def _uses(self, action: dict[str, Any]) -> set[str]:
        return {
            self._arn_of_group(g["targetGroupIdentifier"]) for g in action.get("forward", {}).get("targetGroups", [])
        }

    # -- tags ------------------------------------------------------------------------------
    def list_tags_for_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        if p["resourceArn"] not in self.tags:
            raise not_found("resource", p["resourceArn"])
        return {"tags": self.tags[p["resourceArn"]]}

    def tag_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        self.list_tags_for_resource(p)
        self.tags[p["resourceArn"]].update(p["tags"])
        return {}

    def untag_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        self.list_tags_for_resource(p)
        for key in p.get("tagKeys", []):
            self.tags[p["resourceArn"]].pop(key, None)
        return {}
