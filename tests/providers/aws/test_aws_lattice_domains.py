"""Custom domain names are unique per service network: the oldest route keeps a hostname.

Within one Gateway the provider rejects the later route's rules before calling (naming the route
that keeps the name); across Gateways that share a service network, Lattice itself refuses the
second association (ConflictException, as the fake does) and only that route is reported.
"""

from __future__ import annotations

from portico.ir import GatewayIR, Rule
from portico_providers.aws_common.clients import CallCounter
from tests.irs import GATEWAY, backend, gateway, listener, rule
from tests.providers.aws.conftest import Account
from tests.providers.aws.lattice_resources import LatticeFake
from tests.providers.aws.test_aws_lattice_e2e import PARAMS, VPC, make_lattice

HOST = "store.shop.internal"
OLD, NEW = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"


def route_rule(route: str, created: str, path: str = "/") -> Rule:
    made = rule(route, path=path, backends=(backend(route),), hostnames=(HOST,))
    return made.model_copy(update={"route_created": created})


def two_routes(older: str, newer: str) -> GatewayIR:
    # The newer route's longer path puts its rule first in precedence order: age must decide.
    rules = (route_rule(newer, NEW, path="/checkout"), route_rule(older, OLD))
    return gateway(listener(rules=rules), params=PARAMS, controller="portico.dev/aws-lattice")


def test_the_oldest_route_keeps_a_hostname_and_the_later_one_is_rejected_naming_it(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    lattice = make_lattice(account, fake, CallCounter())
    for older, newer in (("zeta", "alpha"), ("alpha", "zeta")):
        ir = two_routes(older, newer)
        check = lattice.capabilities().check_rules
        assert check is not None
        rejected = check(ir.listeners)
        [later] = [r for r in ir.listeners[0].rules if r.route.name == newer]
        assert list(rejected) == [later.id]
        assert f"custom domain name {HOST} is already used by HTTPRoute/shop/{older}" in rejected[later.id]
    result = lattice.reconcile(two_routes("zeta", "alpha"))
    assert result.programmed, result.message
    [service] = fake.services.values()
    assert service["customDomainName"] == HOST and "zeta" in service["name"]


def test_lattice_refuses_a_second_service_with_the_hostname_in_a_shared_network(account: Account) -> None:
    fake = LatticeFake(account.session.region_name)
    fake.create_service_network({"name": "shared", "tags": {}})
    shared = {"awsLattice": {"vpcId": VPC, "serviceNetwork": "shared", "associateVpc": False}}
    first = make_lattice(account, fake, CallCounter())
    other_gateway = GATEWAY.model_copy(update={"name": "other"})
    one = gateway(listener(rules=(route_rule("store", OLD),)), params=shared, controller="portico.dev/aws-lattice")
    assert first.reconcile(one).programmed
    mine = (route_rule("store-copy", NEW), rule("admin", path="/", backends=(backend("admin"),)))
    two = gateway(listener(rules=mine), params=shared, controller="portico.dev/aws-lattice")
    two = two.model_copy(update={"gateway": other_gateway})
    result = first.reconcile(two)
    assert result.programmed, result.message  # the admin route is programmed
    [refused] = [r.id for r in mine if r.route.name == "store-copy"]
    assert list(result.refused_rules) == [refused]
    assert "ConflictException" in result.refused_rules[refused]
    assert f"custom domain name {HOST} is already used" in result.refused_rules[refused]
    # Joined: the first Gateway's store and the admin route; the copy's service is not associated.
    joined = sorted(a["serviceName"] for a in fake.service_associations.values())
    assert len(joined) == 2 and not any("store-copy" in name for name in joined)
