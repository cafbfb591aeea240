"""The fake Compute API served over real HTTP on 127.0.0.1, for the real google-cloud-compute clients."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.providers.gcp.fake_groups import change_instances, list_instances
from tests.providers.gcp.fake_model import RESOURCES, VERB_BODIES, ModelError, parse
from tests.providers.gcp.fake_state import ComputeError, ComputeState, permission

AGGREGATED = re.compile(r"^/compute/v1/projects/(?P<project>[^/]+)/aggregated/(?P<coll>[A-Za-z]+)$")
PATH = re.compile(
    r"^/compute/v1/projects/(?P<project>[^/]+)/(?P<scope>global|regions/[^/]+|zones/[^/]+)"
    r"/(?P<coll>[A-Za-z]+)(?:/(?P<name>[^/]+)(?:/(?P<verb>[A-Za-z]+))?)?$"
)
# What each custom verb sets on the resource: verb -> (body field, resource field)
SETTERS = {
    "setUrlMap": ("urlMap", "urlMap"),
    "setSslCertificates": ("sslCertificates", "sslCertificates"),
    "setTarget": ("target", "target"),
    "setNamedPorts": ("namedPorts", "namedPorts"),
}
# Instance group verbs are checked as the group's update (or list) permission.
GROUP_VERBS = {
    "addInstances": "update",
    "removeInstances": "update",
    "setNamedPorts": "update",
    "listInstances": "list",
}
READ_VERBS = ("listNetworkEndpoints", "listInstances")
# Compute's own quirk: these global verbs have no `/global/` in their path.
GLOBAL_VERB = re.compile(
    r"^/compute/v1/projects/(?P<project>[^/]+)/(?P<coll>targetHttpProxies|targetHttpsProxies)"
    r"/(?P<name>[^/]+)/(?P<verb>setUrlMap|setSslCertificates)$"
)
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
PAGE_SIZE = 500


class _Handler(BaseHTTPRequestHandler):
    state: ComputeState
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one small answer per request: no delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on `state.calls`."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        try:
            status, answer = 200, self._route(method, url.path, parse_qs(url.query), raw)
        except ComputeError as error:
            status, answer = error.status, error.body()
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> dict[str, Any]:
        state = self.state
        # The SDK sends the client's user agent in x-goog-api-client (its REST session keeps its own User-Agent).
        agent = f"{self.headers.get('User-Agent', '')} {self.headers.get('x-goog-api-client', '')}"
        state.portico_calling = "portico-gateway" in agent
        aggregated = AGGREGATED.match(path)
        if aggregated and method == "GET" and aggregated["project"] == state.project:
            with state.lock:
                state.calls.append((method, path))
                state.tick()
                injected = state.faults.next_status(method, aggregated["coll"])
                if injected is not None:
                    raise ComputeError(injected, state.faults.reason(injected), f"injected {injected}")
                return self._aggregated(aggregated["coll"])
        match = PATH.match(path)
        quirk = GLOBAL_VERB.match(path)
        if quirk and quirk["project"] == state.project:
            scope, coll, name, verb = "global", quirk["coll"], quirk["name"], quirk["verb"]
        elif (
            match
            and match["project"] == state.project
            and not (match["scope"] == "global" and match["verb"] in ("setUrlMap", "setSslCertificates"))
        ):
            scope, coll, name, verb = match["scope"], match["coll"], match["name"], match["verb"]
        else:
            raise ComputeError(404, "notFound", f"no such endpoint: {method} {path}")
        with state.lock:
            state.calls.append((method, path))
            state.tick()
            injected = state.faults.next_status(method, coll)
            changing = method in MUTATING and coll != "operations" and verb not in READ_VERBS
            if injected is None and changing and state.faults.refuse_next_change:
                state.faults.refuse_next_change = False
                injected = 400
            if injected is not None:
                raise ComputeError(injected, state.faults.reason(injected), f"injected {injected}")
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                raise ComputeError(400, "parseError", "Invalid JSON payload received.") from None
            if coll == "operations":
                if name is None or method not in ("GET", "POST"):
                    raise ComputeError(400, "invalid", "operations: only get and wait are served")
                state.grant(permission(scope, coll, "get"))
                return state.poll(scope, name)
            if coll not in RESOURCES:
                raise ComputeError(404, "notFound", f"collection {coll} is not served by the fake")
            return self._resource(method, scope, coll, name, verb, query, body)

    def _resource(
        self,
        method: str,
        scope: str,
        coll: str,
        name: str | None,
        verb: str | None,
        query: dict[str, list[str]],
        body: dict[str, Any],
    ) -> dict[str, Any]:
        state = self.state
        if name is None:
            if method == "GET":
                state.grant(permission(scope, coll, "list"))
                if "filter" in query:
                    raise ComputeError(400, "invalid", "filters are not served by the fake; list and select")
                return self._page(scope, coll, query)
            if method == "POST":
                state.grant(permission(scope, coll, "create"))
                answer = state.insert(scope, coll, body)
                if state.faults.lose_next_insert_answer:
                    state.faults.lose_next_insert_answer = False
                    raise ComputeError(503, "backendError", "the insert was accepted, its answer lost")
                return answer
            raise ComputeError(405, "invalid", f"{method} on a collection")
        key = (scope, coll, name)
        if verb is None:
            action = {"GET": "get", "DELETE": "delete", "PATCH": "update", "PUT": "update"}.get(method)
            if action is None:
                raise ComputeError(405, "invalid", f"{method} on a resource")
            state.grant(permission(scope, coll, action))
            if method == "GET":
                return state.get(key)
            if method == "DELETE":
                return state.delete(key)
            return state.replace(key, body, patch=method == "PATCH")
        body_type = VERB_BODIES.get((coll, verb, scope != "global" and not scope.startswith("zones/")))
        if body_type is None or method != "POST":
            raise ComputeError(404, "notFound", f"no such method: {coll}.{verb}")
        try:
            parse(body, body_type, verb)
        except ModelError as error:
            raise ComputeError(400, "invalid", str(error)) from None
        state.grant(permission(scope, coll, GROUP_VERBS.get(verb, verb) if coll == "instanceGroups" else verb))
        if verb in SETTERS:
            source, target = SETTERS[verb]
            if source not in body:
                raise ComputeError(400, "required", f"Required field '{source}' not specified")
            return state.set_field(key, verb, target, body[source])
        if verb == "listInstances":
            return list_instances(state, key)
        if verb in ("addInstances", "removeInstances"):
            return change_instances(state, key, verb, body.get("instances", []))
        if verb == "listNetworkEndpoints":
            state.get(key)
            items = [{"networkEndpoint": e, "healths": []} for e in state.endpoints.get(key, [])]
            return {"kind": "compute#networkEndpointGroupsListNetworkEndpoints", "items": items}
        return state.change_endpoints(key, verb, body.get("networkEndpoints", []))

    def _aggregated(self, coll: str) -> dict[str, Any]:
        """Every scope's resources of `coll` (one page: the fake never holds enough to page)."""
        if coll not in RESOURCES:
            raise ComputeError(404, "notFound", f"collection {coll} is not served by the fake")
        self.state.grant(f"compute.{coll}.list")
        scopes = sorted({s for (s, c, _) in self.state.resources if c == coll})
        items = {scope: {coll: self.state.list(scope, coll)} for scope in scopes}
        return {"kind": f"compute#{coll}AggregatedList", "items": items}

    def _page(self, scope: str, coll: str, query: dict[str, list[str]]) -> dict[str, Any]:
        items = self.state.list(scope, coll)
        size = min(int(query.get("maxResults", [PAGE_SIZE])[0]), PAGE_SIZE)
        start = int(query.get("pageToken", ["0"])[0] or 0)
        page: dict[str, Any] = {"kind": f"compute#{coll}List", "items": items[start : start + size]}
        if start + size < len(items):
            page["nextPageToken"] = str(start + size)
        return page


@contextmanager
def serve(state: ComputeState) -> Iterator[str]:
    """Serve `state` on 127.0.0.1; yields the endpoint for `client_options.api_endpoint`."""
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="compute-fake", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def mutating_calls(state: ComputeState, since: int = 0) -> list[tuple[str, str]]:
    """Calls after index `since` that change something (operation waits excluded)."""
    return [
        (method, path)
        for method, path in state.calls[since:]
        if method in MUTATING and "/operations/" not in path and not path.endswith(READ_VERBS)
    ]
