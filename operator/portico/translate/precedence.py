"""The spec's match precedence as a sort key: a total, deterministic order.

HTTPRoute: Exact path > RegularExpression path (longest first; Portico's choice, the spec leaves
regex placement to implementations) > PathPrefix with most characters > has method > most header
matches > most query matches > oldest route > "{namespace}/{name}" > rule order > match order.
GRPCRoute: most characters in service > in method > most header matches > oldest > name > order.
Hostname precedence depends on the request's host, so data planes apply it per request.
"""

from __future__ import annotations

from portico.ir import Match, MatchType, RouteKind, Rule

_PATH_RANK = {MatchType.EXACT: 0, MatchType.REGULAR_EXPRESSION: 1, MatchType.PATH_PREFIX: 2}

SortKey = tuple[int, int, int, int, int, int, str, str, int, int]


def match_key(match: Match) -> tuple[int, int, int, int, int]:
    if match.grpc is not None or match.path is None:
        service = len(match.grpc.service) if match.grpc else 0
        method = len(match.grpc.method) if match.grpc else 0
        return (-service, -method, 0, -len(match.headers), 0)
    return (
        _PATH_RANK[match.path.type],
        -len(match.path.value),
        0 if match.method else 1,
        -len(match.headers),
        -len(match.query_params),
    )


def rule_key(rule: Rule, created: str) -> SortKey:
    """`created` is the route's creationTimestamp (RFC 3339 sorts as text); unknown sorts last."""
    kind_rank = 0 if rule.route_kind is RouteKind.GRPC else 1
    return (
        kind_rank,
        *match_key(rule.match),
        created or "~",
        str(rule.route),
        rule.rule_index,
        rule.match_index,
    )
