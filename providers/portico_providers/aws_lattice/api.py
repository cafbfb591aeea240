"""Lattice wire shapes <-> Portico's specs, shared by observe and the handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portico_providers.aws_lattice.model import Action, HeaderMatch, Match, WeightedTargetGroup
from portico_providers.kit.references import Reference, order_key, token_text


def action_to_api(action: Mapping[str, Any]) -> dict[str, Any]:
    if action.get("fixed_status") is not None:
        return {"fixedResponse": {"statusCode": action["fixed_status"]}}
    groups = [{"targetGroupIdentifier": f["target_group"], "weight": f["weight"]} for f in action["forward"]]
    return {"forward": {"targetGroups": groups}}


def action_from_api(raw: Mapping[str, Any], group_arns: Mapping[str, str], group_ids: Mapping[str, str]) -> Action:
    """`group_arns`: target group id or ARN -> ARN; `group_ids`: ARN -> Portico id (for build's order)."""
    if "fixedResponse" in raw:
        return Action(fixed_status=int(raw["fixedResponse"]["statusCode"]))
    forward = []
    for group in raw.get("forward", {}).get("targetGroups", []):
        arn = group_arns.get(group["targetGroupIdentifier"], group["targetGroupIdentifier"])
        forward.append(WeightedTargetGroup(target_group=arn, weight=int(group.get("weight", 1))))
    forward.sort(key=lambda f: _order(f.target_group, group_ids))
    return Action(forward=tuple(forward))


def match_to_api(match: Mapping[str, Any]) -> dict[str, Any]:
    http: dict[str, Any] = {}
    if match.get("method"):
        http["method"] = match["method"]
    if match.get("path_exact") is not None:
        http["pathMatch"] = {"match": {"exact": match["path_exact"]}, "caseSensitive": True}
    elif match.get("path_prefix") is not None:
        http["pathMatch"] = {"match": {"prefix": match["path_prefix"]}, "caseSensitive": True}
    if match.get("headers"):
        http["headerMatches"] = [
            {"name": h["name"], "match": {"exact": h["exact"]}, "caseSensitive": True} for h in match["headers"]
        ]
    return {"httpMatch": http}


def match_from_api(raw: Mapping[str, Any]) -> Match:
    http = raw.get("httpMatch", {})
    path = http.get("pathMatch", {}).get("match", {})
    headers = sorted(
        (HeaderMatch(name=h["name"], exact=h.get("match", {}).get("exact", "")) for h in http.get("headerMatches", [])),
        key=lambda h: h.name,
    )
    return Match(
        method=http.get("method") or None,
        path_exact=path.get("exact"),
        path_prefix=path.get("prefix"),
        headers=tuple(headers),
    )


def _order(arn: Reference, ids: Mapping[str, str]) -> str:
    """Observed ARNs in the order build gives their references (by resource id token)."""
    text = order_key(arn)
    return token_text(ids[text]) if text in ids else text
