"""The steering set against a real nftables table in a throwaway namespace."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.gateway.metrics import GatewayMetrics
from filterproxy.gateway.nft import Nft
from filterproxy.gateway.ruleset import plan_from_config, render
from filterproxy.gateway.settings import GatewaySettings
from filterproxy.gateway.steering import Steering, SteeringSet, element_commands
from filterproxy.lists.testing import make_engine
from filterproxy.model import IPAddress

from .conftest import make_config, needs_netns, run_in

A = ipaddress.ip_address("192.0.2.10")
B = ipaddress.ip_address("192.0.2.11")
V6 = ipaddress.ip_address("2001:db8::10")


def _elements(netns: str, name: str) -> dict[str, int]:
    """address -> timeout (s) of the elements in one of our sets."""
    listing = json.loads(run_in(netns, "nft", "-j", "list", "set", "inet", "filterproxy", name).stdout)
    found: dict[str, int] = {}
    for item in listing["nftables"]:
        for elem in item.get("set", {}).get("elem", []):
            if isinstance(elem, dict):
                found[elem["elem"]["val"]] = elem["elem"].get("timeout", 0)
            else:
                found[elem] = 0
    return found


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def loaded(tmp_path: Path, netns: str, nft_in: Path) -> GatewaySettings:
    """Our table loaded in the namespace; settings whose nft runs there."""
    config = make_config(
        tmp_path,
        dns={"listen": "0.0.0.0:5353"},
        gateway={"lan_interfaces": ["lan0"], "nft": str(nft_in), "flush_interval": 0.01},
    )
    Nft(str(nft_in)).load(render(plan_from_config(config)))
    return config.gateway


def test_element_commands_refresh_existing_elements() -> None:
    text = element_commands("filterproxy", {A: 90, V6: 60})
    assert text.splitlines() == [
        "add element inet filterproxy steer4 { 192.0.2.10 }",
        "delete element inet filterproxy steer4 { 192.0.2.10 }",
        "add element inet filterproxy steer4 { 192.0.2.10 timeout 90s }",
        "add element inet filterproxy steer6 { 2001:db8::10 }",
        "delete element inet filterproxy steer6 { 2001:db8::10 }",
        "add element inet filterproxy steer6 { 2001:db8::10 timeout 60s }",
    ]


@pytest.mark.parametrize(("ttl", "timeout"), [(0, 90), (300, 330), (10**6, 86400)])
def test_timeout_is_clamped_ttl_plus_grace(ttl: int, timeout: int) -> None:
    assert SteeringSet(GatewaySettings()).timeout_for(ttl) == timeout


@needs_netns
def test_added_addresses_land_in_the_kernel_set_with_ttl(loaded: GatewaySettings, netns: str) -> None:
    async def scenario() -> None:
        steering = SteeringSet(loaded)
        await steering.start()
        steering.add([A, V6], ttl=300)
        steering.add([B], ttl=30)
        for _ in range(200):
            await asyncio.sleep(0.02)
            if len(_elements(netns, "steer4")) == 2:
                break
        await steering.stop()

    asyncio.run(scenario())
    assert _elements(netns, "steer4") == {"192.0.2.10": 330, "192.0.2.11": 90}
    assert _elements(netns, "steer6") == {"2001:db8::10": 330}


@needs_netns
def test_refresh_extends_timeout_and_fresh_entries_cost_nothing(loaded: GatewaySettings, netns: str) -> None:
    registry = CollectorRegistry()
    clock = [1000.0]

    async def scenario() -> None:
        steering = SteeringSet(loaded, metrics=GatewayMetrics.create(registry), clock=lambda: clock[0])
        steering.add([A], ttl=30)  # 90 s
        await steering.flush()
        steering.add([A], ttl=30)  # still steered for 90 s: nothing to do
        await steering.flush()
        clock[0] += 60  # 30 s left < half of 90
        steering.add([A], ttl=600)
        await steering.flush()

    asyncio.run(scenario())
    assert _elements(netns, "steer4") == {"192.0.2.10": 630}
    assert _value(registry, "filterproxy_gateway_steer_skipped_total") == 1
    assert _value(registry, "filterproxy_gateway_steered_addresses_total") == 2
    assert _value(registry, "filterproxy_gateway_steer_batches_total", outcome="ok") == 2


@needs_netns
def test_missing_table_is_counted_not_raised(nft_in: Path, caplog: pytest.LogCaptureFixture) -> None:
    registry = CollectorRegistry()
    settings = GatewaySettings(lan_interfaces=["lan0"], nft=str(nft_in))

    async def scenario() -> None:
        steering = SteeringSet(settings, metrics=GatewayMetrics.create(registry))
        for _ in range(2):
            steering.add([A], ttl=60)
            await steering.flush()

    asyncio.run(scenario())
    assert _value(registry, "filterproxy_gateway_steer_batches_total", outcome="error") == 2
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # logged once per streak
    assert "gateway up" in caplog.records[0].message


@needs_netns
def test_observer_steers_only_names_needing_a_proxy_decision(loaded: GatewaySettings, netns: str) -> None:
    engine = make_engine(deny={"gambling": ["bet.example"]}, urls={"adult": ["mixed.example/bad/"]})
    client = ipaddress.ip_address("10.0.0.5")

    async def scenario() -> None:
        steering_set = SteeringSet(loaded)
        observer = Steering(engine, steering_set)
        answers: list[tuple[str, list[IPAddress]]] = [
            ("mixed.example", [A]),
            ("plain.example", [B]),
            ("bet.example", [ipaddress.ip_address("192.0.2.99")]),
        ]
        for qname, addresses in answers:
            observer.observe(client, qname, addresses, 120)
        await steering_set.flush()

    asyncio.run(scenario())
    assert set(_elements(netns, "steer4")) == {"192.0.2.10"}


@needs_netns
def test_runtime_steers_again_after_the_table_is_reloaded(
    tmp_path: Path, netns: str, nft_in: Path, loaded: GatewaySettings
) -> None:
    from filterproxy.gateway.runtime import GatewayRuntime

    config = make_config(
        tmp_path, dns={"listen": "0.0.0.0:5353"},
        gateway={"lan_interfaces": ["lan0"], "nft": str(nft_in), "flush_interval": 0.01},
    )
    engine = make_engine(urls={"adult": ["mixed.example/bad/"]})
    client = ipaddress.ip_address("10.0.0.5")

    async def scenario() -> None:
        runtime = GatewayRuntime(config, engine, CollectorRegistry(), watch_interval=3600)
        await runtime.start()
        runtime.observer.observe(client, "mixed.example", [A], 300)
        await runtime.steering_set.flush()
        assert set(_elements(netns, "steer4")) == {"192.0.2.10"}
        Nft(str(nft_in)).load(render(plan_from_config(config)))  # `gateway up` again: sets emptied
        assert _elements(netns, "steer4") == {}
        runtime.observer.observe(client, "mixed.example", [A], 300)
        await runtime.steering_set.flush()
        assert _elements(netns, "steer4") == {}, "control: without the watch the address stays missing"
        await runtime.check_table()  # what the watch does every few seconds
        runtime.observer.observe(client, "mixed.example", [A], 300)
        await runtime.stop()

    asyncio.run(scenario())
    assert set(_elements(netns, "steer4")) == {"192.0.2.10"}


@needs_netns
def test_runtime_in_strict_mode_observes_nothing(tmp_path: Path, nft_in: Path) -> None:
    from filterproxy.gateway.runtime import GatewayRuntime

    config = make_config(tmp_path, gateway={"lan_interfaces": ["lan0"], "mode": "strict", "nft": str(nft_in)})
    runtime = GatewayRuntime(config, make_engine(), CollectorRegistry())
    assert runtime.observer is None
    assert GatewayRuntime.wanted(config)


@needs_netns
def test_pinned_block_page_address_keeps_no_timeout(tmp_path: Path, netns: str, nft_in: Path) -> None:
    config = make_config(
        tmp_path, dns={"listen": "0.0.0.0:5353"}, block={"blockpage_ipv4": "192.0.2.1"},
        gateway={"lan_interfaces": ["lan0"], "nft": str(nft_in)},
    )
    Nft(str(nft_in)).load(render(plan_from_config(config)))
    block_page = ipaddress.ip_address("192.0.2.1")

    async def scenario() -> None:
        steering = SteeringSet(config.gateway, pinned=[block_page])
        steering.add([block_page, A], ttl=60)  # a blocked name with URL entries answered by the resolver
        await steering.flush()

    asyncio.run(scenario())
    assert _elements(netns, "steer4") == {"192.0.2.1": 0, "192.0.2.10": 90}  # 0: permanent
