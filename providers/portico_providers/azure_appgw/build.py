"""Pure: IR + parameters -> the desired Application Gateway (the body of one ARM PUT).

Every sub-resource has a deterministic, prefixed name (see naming.py) and refers to its siblings
by resource id, as ARM wants. Collections are sorted by name, except path rules, whose order is
the routing order. Certificate uploads are left out of the body: apply converts the Secrets to
PFX (their fingerprint is in the name, so an unchanged certificate is never uploaded twice).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from portico.ir import Backend, BackendProtocol, Certificate, GatewayIR, ListenerProtocol
from portico_providers.azure_appgw import limits
from portico_providers.azure_appgw.backends import Targets, learnt_probe, targets
from portico_providers.azure_appgw.certificates import certificate_name
from portico_providers.azure_appgw.layout import Entry, Site, covers, layout, settings_key
from portico_providers.azure_appgw.naming import (
    GATEWAY_RESOURCE,
    PUBLIC_IP_RESOURCE,
    azure_name,
    gateway_name,
    owner_tags,
    public_ip_name,
    resource_id,
)
from portico_providers.azure_appgw.params import AppGwParameters
from portico_providers.azure_appgw.rules import Rewrite

APPGW = "applicationGateways"
PIP = "publicIPAddresses"
NO_ROUTE = "pool-no-route"
NO_ROUTE_SETTINGS = "settings-no-route"
DEFAULT_TIMEOUT_S = 30


@dataclass
class DesiredGateway:
    id: str
    name: str
    resource_group: str
    body: dict[str, Any]
    uploads: dict[str, Certificate] = field(default_factory=dict)
    public_ip: dict[str, Any] | None = None  # the public IP Portico creates and owns
    public_ip_id: str | None = None
    private_ip: str | None = None
    notes: list[str] = field(default_factory=list)


def _ref(gateway_id: str, collection: str, name: str) -> dict[str, str]:
    return {"id": f"{gateway_id}/{collection}/{name}"}


def _named(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "properties": properties}


def _certificate_for(site: Site) -> Certificate | None:
    host = site.key.host
    for cert in site.listener.certificates:
        if host is not None and any(h == host or covers(h, host) for h in cert.hostnames):
            return cert
    return site.listener.certificates[0] if site.listener.certificates else None


def _rewrite_set(rewrite: Rewrite) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    if rewrite.request_headers:
        actions["requestHeaderConfigurations"] = [
            {"headerName": h.name, "headerValue": h.value} for h in rewrite.request_headers
        ]
    if rewrite.response_headers:
        actions["responseHeaderConfigurations"] = [
            {"headerName": h.name, "headerValue": h.value} for h in rewrite.response_headers
        ]
    if rewrite.new_path is not None:
        actions["urlConfiguration"] = {"modifiedPath": rewrite.new_path, "reroute": False}
    rule: dict[str, Any] = {"name": "portico", "ruleSequence": 100, "actionSet": actions}
    if rewrite.path_pattern is not None:
        rule["conditions"] = [
            {"variable": "var_uri_path", "pattern": rewrite.path_pattern, "ignoreCase": False, "negate": False}
        ]
    return {"rewriteRules": [rule]}


class _Builder:
    def __init__(self, gid: str, params: AppGwParameters, desired: DesiredGateway) -> None:
        self.gid = gid
        self.params = params
        self.desired = desired
        self.pools: dict[str, dict[str, Any]] = {NO_ROUTE: {"backendAddresses": []}}
        self.settings: dict[str, dict[str, Any]] = {
            NO_ROUTE_SETTINGS: {
                "port": 80,
                "protocol": "Http",
                "cookieBasedAffinity": "Disabled",
                "requestTimeout": DEFAULT_TIMEOUT_S,
            }
        }
        self.probes: dict[str, dict[str, Any]] = {}
        self.rewrites: dict[str, dict[str, Any]] = {}
        self.redirects: dict[str, dict[str, Any]] = {}
        self.certificates: dict[str, dict[str, Any]] = {}

    def targets(self, backend: Backend) -> Targets:
        return targets(backend, self.params.target_type)

    def pool(self, backend: Backend, found: Targets) -> str:
        name = azure_name("pool", backend.namespace, backend.name, backend.port)
        self.pools[name] = {"backendAddresses": [{"ipAddress": a} for a in found.addresses]}
        return name

    def backend_settings(self, entry: Entry, found: Targets) -> str:
        shape = entry.shape
        backend = shape.backend
        assert backend is not None
        name = azure_name("settings", *settings_key(shape))
        https = backend.protocol is BackendProtocol.HTTPS
        props: dict[str, Any] = {
            "port": found.port,
            "protocol": "Https" if https else "Http",
            "cookieBasedAffinity": "Disabled",
            "requestTimeout": shape.timeout_s or DEFAULT_TIMEOUT_S,
            "pickHostNameFromBackendAddress": False,
        }
        if shape.host_override:
            props["hostName"] = shape.host_override
        learnt, notes = learnt_probe(backend, self.params.target_type, props["protocol"], self.params.health_check_path)
        self.desired.notes += [n for n in notes if n not in self.desired.notes]
        if learnt is not None:
            self.probes[learnt[0]] = learnt[1]
            props["probe"] = _ref(self.gid, "probes", learnt[0])
        elif self.params.health_check_path:
            probe = f"probe-{props['protocol'].lower()}"
            self.probes[probe] = {
                "protocol": props["protocol"],
                "host": "localhost",
                "path": self.params.health_check_path,
                "interval": 30,
                "timeout": 30,
                "unhealthyThreshold": 3,
                "pickHostNameFromBackendHttpSettings": False,
                "match": {"statusCodes": ["200-399"]},
            }
            props["probe"] = _ref(self.gid, "probes", probe)
        self.settings[name] = props
        return name

    def path_rule(self, site: Site, entry: Entry) -> dict[str, Any]:
        shape = entry.shape
        props: dict[str, Any] = {"paths": list(entry.paths)}
        if shape.redirect is not None:
            name = azure_name("redirect", site.key.port, site.key.host or "any", entry.rule.id)
            redirect: dict[str, Any] = {
                "redirectType": limits.REDIRECT_TYPES[shape.redirect.status],
                "includePath": shape.redirect.path is None,
                "includeQueryString": True,
            }
            if entry.redirect_listener is not None:
                redirect["targetListener"] = _ref(self.gid, "httpListeners", listener_name(entry.redirect_listener))
            else:
                redirect["targetUrl"] = entry.redirect_url
            self.redirects[name] = redirect
            props["redirectConfiguration"] = _ref(self.gid, "redirectConfigurations", name)
        elif shape.backend is not None and (found := self.targets(shape.backend)).unusable is None:
            self.desired.notes += [n for n in found.notes if n not in self.desired.notes]
            pool = self.pool(shape.backend, found)
            props["backendAddressPool"] = _ref(self.gid, "backendAddressPools", pool)
            props["backendHttpSettings"] = _ref(
                self.gid, "backendHttpSettingsCollection", self.backend_settings(entry, found)
            )
        else:
            why = self.targets(shape.backend).unusable if shape.backend is not None else None
            why = why or "no valid backend"
            self.desired.notes.append(f"rule {entry.rule.id}: {why}; Application Gateway answers 502")
            props["backendAddressPool"] = _ref(self.gid, "backendAddressPools", NO_ROUTE)
            props["backendHttpSettings"] = _ref(self.gid, "backendHttpSettingsCollection", NO_ROUTE_SETTINGS)
        if not shape.rewrite.empty and shape.redirect is None:
            body = _rewrite_set(shape.rewrite)
            name = "rewrite-" + hashlib.sha256(repr(body).encode()).hexdigest()[:16]
            self.rewrites[name] = body
            props["rewriteRuleSet"] = _ref(self.gid, "rewriteRuleSets", name)
        return _named(azure_name("rule", entry.rule.id), props)

    def certificate(self, site: Site) -> str:
        vault = self.params.key_vault_secret_ids.get(site.listener.name)
        if vault:
            name = azure_name("kv", site.listener.name)
            self.certificates[name] = {"keyVaultSecretId": vault}
            return name
        cert = _certificate_for(site)
        assert cert is not None  # validate_ir: an HTTPS listener has a certificate
        name = certificate_name(cert)
        self.certificates[name] = {}
        self.desired.uploads[name] = cert
        return name


def listener_name(key: Any) -> str:
    return azure_name("listener", key.port, key.host or "any")


def _sorted(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [_named(name, items[name]) for name in sorted(items)]


def _frontends(params: AppGwParameters, desired: DesiredGateway, subnet: str) -> list[dict[str, Any]]:
    frontends = []
    if desired.public_ip_id:
        frontends.append(_named("frontend-public", {"publicIPAddress": {"id": desired.public_ip_id}}))
    if params.private_ip:
        private = {
            "privateIPAllocationMethod": "Static",
            "privateIPAddress": params.private_ip,
            "subnet": {"id": subnet},
        }
        frontends.append(_named("frontend-private", private))
    return frontends


def build(
    ir: GatewayIR, params: AppGwParameters, cluster_id: str, subscription: str, group: str
) -> DesiredGateway | list[str]:
    """`subscription` and `group` are the operator's (every Gateway's gateway lives there)."""
    missing = [
        f"spec.azure.{k}: required" for k, v in (("location", params.location), ("subnetId", params.subnet_id)) if not v
    ]
    if missing:
        return missing
    location, subnet = str(params.location), str(params.subnet_id)
    name = gateway_name(cluster_id, ir.gateway)
    gid = resource_id(subscription, group, APPGW, name)
    tags = {**params.tags, **owner_tags(cluster_id, ir.gateway, GATEWAY_RESOURCE)}
    desired = DesiredGateway(id=gid, name=name, resource_group=group, body={}, private_ip=params.private_ip)
    if params.public_ip:
        if params.public_ip_id:
            desired.public_ip_id = params.public_ip_id
        else:
            desired.public_ip_id = resource_id(subscription, group, PIP, public_ip_name(cluster_id, ir.gateway))
            desired.public_ip = {
                "location": location,
                "tags": {**params.tags, **owner_tags(cluster_id, ir.gateway, PUBLIC_IP_RESOURCE)},
                "sku": {"name": "Standard", "tier": "Regional"},
                "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"},
                **({"zones": list(params.zones)} if params.zones else {}),
            }
    plan = layout(ir.listeners)
    desired.notes += plan.notes + [f"rule {rid}: not programmed: {why}" for rid, why in sorted(plan.rejected.items())]
    builder = _Builder(gid, params, desired)
    frontend = "frontend-public" if desired.public_ip_id else "frontend-private"
    ports: dict[str, dict[str, Any]] = {}
    listeners: dict[str, dict[str, Any]] = {}
    maps: dict[str, dict[str, Any]] = {}
    routes: dict[str, dict[str, Any]] = {}
    for index, site in enumerate(plan.sites):
        port_name = azure_name("port", site.key.port)
        ports[port_name] = {"port": site.key.port}
        listener = listener_name(site.key)
        props: dict[str, Any] = {
            "frontendIPConfiguration": _ref(gid, "frontendIPConfigurations", frontend),
            "frontendPort": _ref(gid, "frontendPorts", port_name),
            "protocol": "Https" if site.protocol is ListenerProtocol.HTTPS else "Http",
        }
        if site.key.host is not None:
            props["hostNames"] = [site.key.host]
        if site.protocol is ListenerProtocol.HTTPS:
            props["sslCertificate"] = _ref(gid, "sslCertificates", builder.certificate(site))
        listeners[listener] = props
        map_name = azure_name("paths", site.key.port, site.key.host or "any")
        maps[map_name] = {
            "defaultBackendAddressPool": _ref(gid, "backendAddressPools", NO_ROUTE),
            "defaultBackendHttpSettings": _ref(gid, "backendHttpSettingsCollection", NO_ROUTE_SETTINGS),
            "pathRules": [builder.path_rule(site, entry) for entry in site.entries],
        }
        routes[azure_name("route", site.key.port, site.key.host or "any")] = {
            "ruleType": "PathBasedRouting",
            "priority": (index + 1) * 10,
            "httpListener": _ref(gid, "httpListeners", listener),
            "urlPathMap": _ref(gid, "urlPathMaps", map_name),
        }
    properties: dict[str, Any] = {
        "sku": {"name": params.sku, "tier": params.sku},
        "autoscaleConfiguration": {
            "minCapacity": params.autoscale.min_capacity,
            "maxCapacity": params.autoscale.max_capacity,
        },
        "sslPolicy": {"policyType": "Predefined", "policyName": params.ssl_policy},
        "enableHttp2": True,
        "gatewayIPConfigurations": [_named("gateway-ip", {"subnet": {"id": subnet}})],
        "frontendIPConfigurations": _frontends(params, desired, subnet),
        "frontendPorts": _sorted(ports),
        "sslCertificates": _sorted(builder.certificates),
        "httpListeners": _sorted(listeners),
        "backendAddressPools": _sorted(builder.pools),
        "backendHttpSettingsCollection": _sorted(builder.settings),
        "probes": _sorted(builder.probes),
        "urlPathMaps": _sorted(maps),
        "requestRoutingRules": _sorted(routes),
        "rewriteRuleSets": _sorted(builder.rewrites),
        "redirectConfigurations": _sorted(builder.redirects),
    }
    if params.firewall_policy_id:
        properties["firewallPolicy"] = {"id": params.firewall_policy_id}
    desired.body = {"location": location, "tags": tags, "properties": properties}
    if params.zones:
        desired.body["zones"] = list(params.zones)
    if params.identity_id:
        desired.body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {params.identity_id: {}}}
    return desired
