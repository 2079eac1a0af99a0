"""The web console: dashboards, the incident queue, lists, unblock requests, the review (see docs/console.md).

``filterproxy serve`` runs it in a child process or on its own thread and event loop
(:mod:`filterproxy.console.server`, :mod:`filterproxy.console.threaded`);
people and roles are managed with ``filterproxy users``, unblock requests also with ``filterproxy requests``.
"""
