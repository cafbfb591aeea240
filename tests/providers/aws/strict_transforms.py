"""Listener rule Transforms in moto, which drops them, checked as AWS checks them.

What is checked, and where it is written down:

- the elbv2 API model (botocore `elbv2` service-2.json): `Transforms` on CreateRule and ModifyRule
  (and returned by DescribeRules); `Type` is `host-header-rewrite` or `url-rewrite`; the config is
  given "only when Type is" its type; "You can add one host header rewrite transform and one URL
  rewrite transform"; `Regex` and `Replace` are at most 1,024 characters; ModifyRule takes
  `Transforms` or `ResetTransforms`, never both;
- the ALB user guide ("Transforms for listener rules", "Listener rules"): no transform on a
  default rule; the regular expressions support no lookaheads, lookbehinds, backreferences, atomic
  groups, possessive quantifiers, subroutines, recursion or Unicode character classes (`\\p{L}`);
- the AWS Terraform provider and the CDK, which accept exactly one rewrite per transform
  (`aws_lb_listener_rule` "Only one block is accepted"); a regular expression is 1 to 1,024
  characters, a replacement 0 to 1,024.

The user guide names no condition a transform needs (a host-header rewrite works without a
host-header condition) and no action it cannot accompany, so neither is refused here.
"""

from __future__ import annotations

import re
from typing import Any
from unittest import mock

TRANSFORM_CONFIGS = {"host-header-rewrite": "HostHeaderRewriteConfig", "url-rewrite": "UrlRewriteConfig"}
MAX_REWRITE_LENGTH = 1024
UNSUPPORTED_GROUPS = {
    "(?=": "lookaheads",
    "(?!": "lookaheads",
    "(?<=": "lookbehinds",
    "(?<!": "lookbehinds",
    "(?>": "atomic groups",
    "(?R": "recursion",
    "(?&": "subroutines",
    "(?P>": "subroutines",
}
UNSUPPORTED_ESCAPES = {"p": "Unicode character classes", "P": "Unicode character classes", "k": "backreferences"}


def _refuse(message: str) -> Exception:
    from moto.elbv2.exceptions import ELBClientError

    return ELBClientError("ValidationError", message)


def unsupported_feature(regex: str) -> str | None:
    """The first regular-expression feature ALB documents as unsupported that `regex` uses."""
    index, in_class = 0, False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            escaped = regex[index + 1 : index + 2]
            if escaped in UNSUPPORTED_ESCAPES:
                return UNSUPPORTED_ESCAPES[escaped]
            if escaped.isdigit() and escaped != "0" and not in_class:
                return "backreferences"
            if escaped == "g" and not in_class:
                return "subroutines"
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += 2 if regex[index + 1 : index + 2] == "]" else 1  # `[]...]`: the first ] is literal
            continue
        elif char == "(":
            for opening, feature in UNSUPPORTED_GROUPS.items():
                if regex.startswith(opening, index):
                    return feature
            if re.match(r"\(\?[+-]?\d", regex[index:]):
                return "subroutines"
        elif char in "*+?}" and regex[index + 1 : index + 2] == "+" and regex[index - 1 : index] != "\\":
            return "possessive quantifiers"
        index += 1
    return None


def checked_transforms(transforms: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Transforms as AWS keeps them, or the ValidationError AWS answers."""
    kept: list[dict[str, Any]] = []
    for transform in transforms or []:
        kind = transform.get("Type")
        if kind not in TRANSFORM_CONFIGS:
            raise _refuse(f"Transform type '{kind}' is not valid; valid types: host-header-rewrite, url-rewrite")
        if any(t["Type"] == kind for t in kept):
            raise _refuse(f"A rule can have only one '{kind}' transform")
        config_key = TRANSFORM_CONFIGS[kind]
        stray = [k for k in TRANSFORM_CONFIGS.values() if k != config_key and transform.get(k)]
        if stray:
            raise _refuse(f"'{stray[0]}' can only be specified with its own transform type, not '{kind}'")
        rewrites = (transform.get(config_key) or {}).get("Rewrites") or []
        if len(rewrites) != 1:
            raise _refuse(f"A '{kind}' transform must have exactly one rewrite; it has {len(rewrites)}")
        [rewrite] = rewrites
        regex, replace = rewrite.get("Regex", ""), rewrite.get("Replace", "")
        if not 1 <= len(regex) <= MAX_REWRITE_LENGTH or len(replace) > MAX_REWRITE_LENGTH:
            raise _refuse(f"A rewrite's Regex is 1 to {MAX_REWRITE_LENGTH} characters and its Replace at most as many")
        feature = unsupported_feature(regex)
        if feature is not None:
            raise _refuse(f"Regex '{regex}' uses {feature}, which transforms do not support")
        try:
            re.compile(regex)
        except re.error as error:
            raise _refuse(f"Regex '{regex}' is not a valid regular expression: {error}") from None
        kept.append({"Type": kind, config_key: {"Rewrites": [{"Regex": regex, "Replace": replace}]}})
    return kept


def _rule(backend: Any, arn: str) -> Any:
    [rule] = backend.describe_rules(listener_arn=None, rule_arns=[arn])
    return rule


def strict_transforms() -> list[Any]:
    """Patches for moto's elbv2 responses: CreateRule and ModifyRule validate and keep Transforms,
    so that CreateRule, ModifyRule and DescribeRules answer with them."""
    from moto.core.responses import ActionResult
    from moto.elbv2.models import FakeListenerRule
    from moto.elbv2.responses import ELBV2Response

    create_rule, modify_rule = ELBV2Response.create_rule, ELBV2Response.modify_rule

    def create_rule_(self: Any) -> Any:
        transforms = checked_transforms(self._get_params().get("Transforms"))
        result = create_rule(self)
        result.result["Rules"][0].transforms = transforms
        return result

    def modify_rule_(self: Any) -> Any:
        params = self._get_params()
        given, reset = params.get("Transforms"), params.get("ResetTransforms") in (True, "true")
        if given is not None and reset:
            raise _refuse("You cannot specify both Transforms and ResetTransforms")
        transforms = checked_transforms(given)
        rule = _rule(self.elbv2_backend, params["RuleArn"])
        if (given or reset) and rule.is_default:
            raise _refuse("You can't add a transform to a default rule")
        # moto refuses a ModifyRule without conditions and actions; AWS takes one that only sets transforms.
        result = (
            modify_rule(self) if params.get("Conditions") or params.get("Actions") else ActionResult({"Rules": [rule]})
        )
        if given is not None or reset:
            rule.transforms = transforms
        return result

    return [
        mock.patch.object(FakeListenerRule, "transforms", [], create=True),
        mock.patch.object(ELBV2Response, "create_rule", create_rule_),
        mock.patch.object(ELBV2Response, "modify_rule", modify_rule_),
    ]
