"""The fake VPC Lattice's resource operations (see lattice_fake.py for how requests arrive)."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.providers.aws.lattice_auth import AuthPolicies
from tests.providers.aws.lattice_fake import LatticeCore, LatticeError, conflict, not_found
from tests.providers.aws.lattice_states import AsyncStates

Params = dict[str, Any]


def _at_most_100(targets: list[Params]) -> None:
    if len(targets) > MAX_TARGETS_PER_CALL:
        raise LatticeError(400, "ValidationException", f"targets: at most {MAX_TARGETS_PER_CALL} per call")


def _ipv4(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 4
    except ValueError:
        return False


MAX_TARGETS_PER_CALL = 100  # RegisterTargets / DeregisterTargets


class LatticeFake(AuthPolicies, AsyncStates, LatticeCore):
    # ListTargets answers that still show a deregistered target as DRAINING (-1: gone at once);
    # a group keeps refusing to be deleted while a target drains.
    drain_lists = 1

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self._init_states()
        self._init_auth()

    # -- service networks and VPC associations ---------------------------------------------
    def create_service_network(self, p: Params) -> Params:
        if any(n["name"] == p["name"] for n in self.networks.values()):
            raise conflict(f"service network {p['name']} already exists")
        ident, arn = self._new("sn", "servicenetwork/", p.get("tags"))
        self.networks[ident] = {"id": ident, "arn": arn, "name": p["name"], "authType": p.get("authType", "NONE")}
        return dict(self.networks[ident])

    def list_service_networks(self, p: Params) -> Params:
        return self._page([{k: n[k] for k in ("id", "arn", "name")} for n in self.networks.values()], p)

    def get_service_network(self, p: Params) -> Params:
        return dict(self._find(self.networks, p["serviceNetworkIdentifier"], "service network"))

    def update_service_network(self, p: Params) -> Params:
        network = self._find(self.networks, p["serviceNetworkIdentifier"], "service network")
        network["authType"] = p["authType"]
        return dict(network)

    def delete_service_network(self, p: Params) -> Params:
        network = self._find(self.networks, p["serviceNetworkIdentifier"], "service network")
        tables = (self.vpc_associations, self.service_associations)
        if any(a["serviceNetworkId"] == network["id"] for table in tables for a in table.values()):
            raise conflict(f"service network {network['id']} still has associations")
        del self.networks[network["id"]]
        return {}

    def create_service_network_vpc_association(self, p: Params) -> Params:
        network = self._find(self.networks, p["serviceNetworkIdentifier"], "service network")
        if any(a["vpcId"] == p["vpcIdentifier"] for a in self.vpc_associations.values()):
            raise conflict(f"VPC {p['vpcIdentifier']} is already associated with a service network")
        ident, arn = self._new("snva", "servicenetworkvpcassociation/", p.get("tags"))
        self.vpc_associations[ident] = {
            "id": ident,
            "arn": arn,
            "status": "ACTIVE",
            "vpcId": p["vpcIdentifier"],
            "securityGroupIds": p.get("securityGroupIds", []),
            "serviceNetworkId": network["id"],
            "serviceNetworkArn": network["arn"],
            "serviceNetworkName": network["name"],
        }
        self._born("vpc_association", self.vpc_associations, ident)
        return dict(self.vpc_associations[ident])

    def list_service_network_vpc_associations(self, p: Params) -> Params:
        network = self._find(self.networks, p["serviceNetworkIdentifier"], "service network")
        items = [
            {k: v for k, v in a.items() if k != "securityGroupIds"}
            for a in self.vpc_associations.values()
            if a["serviceNetworkId"] == network["id"]
        ]
        return self._page(items, p)

    def get_service_network_vpc_association(self, p: Params) -> Params:
        return dict(self._find(self.vpc_associations, p["serviceNetworkVpcAssociationIdentifier"], "association"))

    def update_service_network_vpc_association(self, p: Params) -> Params:
        association = self._find(self.vpc_associations, p["serviceNetworkVpcAssociationIdentifier"], "association")
        association["securityGroupIds"] = p["securityGroupIds"]
        return dict(association)

    def delete_service_network_vpc_association(self, p: Params) -> Params:
        association = self._find(self.vpc_associations, p["serviceNetworkVpcAssociationIdentifier"], "association")
        return self._dying(self.vpc_associations, association)

    # -- services and their associations ---------------------------------------------------
    def create_service(self, p: Params) -> Params:
        if any(s["name"] == p["name"] for s in self.services.values()):
            raise conflict(f"service {p['name']} already exists")
        ident, arn = self._new("svc", "service/", p.get("tags"))
        dns = {
            "domainName": f"{p['name']}-{ident[-8:]}.7d67968.vpc-lattice-svcs.{self.region}.on.aws",
            "hostedZoneId": "Z0123456789",
        }
        self.services[ident] = {
            "id": ident,
            "arn": arn,
            "name": p["name"],
            "status": "ACTIVE",
            "dnsEntry": dns,
            "authType": p.get("authType", "NONE"),
            "customDomainName": p.get("customDomainName"),
            "certificateArn": p.get("certificateArn"),
        }
        self._born("service", self.services, ident)
        return {k: v for k, v in self.services[ident].items() if v is not None}

    def list_services(self, p: Params) -> Params:
        return self._page([{k: s[k] for k in ("id", "arn", "name", "status")} for s in self.services.values()], p)

    def get_service(self, p: Params) -> Params:
        service = self._find(self.services, p["serviceIdentifier"], "service")
        return {k: v for k, v in service.items() if v is not None}

    def update_service(self, p: Params) -> Params:
        service = self._find(self.services, p["serviceIdentifier"], "service")
        for key in ("certificateArn", "authType"):
            if key in p:
                service[key] = p[key]
        return {k: v for k, v in service.items() if v is not None and k != "dnsEntry"}

    def delete_service(self, p: Params) -> Params:
        service = self._find(self.services, p["serviceIdentifier"], "service")
        if any(a["serviceId"] == service["id"] for a in self.service_associations.values()):
            raise conflict(f"service {service['id']} is still associated with a service network")
        for listener in [li for li in self.listeners.values() if li["serviceId"] == service["id"]]:
            self._drop_listener(listener)
        return {**self._dying(self.services, service), "name": service["name"]}

    def create_service_network_service_association(self, p: Params) -> Params:
        network = self._find(self.networks, p["serviceNetworkIdentifier"], "service network")
        service = self._usable(self._find(self.services, p["serviceIdentifier"], "service"), "service")
        if any(
            a["serviceId"] == service["id"] and a["serviceNetworkId"] == network["id"]
            for a in self.service_associations.values()
        ):
            raise conflict("the service is already associated with this service network")
        domain, joined = service.get("customDomainName"), self._in_network(network["id"])
        if domain and any(a.get("customDomainName") == domain for a in joined):
            raise conflict(f"custom domain name {domain} is already used in service network {network['id']}")
        ident, arn = self._new("snsa", "servicenetworkserviceassociation/", p.get("tags"))
        self.service_associations[ident] = {
            "id": ident,
            "arn": arn,
            "status": "ACTIVE",
            "serviceId": service["id"],
            "serviceArn": service["arn"],
            "serviceName": service["name"],
            "serviceNetworkId": network["id"],
            "serviceNetworkArn": network["arn"],
            "serviceNetworkName": network["name"],
            "dnsEntry": service["dnsEntry"],
            "customDomainName": domain,
        }
        self._born("service_association", self.service_associations, ident)
        return {"id": ident, "arn": arn, "status": self.service_associations[ident]["status"]}

    def _in_network(self, network: str) -> list[Params]:
        return [dict(a) for a in self.service_associations.values() if a["serviceNetworkId"] == network]

    def list_service_network_service_associations(self, p: Params) -> Params:
        if "serviceIdentifier" not in p:  # the API takes either a service or a service network
            return self._page(self._in_network(self._find(self.networks, p["serviceNetworkIdentifier"], "")["id"]), p)
        service = self._find(self.services, p["serviceIdentifier"], "service")
        items = [dict(a) for a in self.service_associations.values() if a["serviceId"] == service["id"]]
        return self._page(items, p)

    def delete_service_network_service_association(self, p: Params) -> Params:
        ident = p["serviceNetworkServiceAssociationIdentifier"]
        return self._dying(self.service_associations, self._find(self.service_associations, ident, "association"))

    # -- listeners and rules ---------------------------------------------------------------
    def create_listener(self, p: Params) -> Params:
        service = self._usable(self._find(self.services, p["serviceIdentifier"], "service"), "service")
        mine = [li for li in self.listeners.values() if li["serviceId"] == service["id"]]
        if any(li["port"] == p["port"] or li["name"] == p["name"] for li in mine):
            raise conflict(f"service {service['id']} already has a listener on {p['port']} or named {p['name']}")
        self._uses(p["defaultAction"])
        ident, arn = self._new("listener", f"service/{service['id']}/listener/", p.get("tags"))
        self.listeners[ident] = {
            "id": ident,
            "arn": arn,
            "name": p["name"],
            "protocol": p["protocol"],
            "port": p["port"],
            "serviceId": service["id"],
            "serviceArn": service["arn"],
            "defaultAction": p["defaultAction"],
        }
        return dict(self.listeners[ident])

    def _listener(self, p: Params) -> dict[str, Any]:
        service = self._find(self.services, p["serviceIdentifier"], "service")
        listener = self._find(self.listeners, p["listenerIdentifier"], "listener")
        if listener["serviceId"] != service["id"]:
            raise not_found("listener", p["listenerIdentifier"])
        return listener

    def list_listeners(self, p: Params) -> Params:
        service = self._find(self.services, p["serviceIdentifier"], "service")
        items = [
            {k: li[k] for k in ("id", "arn", "name", "protocol", "port")}
            for li in self.listeners.values()
            if li["serviceId"] == service["id"]
        ]
        return self._page(items, p)

    def get_listener(self, p: Params) -> Params:
        return dict(self._listener(p))

    def update_listener(self, p: Params) -> Params:
        listener = self._listener(p)
        self._uses(p["defaultAction"])
        listener["defaultAction"] = p["defaultAction"]
        return dict(listener)

    def _drop_listener(self, listener: dict[str, Any]) -> None:
        for rule in [r for r in self.rules.values() if r["listenerId"] == listener["id"]]:
            del self.rules[rule["id"]]
        del self.listeners[listener["id"]]

    def delete_listener(self, p: Params) -> Params:
        self._drop_listener(self._listener(p))
        return {}

    def create_rule(self, p: Params) -> Params:
        listener = self._listener(p)
        mine = [r for r in self.rules.values() if r["listenerId"] == listener["id"]]
        if any(r["priority"] == p["priority"] or r["name"] == p["name"] for r in mine):
            raise conflict(f"listener {listener['id']} already has priority {p['priority']} or a rule {p['name']}")
        self._uses(p["action"])
        ident, arn = self._new(
            "rule", f"service/{listener['serviceId']}/listener/{listener['id']}/rule/", p.get("tags")
        )
        self.rules[ident] = {
            "id": ident,
            "arn": arn,
            "name": p["name"],
            "priority": p["priority"],
            "match": p["match"],
            "action": p["action"],
            "isDefault": False,
            "listenerId": listener["id"],
        }
        return {k: v for k, v in self.rules[ident].items() if k not in ("listenerId", "isDefault")}

    def _rule(self, p: Params) -> dict[str, Any]:
        listener = self._listener(p)
        rule = self._find(self.rules, p["ruleIdentifier"], "rule")
        if rule["listenerId"] != listener["id"]:
            raise not_found("rule", p["ruleIdentifier"])
        return rule

    def list_rules(self, p: Params) -> Params:
        listener = self._listener(p)
        items = [
            {k: r[k] for k in ("id", "arn", "name", "priority", "isDefault")}
            for r in self.rules.values()
            if r["listenerId"] == listener["id"]
        ]
        return self._page(items, p)

    def get_rule(self, p: Params) -> Params:
        return {k: v for k, v in self._rule(p).items() if k != "listenerId"}

    def update_rule(self, p: Params) -> Params:
        rule = self._rule(p)
        if "priority" in p and any(
            r["priority"] == p["priority"] and r["id"] != rule["id"]
            for r in self.rules.values()
            if r["listenerId"] == rule["listenerId"]
        ):
            raise conflict(f"priority {p['priority']} is in use")
        if "action" in p:
            self._uses(p["action"])
        rule.update({k: p[k] for k in ("match", "priority", "action") if k in p})
        return {k: v for k, v in rule.items() if k != "listenerId"}

    def batch_update_rule(self, p: Params) -> Params:
        listener = self._listener(p)
        mine = {r["id"]: r for r in self.rules.values() if r["listenerId"] == listener["id"]}
        wanted = {self._rule({**p, "ruleIdentifier": u["ruleIdentifier"]})["id"]: u for u in p["rules"]}
        final = [wanted[i].get("priority", r["priority"]) if i in wanted else r["priority"] for i, r in mine.items()]
        if len(final) != len(set(final)):
            raise conflict("the new priorities collide")
        for ident, update in wanted.items():
            mine[ident].update({k: update[k] for k in ("match", "priority", "action") if k in update})
        return {
            "successful": [{k: v for k, v in mine[i].items() if k != "listenerId"} for i in wanted],
            "unsuccessful": [],
        }

    def delete_rule(self, p: Params) -> Params:
        del self.rules[self._rule(p)["id"]]
        return {}

    # -- target groups ---------------------------------------------------------------------
    def create_target_group(self, p: Params) -> Params:
        if any(g["name"] == p["name"] for g in self.target_groups.values()):
            raise conflict(f"target group {p['name']} already exists")
        ident, arn = self._new("tg", "targetgroup/", p.get("tags"))
        self.target_groups[ident] = {
            "id": ident,
            "arn": arn,
            "name": p["name"],
            "type": p["type"],
            "config": p["config"],
        }
        self._born("target_group", self.target_groups, ident)
        self.targets[ident] = {}
        return dict(self.target_groups[ident])

    def list_target_groups(self, p: Params) -> Params:
        items = [
            {
                "id": g["id"],
                "arn": g["arn"],
                "name": g["name"],
                "type": g["type"],
                "status": g["status"],
                "port": g["config"]["port"],
                "protocol": g["config"]["protocol"],
                "vpcIdentifier": g["config"]["vpcIdentifier"],
            }
            for g in self.target_groups.values()
        ]
        return self._page(items, p)

    def get_target_group(self, p: Params) -> Params:
        return dict(self._find(self.target_groups, p["targetGroupIdentifier"], "target group"))

    def delete_target_group(self, p: Params) -> Params:
        group = self._find(self.target_groups, p["targetGroupIdentifier"], "target group")
        actions = [r["action"] for r in self.rules.values()] + [li["defaultAction"] for li in self.listeners.values()]
        if any(group["arn"] in self._uses(a) for a in actions):
            raise conflict(f"target group {group['id']} is used by a listener rule")
        if self.targets[group["id"]]:
            raise conflict(f"target group {group['id']} has registered targets")
        return self._dying(self.target_groups, group)

    def register_targets(self, p: Params) -> Params:
        group = self._usable(self._find(self.target_groups, p["targetGroupIdentifier"], "target group"), "group")
        _at_most_100(p["targets"])
        done, refused = [], []
        for target in p["targets"]:
            port = target.get("port", group["config"]["port"])
            if not _ipv4(target["id"]):
                why = f"{target['id']} is not an IPv4 address of this IPV4 target group"
                refused.append({**target, "failureCode": "InvalidParameter", "failureMessage": why})
                continue
            self.targets[group["id"]][(target["id"], port)] = {"id": target["id"], "port": port, "status": "HEALTHY"}
            done.append(target)
        return {"successful": done, "unsuccessful": refused}

    def deregister_targets(self, p: Params) -> Params:
        """Targets drain first: listed as DRAINING (and keeping the group from being deleted) until
        `drain_lists` ListTargets answers have shown them."""
        group = self._find(self.target_groups, p["targetGroupIdentifier"], "target group")
        _at_most_100(p["targets"])
        for target in p["targets"]:
            key = (target["id"], target.get("port", group["config"]["port"]))
            if key in self.targets[group["id"]] and self.drain_lists < 0:
                del self.targets[group["id"]][key]
            elif key in self.targets[group["id"]]:
                self.targets[group["id"]][key].update(status="DRAINING", lists_left=self.drain_lists)
        return {"successful": p["targets"], "unsuccessful": []}

    def list_targets(self, p: Params) -> Params:
        group = self._find(self.target_groups, p["targetGroupIdentifier"], "target group")
        targets = self.targets[group["id"]]
        answer = self._page([{k: v for k, v in t.items() if k != "lists_left"} for t in targets.values()], p)
        for key, target in list(targets.items()):
            if target["status"] == "DRAINING":
                target["lists_left"] -= 1
                if target["lists_left"] < 0:
                    del targets[key]
        return answer
