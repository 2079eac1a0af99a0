"""`filterproxy selftest`: probe the running resolver and proxy with known names per category.

Blocking probes must be blocked, educational sites must stay reachable (over-blocking is a
failure too); each run is stored for the annual review and exported as metrics.
"""
