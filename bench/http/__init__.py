"""HTTP proxy benchmark: filterproxy against squid + squidGuard and e2guardian. See __main__."""
