"""`portico serve` binds every Gateway to one address: listeners of several Gateways share a port
only when they are distinct (HTTPS and TLS by hostname, TCP and UDP as two sockets)."""

from __future__ import annotations

from portico.ir import ListenerProtocol, TLSMode
from portico_proxy.merge import merge_on_one_address
from tests.irs import gateway, listener


def test_https_and_tls_share_a_port_and_tcp_and_udp_a_number_across_gateways() -> None:
    web = gateway(
        listener("https", 443, protocol=ListenerProtocol.HTTPS, hostname="www.example.com"),
        listener("dns-tcp", 53, protocol=ListenerProtocol.TCP),
        name="a-web",
    )
    other = gateway(
        listener(
            "vault", 443, protocol=ListenerProtocol.TLS, hostname="vault.example.com", tls_mode=TLSMode.PASSTHROUGH
        ),
        listener(
            "same-name", 443, protocol=ListenerProtocol.TLS, hostname="www.example.com", tls_mode=TLSMode.PASSTHROUGH
        ),
        listener("dns-udp", 53, protocol=ListenerProtocol.UDP),
        listener("plain", 443, protocol=ListenerProtocol.HTTP, hostname="plain.example.com"),
        name="b-other",
    )
    merged, problems = merge_on_one_address([other, web])
    assert [listener.name for listener in merged[1].listeners] == ["vault", "dns-udp"]
    assert problems == [
        "Gateway shop/b-other listener same-name: not served: HostnameConflict: port 443, www.example.com, is "
        "served by Gateway shop/a-web listener https (one address for all Gateways)",
        "Gateway shop/b-other listener plain: not served: ProtocolConflict: port 443 is served as HTTPS/TLS by "
        "Gateway shop/a-web listener https (one address for all Gateways)",
    ]
