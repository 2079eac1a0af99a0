"""The nftables ruleset of gateway mode, as text for ``nft -f``.

Everything lives in one table of our own (``inet filterproxy``), so ``gateway down`` removes
exactly what ``gateway up`` added. Two chains on prerouting:

* ``guard`` (priority mangle, before any NAT): refuses what would bypass the filter: known
  DNS-over-HTTPS addresses, DNS over TLS/QUIC (853) and QUIC (UDP 443).
* ``divert`` (priority dstnat): sends all client DNS to our resolver, and TCP 80/443 to the
  transparent proxy: every connection (``strict``) or only those to addresses the resolver
  put in the steering sets (``steered``), plus all traffic of full-interception groups.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from filterproxy.config.model import Config
from filterproxy.config.types import split_host_port
from filterproxy.errors import GatewayError
from filterproxy.gateway.settings import GatewaySettings, Network
from filterproxy.model import IPAddress

STEER_SETS = {4: "steer4", 6: "steer6"}


@dataclass(frozen=True)
class GatewayPlan:
    """Everything the ruleset depends on, resolved from the configuration."""

    settings: GatewaySettings
    dns_port: int
    proxy_port: int
    intercept_clients: tuple[Network, ...] = ()
    pinned: tuple[IPAddress, ...] = ()  # always steered: the block page address

    @property
    def table(self) -> str:
        return self.settings.table


def plan_from_config(config: Config) -> GatewayPlan:
    """Resolve ports, full-interception client networks and the block page address."""
    gw = config.gateway
    if not gw.lan_interfaces:
        raise GatewayError("gateway.lan_interfaces is empty: name the interfaces pupils' traffic comes in on")
    dns_port = gw.dns_port or split_host_port(config.dns.listen)[1]
    proxy_port = gw.proxy_port or split_host_port(config.proxy.listen)[1]
    groups = config.policy.groups.values()
    intercept = tuple(net for group in groups if group.intercept for net in group.networks)
    return GatewayPlan(gw, dns_port, proxy_port, intercept, pinned_addresses(config))


def pinned_addresses(config: Config) -> tuple[IPAddress, ...]:
    """Addresses always steered: the block page's, when blocked names resolve to it."""
    if config.block.dns_answer != "blockpage":
        return ()
    candidates = (config.block.blockpage_ipv4, config.block.blockpage_ipv6)
    return tuple(a for a in candidates if a is not None and not (a.is_loopback or a.is_unspecified))


def render(plan: GatewayPlan) -> str:
    """The whole ruleset; loading it replaces any earlier version of our table atomically."""
    t = plan.table
    lines = [
        f"# filterproxy gateway ({plan.settings.mode} mode); load with: nft -f FILE",
        f"table inet {t}",
        f"delete table inet {t}",
        f"table inet {t} {{",
        *_sets(plan),
        "\tchain guard {",
        "\t\ttype filter hook prerouting priority mangle; policy accept;",
        *(f"\t\t{rule}" for rule in _guard_rules(plan)),
        "\t}",
        "\tchain divert {",
        "\t\ttype nat hook prerouting priority dstnat; policy accept;",
        *(f"\t\t{rule}" for rule in _divert_rules(plan)),
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _elements(items: Iterable[object]) -> str:
    values = sorted({str(item) for item in items})
    return f" elements = {{ {', '.join(values)} }};" if values else ""


def _by_version(items: Sequence[Network | IPAddress], version: int) -> list[Network | IPAddress]:
    return [item for item in items if item.version == version]


def _sets(plan: GatewayPlan) -> list[str]:
    s = plan.settings
    lines: list[str] = []
    for v, kind in ((4, "ipv4_addr"), (6, "ipv6_addr")):
        doh = _collapse(_by_version(s.doh_addresses, v))
        clients = _collapse(_by_version(plan.intercept_clients, v))
        pinned = _by_version(plan.pinned, v)
        lines.append(f"\tset doh{v} {{ type {kind}; flags interval;{_elements(doh)} }}")
        lines.append(f"\tset intercept{v} {{ type {kind}; flags interval;{_elements(clients)} }}")
        lines.append(f"\tset {STEER_SETS[v]} {{ type {kind}; flags timeout;{_elements(pinned)} }}")
    return lines


def _collapse(items: Sequence[Network | IPAddress]) -> list[Network]:
    nets: list[Any] = [ipaddress.ip_network(item) for item in items]  # one IP version per call
    return list(ipaddress.collapse_addresses(nets))


def _lan(plan: GatewayPlan) -> str:
    return "iifname { " + ", ".join(f'"{name}"' for name in plan.settings.lan_interfaces) + " }"


def _guard_rules(plan: GatewayPlan) -> list[str]:
    lan, s = _lan(plan), plan.settings
    # A flow whose first packet was dropped never becomes established, so later packets of
    # allowed flows skip every rule below: the per-packet cost is this one lookup.
    rules = ['ct state { established, related } accept comment "decided at its first packet"']
    refuse = "counter reject with tcp reset"
    for ip, doh in (("ip", "@doh4"), ("ip6", "@doh6")):  # only 443: their port 53 is redirected, not refused
        rules.append(f'{lan} {ip} daddr {doh} tcp dport 443 {refuse} comment "DoH endpoint"')
        rules.append(f'{lan} {ip} daddr {doh} udp dport 443 counter drop comment "DoH endpoint (HTTP/3)"')
    if s.block_dot:
        rules.append(f'{lan} meta l4proto {{ tcp, udp }} th dport 853 counter drop comment "DoT/DoQ"')
    if s.block_quic:
        rules.append(f'{lan} udp dport 443 counter drop comment "QUIC"')
    return rules


def _divert_rules(plan: GatewayPlan) -> list[str]:
    lan, to_proxy = _lan(plan), f"counter redirect to :{plan.proxy_port}"
    dns = f"meta l4proto {{ tcp, udp }} th dport 53 counter redirect to :{plan.dns_port}"
    rules = [f'{lan} {dns} comment "DNS"']
    web = "tcp dport { 80, 443 }"
    if plan.settings.mode == "strict":
        return [*rules, f'{lan} {web} {to_proxy} comment "web (strict)"']
    return [
        *rules,
        f'{lan} ip saddr @intercept4 {web} {to_proxy} comment "full-interception group"',
        f'{lan} ip6 saddr @intercept6 {web} {to_proxy} comment "full-interception group"',
        f'{lan} ip daddr @steer4 {web} {to_proxy} comment "steered"',
        f'{lan} ip6 daddr @steer6 {web} {to_proxy} comment "steered"',
    ]
