"""The annual filtering and monitoring review (`filterproxy review`), for governors to sign."""
