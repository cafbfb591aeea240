"""Pure: a Gateway's IR + `spec.gcp` -> the Compute resources of its Application Load Balancer.

Per Gateway: one address (or an existing one), and per listener port a forwarding rule, a
target HTTP(S) proxy and a URL map; per backend a backend service, a health check and zonal
NEGs; per TLS Secret a self-managed SSL certificate named after its content (a new Secret
content is a new certificate: certificates are immutable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby

from portico.ir import GatewayIR, Listener, ListenerProtocol
from portico_providers.gcp_alb import model
from portico_providers.gcp_alb.backends import Backends
from portico_providers.gcp_alb.limits import check_rules
from portico_providers.gcp_alb.model import (
    ADDRESS,
    FORWARDING_RULE,
    SSL_CERTIFICATE,
    TARGET_HTTP_PROXY,
    TARGET_HTTPS_PROXY,
    URL_MAP,
    FaultAbort,
    FaultInjectionPolicy,
    RouteAction,
    WeightedBackendService,
    desired,
)
from portico_providers.gcp_alb.naming import (
    ComputeOwnership,
    resource_id,
    scope_of,
    short_hash,
    suffix_of,
    versioned,
)
from portico_providers.gcp_alb.params import GcpParameters
from portico_providers.gcp_alb.rules import RoutePiece, Unsupported, pieces
from portico_providers.gcp_alb.urlmap import host_groups, url_map
from portico_providers.kit.flow import Built
from portico_providers.kit.resources import Desired

MAX_CERTIFICATES_PER_PROXY = 15  # load-balancing/docs/quotas: SSL certificates per target HTTPS proxy
PROJECT_PLACEHOLDER = "PROJECT_ID"
CERTIFICATE_MANAGER = "//certificatemanager.googleapis.com/"


@dataclass(frozen=True)
class Facts:
    """What observe learned that the build needs (None: offline, not known)."""

    # url map id -> path matcher name -> {route rule description: priority}
    priorities: Mapping[str, Mapping[str, Mapping[str, int]]] = field(default_factory=dict)
    # (region, network name) of the ACTIVE proxy-only subnets in the project
    proxy_only_subnets: frozenset[tuple[str, str]] = frozenset()
    project: str = ""  # the project that was read
    foreign: tuple[tuple[str, str], ...] = ()  # (scope, name) holding this Gateway's names without its marker
    failure: str = ""  # an operation of an earlier apply that ended with an error


def _scope(params: GcpParameters) -> str:
    return f"regions/{params.region}" if params.region else "global"


def _address(
    ir: GatewayIR, params: GcpParameters, owner: ComputeOwnership, link: Backends
) -> tuple[str, Desired | None]:
    """(the forwarding rules' IPAddress, the address resource Portico owns or None)."""
    scope = _scope(params)
    named = [a.value for a in ir.addresses if a.type == "NamedAddress"]
    ips = [a.value for a in ir.addresses if a.type == "IPAddress"]
    others = [a.type for a in ir.addresses if a.type not in ("NamedAddress", "IPAddress")]
    if others or len(ir.addresses) > 1:
        raise Unsupported("spec.addresses: GCP gives a load balancer one IPAddress or one NamedAddress")
    existing = named[0] if named else params.address
    if named and params.address and named[0] != params.address:
        raise Unsupported("spec.addresses names an address that differs from spec.gcp.address")
    if existing:
        return f"projects/{link.project}/{scope}/addresses/{existing}", None
    if ips and params.scheme != "RegionalInternal":
        raise Unsupported("spec.addresses: an external IP must be reserved first and named (NamedAddress)")
    internal = params.scheme == "RegionalInternal"
    fields = {
        "address_type": "INTERNAL" if internal else "EXTERNAL",
        "ip_version": None if params.regional else "IPV4",
        "subnetwork": (
            f"projects/{link.project}/regions/{params.region}/subnetworks/{params.subnetwork}" if internal else None
        ),
        # Several forwarding rules (one per port) share an internal address only with this purpose.
        "purpose": "SHARED_LOADBALANCER_VIP" if internal else None,
        "address": ips[0] if ips else None,
    }
    rid = versioned("ip", *fields.values())
    body = model.Address.model_validate({"name": owner.name(rid), "description": owner.marker(scope, rid), **fields})
    return link.link(scope, ADDRESS, rid), desired(ADDRESS, scope, rid, body)


def _certificates(
    listeners: list[Listener], params: GcpParameters, owner: ComputeOwnership, link: Backends
) -> list[Desired]:
    out: dict[str, Desired] = {}
    for listener in listeners:
        if listener.name in params.ssl_certificates or params.certificate_map:
            continue
        for cert in listener.certificates:
            if cert.key_pem is None:
                raise Unsupported(f"listener {listener.name}: the certificate of {cert.secret} has no private key")
            rid = "crt-" + short_hash(cert.sha256 or cert.cert_pem, 12)
            scope = _scope(params)
            body = model.SslCertificate(
                name=owner.name(rid), description=owner.marker(scope, rid), certificate=cert.cert_pem
            )
            out.setdefault(rid, desired(SSL_CERTIFICATE, scope, rid, body, secret=cert.key_pem))
    return list(out.values())


def _proxy(
    port: int, listeners: list[Listener], params: GcpParameters, owner: ComputeOwnership, link: Backends
) -> Desired:
    scope = _scope(params)
    map_ref = link.link(scope, URL_MAP, f"um-{port}")
    if listeners[0].protocol is ListenerProtocol.HTTP:
        rid = f"thp-{port}"
        body: model.Body = model.TargetHttpProxy(
            name=owner.name(rid), description=owner.marker(scope, rid), url_map=map_ref
        )
        return desired(TARGET_HTTP_PROXY, scope, rid, body)
    certs: list[str] = []
    for listener in listeners:
        if listener.name in params.ssl_certificates:
            certs += [
                f"projects/{link.project}/{scope}/sslCertificates/{n}" for n in params.ssl_certificates[listener.name]
            ]
        elif not params.certificate_map:
            certs += [
                link.link(scope, SSL_CERTIFICATE, "crt-" + short_hash(c.sha256 or c.cert_pem, 12))
                for c in listener.certificates
            ]
    certs = list(dict.fromkeys(certs))
    if len(certs) > MAX_CERTIFICATES_PER_PROXY:
        raise Unsupported(
            f"port {port}: {len(certs)} certificates; a target HTTPS proxy holds {MAX_CERTIFICATES_PER_PROXY}"
        )
    ssl_policy = f"projects/{link.project}/{scope}/sslPolicies/{params.ssl_policy}" if params.ssl_policy else None
    rid = versioned(f"tsp-{port}", params.certificate_map, ssl_policy)
    body = model.TargetHttpsProxy(
        name=owner.name(rid),
        description=owner.marker(scope, rid),
        url_map=map_ref,
        ssl_certificates=tuple(certs) or None,
        certificate_map=CERTIFICATE_MANAGER + params.certificate_map if params.certificate_map else None,
        ssl_policy=ssl_policy,
    )
    return desired(TARGET_HTTPS_PROXY, scope, rid, body)


def _forwarding_rule(
    port: int, proxy: Desired, address: str, params: GcpParameters, owner: ComputeOwnership, link: Backends
) -> Desired:
    scope = scope_of(proxy.id)
    network = f"projects/{link.project}/global/networks/{params.network}" if params.regional else None
    subnetwork = (
        f"projects/{link.project}/regions/{params.region}/subnetworks/{params.subnetwork}"
        if params.scheme == "RegionalInternal"
        else None
    )
    # The address is in the name too: Compute answers it as the IP, so it is not compared.
    rid = versioned(f"fr-{port}", address, params.load_balancing_scheme, network, subnetwork)
    body = model.ForwardingRule(
        name=owner.name(rid),
        description=owner.marker(scope, rid),
        ip_address=address,
        port_range=str(port),
        target=link.link(scope, proxy.kind, suffix_of(proxy.id)),
        load_balancing_scheme=params.load_balancing_scheme,
        network=network,
        subnetwork=subnetwork,
    )
    return desired(FORWARDING_RULE, scope, rid, body)


def not_found(empty: str) -> RouteAction:
    """What no host or path rule matches answers: 404, as the Gateway API asks."""
    return RouteAction(
        weighted_backend_services=(WeightedBackendService(backend_service=empty, weight=100),),
        fault_injection_policy=FaultInjectionPolicy(abort=FaultAbort(http_status=404, percentage=100.0)),
    )


def build(
    ir: GatewayIR, params: GcpParameters, owner: ComputeOwnership, project: str | None, facts: Facts | None
) -> Built | list[str]:
    """The desired resources, or the problems that stop the Gateway from being programmed."""
    built = Built()
    if project is None:
        if facts is not None:
            return ["spec.gcp.project: no project is set (parameters or the operator's --gcp-project)"]
        project = PROJECT_PLACEHOLDER
        built.notes.append(f"no project configured: {PROJECT_PLACEHOLDER} stands for it")
    if params.regional:
        if facts is None:
            built.notes.append(
                f"a proxy-only subnet in {params.region} on network {params.network} is checked when applying"
            )
        elif (params.region, params.network) not in facts.proxy_only_subnets:
            return [
                f"spec.gcp: scheme {params.scheme} needs a proxy-only subnet (purpose REGIONAL_MANAGED_PROXY, "
                f"role ACTIVE) in region {params.region} on network {params.network}; none was found"
            ]
    scope = _scope(params)
    backends = Backends(owner, project, scope, params)
    try:
        address_ref, address = _address(ir, params, owner, backends)
        # The verdicts translation got for this scheme (`limits.rules_check_for`): a rule it dropped never
        # reaches Compute, also when an IR is applied as it is.
        rejected = check_rules(ir.listeners, params.scheme)
        kept = [
            lst.model_copy(update={"rules": tuple(r for r in lst.rules if r.id not in rejected)})
            for lst in ir.listeners
        ]
        listeners = sorted(kept, key=lambda lst: lst.port)
        fronts: list[Desired] = []
        for port, group in groupby(listeners, key=lambda lst: lst.port):
            on_port = list(group)
            if len({lst.protocol for lst in on_port}) > 1:
                raise Unsupported(f"port {port}: HTTP and HTTPS listeners cannot share one GCP forwarding rule")
            https = on_port[0].protocol is ListenerProtocol.HTTPS
            groups: list[tuple[tuple[str, ...], list[RoutePiece]]] = []
            for hosts, rules in host_groups(on_port):
                groups.append(
                    (
                        hosts,
                        [p for rule in rules for p in pieces(rule, backends.ref, backends.empty, https_listener=https)],
                    )
                )
            rid = f"um-{port}"
            previous = facts.priorities.get(resource_id(scope, rid), {}) if facts else {}
            body = url_map(owner.name(rid), owner.marker(scope, rid), groups, previous, not_found(backends.empty))
            fronts.append(desired(URL_MAP, scope, rid, body))
            proxy = _proxy(port, on_port, params, owner, backends)
            fronts += [proxy, _forwarding_rule(port, proxy, address_ref, params, owner, backends)]
        certificates = _certificates(listeners, params, owner, backends)
    except Unsupported as error:
        return [str(error)]
    except ValueError as error:  # a value outside the Compute model's bounds: a precise problem, not a crash
        return [f"spec.gcp: a resource cannot be built: {str(error).splitlines()[0]}"]
    resources = backends.resources()
    if backends.problems:
        return backends.problems
    built.desired = ([address] if address else []) + certificates + resources + fronts
    built.lookups["project"] = project
    return built
