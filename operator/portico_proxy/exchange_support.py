"""The parts of an exchange that need no state of their own: the request a filtered route sends,
whether a failed request may be tried again, and the record of a finished one."""

from __future__ import annotations

from portico_proxy.context import Context
from portico_proxy.filters import apply_all
from portico_proxy.messages import RequestHead, add_forwarded
from portico_proxy.rules import CompiledBackend, FilterSet
from portico_proxy.sink import OutgoingRequest

NO_ROUTE = "-"
NO_ROUTE_MESSAGE = "no route matches this request"
# RFC 9110 9.2.2; only requests without a body are retried (a body is not kept once sent).
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})


def may_retry(head: RequestHead, h2c: bool) -> bool:
    """On an HTTP/1.1 backend connection found closed before any answer byte (h2c streams fail
    with their connection, which the pool replaces)."""
    return not h2c and not head.has_body and head.method in IDEMPOTENT


def filtered_request(head: RequestHead, rf: FilterSet, bf: FilterSet) -> OutgoingRequest:
    """The request after the rule's then the backend's request filters."""
    headers = head.headers
    if rf.request_mods:
        headers = apply_all(rf.request_mods, headers)
    if bf.request_mods:
        headers = apply_all(bf.request_mods, headers)
    authority = bf.rewrite_host or rf.rewrite_host or head.authority
    path_mod = bf.rewrite_path or rf.rewrite_path
    target = head.target
    if path_mod is not None:
        new_path = path_mod.apply(head.path)
        target = new_path + b"?" + head.query if head.query else new_path
    headers = add_forwarded(head, headers, False)
    return OutgoingRequest(
        head.method, target, authority, headers, head.has_body, head.content_length, head.te_trailers
    )


def record(
    ctx: Context, head: RequestHead, route: str, compiled: CompiledBackend | None, status: int, elapsed: float
) -> None:
    """Metrics (the backend caches its stats entry) and, when sampled, an access log line."""
    metrics = ctx.metrics
    if compiled is not None and compiled.metrics is metrics and compiled.stats is not None:
        compiled.stats.record(status, elapsed)
    else:
        stats = metrics.stats(route, compiled.label if compiled is not None else NO_ROUTE)
        stats.record(status, elapsed)
        if compiled is not None:
            compiled.metrics, compiled.stats = metrics, stats
    access_log = ctx.access_log
    if access_log.enabled and access_log.wanted():
        access_log.write(
            {
                "client": head.client_ip.decode("latin-1"),
                "method": head.method.decode("latin-1"),
                "host": head.authority.decode("latin-1"),
                "path": head.path.decode("latin-1"),
                "status": status,
                "route": route,
                "backend": compiled.label if compiled is not None else NO_ROUTE,
                "duration_ms": round(elapsed * 1000, 3),
                "protocol": head.version.decode(),
            }
        )
