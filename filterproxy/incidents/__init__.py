"""The incident queue: every block becomes a durable, deduplicated incident the ICT manager follows up.

Producers (the DNS resolver, the proxy) hand a :class:`~filterproxy.incidents.event.BlockEvent` to
``IncidentQueue.submit`` (never blocks, never raises). A writer thread folds repeats (same client +
site + category within ``dedup_window``) and writes batches to the store; while the store is down,
batches are spooled to an append-only file and replayed in order. ``stop()`` drains everything.

Modules::

    event         BlockEvent, IncidentSink, new_reference()          (the producer contract)
    queue         IncidentQueue: submit(), async start()/stop(), writer thread, loss accounting
    link          StoreLink: store up/down, reconnect back-off
    fold          dedup key and in-batch folding
    store         IncidentStore: write, read API (query, counts_by_month, time_to_triage), lifecycle, purge
    queries       SQL text (one dialect for SQLite and PostgreSQL) and row mapping
    schema        migrations (schema documented in ``store``)
    backends      SQLite (WAL) / PostgreSQL (psycopg 3) connections and error translation
    spool         the append-only JSON-lines spool
    model         Incident, Transition, Status (lifecycle), IncidentFilter
    devices       device names: inventory CSV, dnsmasq / ISC leases, reverse DNS
    who           the person (with how and when identified), device and address, in words
    history       a person's incidents an hour either side of one incident
    alerts        Notifier: webhook (retried) + SMTP for high severity, rate-limited
    digest        the weekly digest
    housekeeping  hourly on the writer thread: retention purge, digest when due
    export        CSV (RFC 4180, formula-safe) and JSON
    metrics       filterproxy_incidents_* on the registry passed in
    commands      `filterproxy incidents ...`

Reading the store from another package (e.g. the annual review)::

    store = open_store(config.incidents, config.data_dir)
    store.query(IncidentFilter(since=..., until=...))      # -> list[Incident]
    store.counts_by_month(since, until)                    # -> [(YYYY-MM, category, incidents, events)]
    store.time_to_triage(since, until)                     # -> [(id, category, seconds)]
    store.counts_by_status(since=None)                     # -> {status: incidents}
"""

from filterproxy.incidents.store import open_store

__all__ = ["open_store"]
