"""What Application Gateway v2 itself refuses in a PUT, beyond the API model's shape.

Each check answers like ARM: (error code, message). The limits are Azure's published
Application Gateway limits (the same table docs/providers/azure.md cites); the fake keeps its
own copy so a wrong constant in the provider cannot agree with itself.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.serialization import pkcs12

NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")
LIMITS = {
    "frontendPorts": 100,
    "httpListeners": 100,
    "requestRoutingRules": 400,
    "backendAddressPools": 100,
    "backendHttpSettingsCollection": 100,
    "rewriteRuleSets": 400,
    "redirectConfigurations": 100,
    "sslCertificates": 100,
    "probes": 100,
    "frontendIPConfigurations": 2,
    "gatewayIPConfigurations": 1,
}
COLLECTIONS = (*LIMITS, "urlPathMaps")
REDIRECT_TYPES = {"Permanent", "Found", "SeeOther", "Temporary"}


class Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _props(item: Mapping[str, Any]) -> dict[str, Any]:
    props = item.get("properties") or {}
    assert isinstance(props, dict)
    return props


def _ref(value: Any, gateway_id: str, collection: str, names: Mapping[str, set[str]], where: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise Refusal("InvalidResourceReference", f"{where}: expected a reference {{'id': ...}}")
    ref = value["id"]
    prefix = f"{gateway_id}/{collection}/".lower()
    if not ref.lower().startswith(prefix):
        raise Refusal("InvalidResourceReference", f"{where}: {ref} is not a {collection} of this gateway")
    if ref[len(prefix) :].lower() not in names[collection]:
        raise Refusal("InvalidResourceReference", f"{where}: {ref} does not exist in {collection}")
    return ref.lower()


def _check_path(path: Any, where: str) -> None:
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
        raise Refusal("ApplicationGatewayPathRuleInvalidPath", f"{where}: {path!r} must start with '/'")
    if "*" in path[:-1] or (path.endswith("*") and not path.endswith("/*")):
        raise Refusal("ApplicationGatewayPathRuleInvalidPath", f"{where}: {path!r}: '*' only as a trailing '/*'")


def check_tags(tags: Any) -> None:
    for key, value in (tags or {}).items():
        if TAG_NAME_FORBIDDEN.search(key) or len(key) > 512 or len(str(value)) > 256:
            raise Refusal("InvalidTagNameCharacters", f"tag name {key!r} has characters ARM does not allow")


def _certificates(props: dict[str, Any], existing: set[str]) -> None:
    for cert in props.get("sslCertificates") or []:
        body = _props(cert)
        name = cert["name"].lower()
        if body.get("keyVaultSecretId"):
            continue
        if "data" not in body:
            if name not in existing:
                raise Refusal(
                    "ApplicationGatewaySslCertificateDataMustBeSpecified", f"sslCertificates[{name}]: no data"
                )
            continue
        try:
            password = body.get("password")
            pkcs12.load_key_and_certificates(base64.b64decode(body["data"]), password.encode() if password else None)
        except (ValueError, TypeError) as error:
            raise Refusal("ApplicationGatewaySslCertificateInvalidData", f"sslCertificates[{name}]: {error}") from None


def _listeners(props: dict[str, Any], gid: str, names: dict[str, set[str]]) -> None:
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for item in props.get("httpListeners") or []:
        where = f"httpListeners[{item['name']}]"
        body = _props(item)
        ip = _ref(body.get("frontendIPConfiguration"), gid, "frontendIPConfigurations", names, where)
        port = _ref(body.get("frontendPort"), gid, "frontendPorts", names, where)
        hosts = list(body.get("hostNames") or []) + ([body["hostName"]] if body.get("hostName") else [])
        if len(hosts) > 5:
            raise Refusal("ApplicationGatewayHttpListenerTooManyHostNames", f"{where}: at most 5 host names")
        key = (ip, port, tuple(sorted(h.lower() for h in hosts)))
        if key in seen:
            raise Refusal("ApplicationGatewayDuplicateHttpListener", f"{where}: same frontend, port and host names")
        seen.add(key)
        https = str(body.get("protocol", "")).lower() == "https"
        if https != bool(body.get("sslCertificate")):
            raise Refusal("ApplicationGatewayHttpListenerSslCertificate", f"{where}: sslCertificate iff Https")
        if https:
            _ref(body["sslCertificate"], gid, "sslCertificates", names, where)


def _target(body: dict[str, Any], gid: str, names: dict[str, set[str]], where: str, prefix: str = "") -> None:
    def key(name: str) -> str:
        return prefix + name[0].upper() + name[1:] if prefix else name

    pool, settings = body.get(key("backendAddressPool")), body.get(key("backendHttpSettings"))
    redirect = body.get(key("redirectConfiguration"))
    if redirect is not None:
        if pool is not None or settings is not None:
            raise Refusal("ApplicationGatewayRedirectWithBackend", f"{where}: a redirect cannot also have a backend")
        if body.get("rewriteRuleSet") is not None:
            raise Refusal("ApplicationGatewayRedirectWithRewrite", f"{where}: a redirect cannot also rewrite")
        _ref(redirect, gid, "redirectConfigurations", names, where)
        return
    if pool is None or settings is None:
        raise Refusal(
            "ApplicationGatewayRuleMissingBackend", f"{where}: needs a backend pool and settings or a redirect"
        )
    _ref(pool, gid, "backendAddressPools", names, where)
    _ref(settings, gid, "backendHttpSettingsCollection", names, where)
    if body.get("rewriteRuleSet") is not None:
        _ref(body["rewriteRuleSet"], gid, "rewriteRuleSets", names, where)


def _routing(props: dict[str, Any], gid: str, names: dict[str, set[str]]) -> None:
    priorities: dict[int, str] = {}
    used: set[str] = set()
    for item in props.get("requestRoutingRules") or []:
        where = f"requestRoutingRules[{item['name']}]"
        body = _props(item)
        priority = body.get("priority")
        if not isinstance(priority, int) or not 1 <= priority <= 20000:
            raise Refusal("ApplicationGatewayRequestRoutingRulePriorityInvalid", f"{where}: priority 1-20000 required")
        if priority in priorities:
            raise Refusal(
                "ApplicationGatewayRequestRoutingRulePriorityAlreadyExists",
                f"{where}: priority {priority} is already used by {priorities[priority]}",
            )
        priorities[priority] = item["name"]
        listener = _ref(body.get("httpListener"), gid, "httpListeners", names, where)
        if listener in used:
            raise Refusal("ApplicationGatewayHttpListenerUsedByTwoRules", f"{where}: listener already has a rule")
        used.add(listener)
        if body.get("ruleType") == "PathBasedRouting":
            _ref(body.get("urlPathMap"), gid, "urlPathMaps", names, where)
        else:
            _target(body, gid, names, where)
    for item in props.get("urlPathMaps") or []:
        where = f"urlPathMaps[{item['name']}]"
        body = _props(item)
        _target(body, gid, names, where, prefix="default")
        rules = body.get("pathRules") or []
        if len(rules) > 100:
            raise Refusal("ApplicationGatewayUrlPathMapTooManyPathRules", f"{where}: {len(rules)} path rules > 100")
        paths: set[str] = set()
        for rule in rules:
            inner = f"{where}.pathRules[{rule['name']}]"
            rule_body = _props(rule)
            for path in rule_body.get("paths") or []:
                _check_path(path, inner)
                if path.lower() in paths:
                    raise Refusal("ApplicationGatewayUrlPathMapDuplicatePaths", f"{inner}: path {path} is listed twice")
                paths.add(path.lower())
            _target(rule_body, gid, names, inner)


def _probe_ranges(body: dict[str, Any], where: str) -> None:
    """ApplicationGatewayProbe: interval and timeout 1-86400 s, unhealthyThreshold 1-20, port 1-65535."""
    if body.get("protocol") not in ("Http", "Https"):
        raise Refusal("ApplicationGatewayProbeInvalidProtocol", f"{where}: protocol {body.get('protocol')}")
    for field, high in (("interval", 86400), ("timeout", 86400), ("unhealthyThreshold", 20), ("port", 65535)):
        if field in body and not 1 <= int(body[field]) <= high:
            raise Refusal("ApplicationGatewayProbeInvalidValue", f"{where}: {field} {body[field]} is outside 1-{high}")


def _settings(props: dict[str, Any], gid: str, names: dict[str, set[str]]) -> None:
    for item in props.get("backendHttpSettingsCollection") or []:
        where = f"backendHttpSettingsCollection[{item['name']}]"
        body = _props(item)
        if not 1 <= int(body.get("port", 0)) <= 65535 or body.get("protocol") not in ("Http", "Https"):
            raise Refusal("ApplicationGatewayBackendHttpSettingsInvalid", f"{where}: port 1-65535 and Http/Https")
        if not 1 <= int(body.get("requestTimeout", 30)) <= 86400:
            raise Refusal("ApplicationGatewayBackendHttpSettingsInvalidRequestTimeout", f"{where}: 1-86400 s")
        if body.get("probe") is not None:
            _ref(body["probe"], gid, "probes", names, where)
    for item in props.get("probes") or []:
        body = _props(item)
        if not str(body.get("path", "")).startswith("/") or not (
            body.get("host") or body.get("pickHostNameFromBackendHttpSettings")
        ):
            raise Refusal("ApplicationGatewayProbeInvalid", f"probes[{item['name']}]: path and host required")
        _probe_ranges(body, f"probes[{item['name']}]")
    for item in props.get("redirectConfigurations") or []:
        where = f"redirectConfigurations[{item['name']}]"
        body = _props(item)
        if body.get("redirectType") not in REDIRECT_TYPES:
            raise Refusal("ApplicationGatewayRedirectTypeInvalid", f"{where}: redirectType {body.get('redirectType')}")
        if (body.get("targetListener") is None) == (body.get("targetUrl") is None):
            raise Refusal("ApplicationGatewayRedirectTarget", f"{where}: exactly one of targetListener and targetUrl")
        if body.get("targetListener") is not None:
            _ref(body["targetListener"], gid, "httpListeners", names, where)
    for item in props.get("rewriteRuleSets") or []:
        rules = _props(item).get("rewriteRules") or []
        if len(rules) > 40:
            raise Refusal("ApplicationGatewayRewriteRuleSetTooManyRules", f"rewriteRuleSets[{item['name']}]: > 40")
        for rule in rules:
            for condition in rule.get("conditions") or []:
                try:
                    re.compile(condition.get("pattern", ""))
                except re.error as error:
                    raise Refusal("ApplicationGatewayRewriteRuleConditionInvalidPattern", str(error)) from None


def check_gateway(
    body: dict[str, Any], gateway_id: str, existing_certs: set[str], resource_state: Callable[[str], str | None]
) -> None:
    """Raise Refusal for what Application Gateway v2 does not accept. `resource_state` reads linked resources."""
    check_tags(body.get("tags"))
    props = _props(body)
    sku = props.get("sku") or {}
    if sku.get("name") not in ("Standard_v2", "WAF_v2") or sku.get("tier") != sku.get("name"):
        raise Refusal("ApplicationGatewaySkuInvalid", "sku: only Standard_v2 and WAF_v2, with tier equal to name")
    if props.get("firewallPolicy") and sku.get("name") != "WAF_v2":
        raise Refusal("ApplicationGatewayFirewallPolicyNeedsWafSku", "firewallPolicy needs WAF_v2")
    scale = props.get("autoscaleConfiguration")
    if scale is None and sku.get("capacity") is None:
        raise Refusal("ApplicationGatewayCapacityMissing", "sku.capacity or autoscaleConfiguration is required")
    if scale is not None and not 0 <= scale["minCapacity"] <= scale.get("maxCapacity", 125) <= 125:
        raise Refusal("ApplicationGatewayAutoscaleInvalid", "autoscaleConfiguration: 0 <= min <= max <= 125")
    names: dict[str, set[str]] = {}
    for collection in COLLECTIONS:
        items = props.get(collection) or []
        if collection in LIMITS and len(items) > LIMITS[collection]:
            raise Refusal("ApplicationGatewayLimitExceeded", f"{collection}: {len(items)} > {LIMITS[collection]}")
        found: set[str] = set()
        for item in items:
            name = item.get("name")
            if not isinstance(name, str) or not NAME.match(name):
                raise Refusal("InvalidResourceName", f"{collection}: invalid name {name!r}")
            if name.lower() in found:
                raise Refusal("ApplicationGatewayDuplicateName", f"{collection}: {name} appears twice")
            found.add(name.lower())
        names[collection] = found
    if len(props.get("gatewayIPConfigurations") or []) != 1:
        raise Refusal("ApplicationGatewayIPConfigurationRequired", "exactly one gatewayIPConfiguration")
    for item in props["gatewayIPConfigurations"]:
        subnet = (_props(item).get("subnet") or {}).get("id", "")
        if resource_state(subnet) is None:
            raise Refusal("InvalidResourceReference", f"gatewayIPConfigurations: subnet {subnet} not found")
    for item in props.get("frontendIPConfigurations") or []:
        pip = (_props(item).get("publicIPAddress") or {}).get("id")
        if pip is not None and resource_state(pip) != "Succeeded":
            raise Refusal("ReferencedResourceNotProvisioned", f"frontendIPConfigurations: {pip} is not provisioned")
    _certificates(props, existing_certs)
    _listeners(props, gateway_id, names)
    _settings(props, gateway_id, names)
    _routing(props, gateway_id, names)
