"""The resolver's chain stages, one concern each; their order is decided in :mod:`filterproxy.dns.chain`."""
