"""filterproxy: an internet filter for school networks.

A DNS resolver and an HTTP(S) proxy share one classification core
(:mod:`filterproxy.classify`); every block becomes an incident for the ICT manager.
"""

from __future__ import annotations

__version__ = "0.1.0"
