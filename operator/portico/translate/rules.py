"""One parsed route rule -> IR rules (one per match), with its resolved backends and filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portico.api import Snapshot
from portico.api.l4routes import L4RouteRule
from portico.api.routes import GRPCRouteRule, HTTPRouteRule, Route
from portico.ir import (
    Backend,
    Filter,
    GRPCMethodMatch,
    HeaderMatch,
    Match,
    MatchType,
    ObjectKey,
    PathMatch,
    QueryParamMatch,
    RouteKind,
    Rule,
    Timeouts,
    first_by_name,
)
from portico.translate.backends import RefProblem, resolve_backend
from portico.translate.features import parse_duration_ms
from portico.translate.filters import convert_filters

NO_TIMEOUTS = Timeouts()  # frozen: one shared by every rule without timeouts
# Every field is passed to model_construct: one frozen model's set of them shared by all IR rules.
RULE_FIELDS = set(Rule.model_fields)


@dataclass(slots=True)  # one per route (rule): tens of thousands in a large input
class BuiltRule:
    """A route rule made cloud-neutral once; placed on each listener it attaches to."""

    index: int
    name: str | None
    route: ObjectKey
    matches: tuple[Match, ...]
    filters: tuple[Filter, ...]
    backends: tuple[Backend, ...]
    timeouts: Timeouts
    problems: list[RefProblem] = field(default_factory=list)

    def place(self, route: Route, listener_name: str, hostnames: tuple[str, ...]) -> list[Rule]:
        kind = RouteKind(route.kind)
        key = self.route  # one per route rule, shared by its IR rules on every listener
        # Every part is already validated: construct without re-validating (20k+ rules per second matter).
        return [
            Rule.model_construct(
                RULE_FIELDS,
                id=f"{listener_name}:{kind.value}:{key}:r{self.index}:m{match_index}",
                route_kind=kind,
                route=key,
                rule_index=self.index,
                match_index=match_index,
                rule_name=self.name,
                hostnames=hostnames,
                match=match,
                filters=self.filters,
                backends=self.backends,
                timeouts=self.timeouts,
                route_created=route.metadata.creation_timestamp or "",
            )
            for match_index, match in enumerate(self.matches)
        ]


def _check_regex(value: str, where: str) -> str | None:
    try:
        re.compile(value)
    except re.error as error:
        return f"{where}: invalid regular expression {value!r}: {error}"
    return None


def _http_matches(rule: HTTPRouteRule, index: int) -> tuple[tuple[Match, ...], str | None]:
    out: list[Match] = []
    for m_index, m in enumerate(rule.matches):
        where = f"spec.rules[{index}].matches[{m_index}]"
        if m.path.type == "RegularExpression" and (problem := _check_regex(m.path.value, f"{where}.path")):
            return (), problem
        headers = []
        for h in first_by_name(m.headers, fold=True):
            if h.type == "RegularExpression" and (problem := _check_regex(h.value, f"{where}.headers")):
                return (), problem
            headers.append(HeaderMatch(type=MatchType(h.type), name=h.name.lower(), value=h.value))
        query = []
        for q in first_by_name(m.query_params, fold=False):
            if q.type == "RegularExpression" and (problem := _check_regex(q.value, f"{where}.queryParams")):
                return (), problem
            query.append(QueryParamMatch(type=MatchType(q.type), name=q.name, value=q.value))
        out.append(
            Match(
                path=PathMatch(type=MatchType(m.path.type), value=m.path.value),
                method=m.method,
                headers=tuple(headers),
                query_params=tuple(query),
            )
        )
    return tuple(out), None


def _grpc_matches(rule: GRPCRouteRule, index: int) -> tuple[tuple[Match, ...], str | None]:
    if not rule.matches:
        return (Match(),), None
    out: list[Match] = []
    for m_index, m in enumerate(rule.matches):
        where = f"spec.rules[{index}].matches[{m_index}]"
        grpc = None
        if m.method is not None:
            if m.method.type == "RegularExpression":
                for part in (m.method.service, m.method.method):
                    if part and (problem := _check_regex(part, f"{where}.method")):
                        return (), problem
            grpc = GRPCMethodMatch(
                type=MatchType(m.method.type), service=m.method.service or "", method=m.method.method or ""
            )
        headers = []
        for h in first_by_name(m.headers, fold=True):
            if h.type == "RegularExpression" and (problem := _check_regex(h.value, f"{where}.headers")):
                return (), problem
            headers.append(HeaderMatch(type=MatchType(h.type), name=h.name.lower(), value=h.value))
        out.append(Match(grpc=grpc, headers=tuple(headers)))
    return tuple(out), None


def build_l4_rule(snapshot: Snapshot, route: Route, index: int, rule: L4RouteRule) -> BuiltRule:
    """A TLSRoute/TCPRoute/UDPRoute rule: weighted backends only (an invalid one keeps its share:
    the data plane refuses that share of connections)."""
    backends: list[Backend] = []
    problems: list[RefProblem] = []
    for ref in rule.backend_refs:
        backend, problem = resolve_backend(
            snapshot, ref, route_kind=route.kind, route_namespace=route.metadata.namespace, weight=ref.weight
        )
        backends.append(backend)
        if problem is not None:
            problems.append(problem)
    return BuiltRule(
        index=index,
        name=rule.name,
        route=ObjectKey(namespace=route.metadata.namespace, name=route.metadata.name),
        matches=(Match(),),
        filters=(),
        backends=tuple(backends),
        timeouts=Timeouts(),
        problems=problems,
    )


def build_rule(
    snapshot: Snapshot, route: Route, index: int, rule: HTTPRouteRule | GRPCRouteRule | L4RouteRule
) -> BuiltRule | str:
    """The cloud-neutral rule, or a message saying why it cannot be served (UnsupportedValue)."""
    if isinstance(rule, L4RouteRule):
        return build_l4_rule(snapshot, route, index, rule)
    kind = route.kind
    namespace = route.metadata.namespace
    if isinstance(rule, HTTPRouteRule):
        matches, problem = _http_matches(rule, index)
        prefix = rule.matches[0].path.value if len(rule.matches) == 1 else None
    else:
        matches, problem = _grpc_matches(rule, index)
        prefix = None
    if problem is not None:
        return problem
    problems: list[RefProblem] = []
    filters, filter_problems = convert_filters(
        rule.filters, snapshot=snapshot, route_kind=kind, route_namespace=namespace, matched_prefix=prefix
    )
    problems += filter_problems
    backends: list[Backend] = []
    for ref in rule.backend_refs:
        backend, ref_problem = resolve_backend(
            snapshot, ref, route_kind=kind, route_namespace=namespace, weight=ref.weight
        )
        if ref_problem is not None:
            problems.append(ref_problem)
        backend_filters, more = convert_filters(
            ref.filters, snapshot=snapshot, route_kind=kind, route_namespace=namespace, matched_prefix=prefix
        )
        problems += more
        # Without filters the resolved backend is shared as it is (frozen; one per ref in the snapshot).
        backends.append(backend.model_copy(update={"filters": tuple(backend_filters)}) if backend_filters else backend)
    extension = next((f.extension_ref for f in rule.filters if f.extension_ref is not None), None)
    if extension is not None:
        # An unresolvable extension filter must not be skipped: its traffic gets 500.
        backends = [
            Backend(
                kind=extension.kind,
                group=extension.group,
                namespace=namespace,
                name=extension.name,
                invalid_reason="InvalidKind",
                invalid_message="unsupported extensionRef filter",
            )
        ]
    timeouts = NO_TIMEOUTS
    if isinstance(rule, HTTPRouteRule) and rule.timeouts is not None:
        t = rule.timeouts
        timeouts = Timeouts(
            request_ms=parse_duration_ms(t.request) if t.request is not None else None,
            backend_request_ms=parse_duration_ms(t.backend_request) if t.backend_request is not None else None,
        )
        if timeouts.request_ms and timeouts.backend_request_ms and timeouts.backend_request_ms > timeouts.request_ms:
            return f"spec.rules[{index}].timeouts: backendRequest must not be greater than request"
    return BuiltRule(
        index=index,
        name=rule.name,
        route=ObjectKey(namespace=namespace, name=route.metadata.name),
        matches=matches,
        filters=tuple(filters),
        backends=tuple(backends),
        timeouts=timeouts,
        problems=problems,
    )
