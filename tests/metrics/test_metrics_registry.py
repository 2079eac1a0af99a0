from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, generate_latest

from filterproxy.metrics.registry import counter, gauge, histogram, new_registry


@pytest.mark.parametrize(
    ("make", "name", "labels", "message"),
    [
        (counter, "filterproxy_dns_queries", (), "_total"),
        (counter, "dns_queries_total", (), "filterproxy_"),
        (counter, "filterproxy_dns_queries_total", ("client",), "not bounded"),
        (gauge, "filterproxy_http_x", ("domain",), "not bounded"),
        (gauge, "filterproxy_http_x", ("user",), "not bounded"),
        (histogram, "filterproxy_dns_latency", (), "_seconds"),
        (histogram, "filterproxy_DNS_latency_seconds", (), "snake case"),
    ],
)
def test_constructors_refuse_bad_names_and_unbounded_labels(
    make: object, name: str, labels: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make(new_registry(process=False), name, "doc", labels)  # type: ignore[operator]


def test_constructors_build_working_metrics() -> None:
    registry = new_registry(process=False)
    counter(registry, "filterproxy_dns_answers_total", "d", ("rcode",)).labels("NOERROR").inc()
    histogram(registry, "filterproxy_dns_latency_seconds", "d", ("protocol",)).labels("udp").observe(0.002)
    text = generate_latest(registry).decode()
    assert 'filterproxy_dns_answers_total{rcode="NOERROR"} 1.0' in text
    assert 'filterproxy_dns_latency_seconds_bucket{le="0.0025",protocol="udp"} 1.0' in text
    assert "process_" not in text


def test_registries_are_private() -> None:
    a, b = new_registry(process=False), new_registry(process=False)
    in_a = counter(a, "filterproxy_x_y_total", "d")
    counter(b, "filterproxy_x_y_total", "d")  # no clash: each registry is its own namespace
    in_a.inc(3)
    assert a.get_sample_value("filterproxy_x_y_total") == 3.0
    assert b.get_sample_value("filterproxy_x_y_total") == 0.0  # b's counter is a different object
    # Nothing reaches the process-wide default registry.
    assert REGISTRY.get_sample_value("filterproxy_x_y_total") is None
    assert "filterproxy_x_y_total" not in generate_latest(REGISTRY).decode()
    # The "no clash" above is real isolation, not a registry that accepts duplicates.
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        counter(a, "filterproxy_x_y_total", "d")
