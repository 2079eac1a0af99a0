"""Per-format line parsers. :mod:`filterproxy.lists.formats` is the public entry point."""
