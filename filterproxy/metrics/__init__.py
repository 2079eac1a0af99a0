"""Prometheus metrics: a private registry, naming-rule constructors, the exporter, list metrics.

Use :func:`filterproxy.metrics.registry.new_registry` for the registry handed to every runtime
component and :class:`filterproxy.metrics.exporter.MetricsServer` to serve it.
"""
