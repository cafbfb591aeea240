"""Gateway API filters normalised into IR filters."""

from __future__ import annotations

from collections.abc import Sequence

from portico.api import Snapshot
from portico.api.filters import HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter
from portico.ir import (
    CORSFilter,
    Filter,
    HeaderModifier,
    HeaderValue,
    PathModifier,
    PathModifierType,
    RequestHeaderModifierFilter,
    RequestMirrorFilter,
    RequestRedirectFilter,
    ResponseHeaderModifierFilter,
    URLRewriteFilter,
)
from portico.translate.backends import RefProblem, resolve_backend


def header_modifier(spec: HTTPHeaderFilter) -> HeaderModifier:
    return HeaderModifier(
        set=tuple(HeaderValue(name=h.name, value=h.value) for h in spec.set),
        add=tuple(HeaderValue(name=h.name, value=h.value) for h in spec.add),
        remove=tuple(name.lower() for name in spec.remove),
    )


def path_modifier(spec: HTTPPathModifier | None, matched_prefix: str | None) -> PathModifier | None:
    if spec is None:
        return None
    kind = PathModifierType(spec.type)
    return PathModifier(
        type=kind,
        value=spec.value,
        matched_prefix=matched_prefix if kind is PathModifierType.REPLACE_PREFIX_MATCH else None,
    )


def convert_filters(
    filters: Sequence[HTTPRouteFilter],
    *,
    snapshot: Snapshot,
    route_kind: str,
    route_namespace: str,
    matched_prefix: str | None,
) -> tuple[list[Filter], list[RefProblem]]:
    """IR filters in spec order; problems are invalid mirror or extension refs (ResolvedRefs=False)."""
    out: list[Filter] = []
    problems: list[RefProblem] = []
    for spec in filters:
        if spec.request_header_modifier is not None:
            out.append(RequestHeaderModifierFilter(modifier=header_modifier(spec.request_header_modifier)))
        elif spec.response_header_modifier is not None:
            out.append(ResponseHeaderModifierFilter(modifier=header_modifier(spec.response_header_modifier)))
        elif spec.request_redirect is not None:
            r = spec.request_redirect
            out.append(
                RequestRedirectFilter(
                    scheme=r.scheme,
                    hostname=r.hostname,
                    port=r.port,
                    path=path_modifier(r.path, matched_prefix),
                    status_code=r.status_code,
                )
            )
        elif spec.url_rewrite is not None:
            u = spec.url_rewrite
            out.append(URLRewriteFilter(hostname=u.hostname, path=path_modifier(u.path, matched_prefix)))
        elif spec.request_mirror is not None:
            m = spec.request_mirror
            backend, problem = resolve_backend(
                snapshot, m.backend_ref, route_kind=route_kind, route_namespace=route_namespace
            )
            if problem is not None:
                # An invalid mirror is reported and not configured; the main request is unaffected.
                problems.append(RefProblem(problem.reason, f"requestMirror: {problem.message}"))
                continue
            numerator, denominator = 100, 100
            if m.percent is not None:
                numerator = m.percent
            elif m.fraction is not None:
                numerator, denominator = m.fraction.numerator, m.fraction.denominator
            out.append(RequestMirrorFilter(backend=backend, numerator=numerator, denominator=denominator))
        elif spec.cors is not None:
            c = spec.cors
            out.append(
                CORSFilter(
                    allow_origins=c.allow_origins,
                    allow_credentials=bool(c.allow_credentials),
                    allow_methods=c.allow_methods,
                    allow_headers=c.allow_headers,
                    expose_headers=c.expose_headers,
                    max_age=c.max_age,
                )
            )
        elif spec.extension_ref is not None:
            e = spec.extension_ref
            problems.append(
                RefProblem(
                    "InvalidKind",
                    f"extensionRef {e.group}/{e.kind} {e.name}: Portico defines no extension filters",
                )
            )
    return out, problems
