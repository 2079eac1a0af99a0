"""The generated ruleset: what it contains, and that nft itself accepts it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from filterproxy.errors import ConfigError, GatewayError
from filterproxy.gateway.ruleset import plan_from_config, render

from .conftest import make_config, needs_netns, run_in

BASE = {
    "dns": {"listen": "0.0.0.0:5353", "upstreams": ["127.0.0.1:53"]},
    "proxy": {"listen": "0.0.0.0:8080"},
    "gateway": {"lan_interfaces": ["lan0", "wlan0"]},
}


def _ruleset(tmp_path: Path, **overrides: object) -> str:
    sections = {**BASE, **overrides}
    return render(plan_from_config(make_config(tmp_path, **sections)))


def _divert(ruleset: str) -> str:
    return ruleset.split("chain divert", 1)[1]


def test_steered_mode_redirects_only_steered_and_intercepted(tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path)
    divert = _divert(ruleset)
    lan = 'iifname { "lan0", "wlan0" }'
    assert f"{lan} meta l4proto {{ tcp, udp }} th dport 53 counter redirect to :5353" in divert
    assert "ip daddr @steer4 tcp dport { 80, 443 } counter redirect to :8080" in divert
    assert "ip6 daddr @steer6 tcp dport { 80, 443 } counter redirect to :8080" in divert
    # no rule sends every web connection to the proxy
    assert not any(
        line.strip().endswith('"web (strict)"') or ("dport { 80, 443 }" in line and "@" not in line)
        for line in divert.splitlines()
    )


def test_strict_mode_redirects_all_web(tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path, gateway={"lan_interfaces": ["lan0"], "mode": "strict"})
    divert = _divert(ruleset)
    web = 'iifname { "lan0" } tcp dport { 80, 443 } counter redirect to :8080'
    assert f'{web} comment "web (strict)"' in divert
    assert "@steer4" not in divert


def test_guard_refuses_bypasses_before_nat(tmp_path: Path) -> None:
    ruleset = _ruleset(tmp_path)
    guard = ruleset.split("chain guard", 1)[1].split("chain divert", 1)[0]
    assert "priority mangle" in guard  # runs before the dstnat redirect
    assert "ip daddr @doh4 tcp dport 443 counter reject with tcp reset" in guard
    assert "ip6 daddr @doh6 udp dport 443 counter drop" in guard
    assert "th dport 853 counter drop" in guard
    assert "udp dport 443 counter drop" in guard
    assert "dport 53" not in guard  # DNS to a DoH resolver's address is redirected to us, not refused


def test_guard_switches(tmp_path: Path) -> None:
    gw = {"lan_interfaces": ["lan0"], "block_dot": False, "block_quic": False}
    ruleset = _ruleset(tmp_path, gateway=gw)
    assert "dport 853" not in ruleset
    assert 'comment "QUIC"' not in ruleset


def test_doh_addresses_come_from_config_and_are_collapsed(tmp_path: Path) -> None:
    gw = {"lan_interfaces": ["lan0"], "doh_addresses": ["192.0.2.0/25", "192.0.2.128/25", "2001:db8::1/128"]}
    ruleset = _ruleset(tmp_path, gateway=gw)
    assert "set doh4 { type ipv4_addr; flags interval; elements = { 192.0.2.0/24 }; }" in ruleset
    assert "set doh6 { type ipv6_addr; flags interval; elements = { 2001:db8::1/128 }; }" in ruleset


def test_ports_follow_listen_addresses_unless_overridden(tmp_path: Path) -> None:
    config = make_config(tmp_path, **{**BASE, "dns": {"listen": "10.0.0.1:53"}})
    assert plan_from_config(config).dns_port == 53
    gw = {"lan_interfaces": ["lan0"], "dns_port": 5300, "proxy_port": 3129}
    plan = plan_from_config(make_config(tmp_path, **{**BASE, "gateway": gw}))
    assert (plan.dns_port, plan.proxy_port) == (5300, 3129)


def test_intercept_groups_and_block_page_are_steered(tmp_path: Path) -> None:
    policy = {
        "groups": {
            "pupils": {},
            "staff": {"networks": ["10.9.0.0/16", "fd00:9::/64"], "intercept": True},
            "guests": {"networks": ["10.8.0.0/16"]},
        }
    }
    block = {"blockpage_ipv4": "10.0.0.1", "blockpage_ipv6": "fd00::1"}
    plan = plan_from_config(make_config(tmp_path, **BASE, policy=policy, block=block))
    net = ipaddress.ip_network
    assert plan.intercept_clients == (net("10.9.0.0/16"), net("fd00:9::/64"))
    ruleset = render(plan)
    assert "set intercept4 { type ipv4_addr; flags interval; elements = { 10.9.0.0/16 }; }" in ruleset
    assert "set steer4 { type ipv4_addr; flags timeout; elements = { 10.0.0.1 }; }" in ruleset
    assert "set steer6 { type ipv6_addr; flags timeout; elements = { fd00::1 }; }" in ruleset


@pytest.mark.parametrize("block", [{"blockpage_ipv4": "127.0.0.1"}, {"dns_answer": "nxdomain"}])
def test_block_page_on_loopback_or_unused_is_not_pinned(tmp_path: Path, block: dict[str, str]) -> None:
    plan = plan_from_config(make_config(tmp_path, **BASE, block={**block}))
    assert plan.pinned == ()


def test_no_lan_interfaces_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GatewayError, match="lan_interfaces"):
        plan_from_config(make_config(tmp_path, gateway={}))


@pytest.mark.parametrize(
    ("gateway", "field"),
    [
        ({"lan_interfaces": ['lan0" accept; #']}, "lan_interfaces"),
        ({"lan_interfaces": ["lan0"], "table": "x y"}, "table"),
        ({"lan_interfaces": ["lan0"], "mode": "sometimes"}, "mode"),
        ({"lan_interfaces": ["lan0"], "doh_addresses": ["not-an-address"]}, "doh_addresses"),
    ],
)
def test_bad_settings_name_the_field(tmp_path: Path, gateway: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=f"gateway.{field}"):
        make_config(tmp_path, gateway=gateway)


@needs_netns
@pytest.mark.parametrize("mode", ["steered", "strict"])
def test_nft_accepts_the_ruleset(tmp_path: Path, netns: str, mode: str) -> None:
    staff = {"networks": ["10.9.0.0/16", "fd00:9::/64"], "intercept": True}
    policy = {"groups": {"pupils": {}, "staff": staff}}
    ruleset = _ruleset(
        tmp_path, gateway={"lan_interfaces": ["lan0"], "mode": mode}, policy=policy,
        block={"blockpage_ipv4": "10.0.0.1", "blockpage_ipv6": "fd00::1"},
    )
    checked = run_in(netns, "nft", "-c", "-f", "-", text=ruleset)
    assert checked.returncode == 0, checked.stderr
    assert run_in(netns, "nft", "list", "tables").stdout == ""  # -c changed nothing


@needs_netns
def test_nft_rejects_a_broken_ruleset(tmp_path: Path, netns: str) -> None:
    """Control for the test above: `nft -c` does fail on a bad ruleset."""
    ruleset = _ruleset(tmp_path).replace("redirect to :8080", "redirect to :80800")
    assert run_in(netns, "nft", "-c", "-f", "-", text=ruleset).returncode != 0


EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nftables"


def test_shipped_example_ruleset_is_what_the_example_config_renders() -> None:
    from filterproxy.config.loader import load_config

    config = load_config(EXAMPLE / "example.yaml", env={})
    assert render(plan_from_config(config)) == (EXAMPLE / "filterproxy-gateway.nft").read_text(), (
        "regenerate: filterproxy --config deploy/nftables/example.yaml gateway up --dry-run"
        " > deploy/nftables/filterproxy-gateway.nft"
    )


@needs_netns
def test_nft_accepts_the_shipped_example(netns: str) -> None:
    checked = run_in(netns, "nft", "-c", "-f", "-", text=(EXAMPLE / "filterproxy-gateway.nft").read_text())
    assert checked.returncode == 0, checked.stderr
