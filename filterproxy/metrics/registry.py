"""The private metrics registry and constructors that keep names and labels within the rules.

Every package defines its own metrics on the registry it is handed (``filterproxy serve``
makes one with :func:`new_registry`). The constructors here check the conventions of
DESIGN.md at construction time, so a slip fails a unit test instead of reaching a dashboard:

- names are ``filterproxy_<subsystem>_...``; counters end in ``_total``; histograms of
  durations end in ``_seconds``;
- label names come from :data:`BOUNDED_LABELS` only: sets bounded by the code or the
  configuration. A client address, a domain, a URL or a user name is never a label.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, disable_created_metrics

from filterproxy import __version__

#: Label names whose values come from bounded sets (enums in the code or ids in the configuration).
BOUNDED_LABELS = frozenset(
    {
        "category",  # model.Category, plus "none"/"educational" where documented
        "action",  # model.Action
        "reason",  # model.Reason
        "protocol",  # dns | http | https
        "group",  # policy group names from the configuration
        "outcome",  # per-subsystem enum, e.g. blocked/cached/forwarded/servfail
        "qtype",  # DNS query type, folded to a fixed set by the DNS package
        "rcode",  # DNS response code
        "source",  # list source ids from the configuration
        "state",  # list source download state: never | fetching | ok | failed
        "status",  # incident lifecycle status
        "result",  # ok | failed | pass | fail ...
        "kind",  # per-subsystem enum
        "mode",  # passthrough | intercepted | explicit | transparent
        "upstream",  # configured upstream resolver index or address (server, never a client)
        "stage",  # DNS chain stage name
        "channel",  # alert channel: email | webhook
        "store",  # sqlite | postgresql
        "handling",  # proxy TLS handling: passthrough | intercepted | refused
        "hook",  # mitmproxy hook name
        "theme",  # search watch-list theme from the configuration
    }
)

_NAME = re.compile(r"^filterproxy_[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]$")
DEFAULT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def new_registry(*, process: bool = True) -> CollectorRegistry:
    """A private registry carrying ``filterproxy_build_info`` (and process metrics unless told not to).

    The ``*_created`` series prometheus-client adds beside every counter and histogram are turned
    off (process-wide): they double the series count and no dashboard or alert of ours reads them.
    """
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry(auto_describe=True)
    info = gauge(registry, "filterproxy_build_info", "Build of the running filterproxy (always 1).",
                 ("version", "python", "implementation"))
    info.labels(__version__, platform.python_version(), platform.python_implementation()).set(1)
    if process:
        ProcessCollector(registry=registry)
    return registry


def check_name(name: str, *, suffix: str | None = None) -> None:
    """Raise ValueError unless ``name`` follows the naming rules (and ends in ``suffix`` if given)."""
    if name != "filterproxy_build_info" and not _NAME.match(name):
        raise ValueError(f"metric name {name!r} is not filterproxy_<subsystem>_<name> in snake case")
    if suffix is not None and not name.endswith(suffix):
        raise ValueError(f"metric name {name!r} must end in {suffix!r}")


def check_labels(labels: Sequence[str]) -> None:
    """Raise ValueError for a label name outside :data:`BOUNDED_LABELS`."""
    unknown = sorted(set(labels) - BOUNDED_LABELS)
    if unknown:
        raise ValueError(f"label(s) {unknown} are not bounded labels; allowed: {sorted(BOUNDED_LABELS)}")


def counter(registry: CollectorRegistry, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
    check_name(name, suffix="_total")
    check_labels(labels)
    return Counter(name, doc, tuple(labels), registry=registry)


def gauge(registry: CollectorRegistry, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
    check_name(name)
    check_labels([x for x in labels if name != "filterproxy_build_info"])
    return Gauge(name, doc, tuple(labels), registry=registry)


def histogram(
    registry: CollectorRegistry,
    name: str,
    doc: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = DEFAULT_BUCKETS,
) -> Histogram:
    check_name(name, suffix="_seconds")
    check_labels(labels)
    return Histogram(name, doc, tuple(labels), registry=registry, buckets=tuple(buckets))
