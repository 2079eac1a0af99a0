"""The incident store schema, identical in SQLite and PostgreSQL, as numbered migrations.

``{id}`` is the dialect's auto-increment primary key. Timestamps are UTC text (see codec).
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS incidents (
                id {id},
                node TEXT NOT NULL,
                dedup_key TEXT,
                status TEXT NOT NULL DEFAULT 'new',
                severity TEXT NOT NULL,
                client TEXT, device TEXT, user_name TEXT,
                client_group TEXT NOT NULL,
                host TEXT NOT NULL, site TEXT NOT NULL, url TEXT,
                category TEXT, reason TEXT NOT NULL, verdict TEXT NOT NULL,
                rule TEXT, source TEXT, search_term TEXT,
                protocol TEXT NOT NULL, qtype TEXT, method TEXT, user_agent TEXT,
                first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, count INTEGER NOT NULL,
                reference TEXT NOT NULL,
                action TEXT, outcome TEXT, purged_at TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS incidents_dedup ON incidents (dedup_key, last_seen)",
            "CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen)",
            "CREATE INDEX IF NOT EXISTS incidents_first_seen ON incidents (first_seen)",
            "CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status)",
            """CREATE TABLE IF NOT EXISTS incident_refs (
                reference TEXT NOT NULL,
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                at TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS incident_refs_reference ON incident_refs (reference)",
            "CREATE INDEX IF NOT EXISTS incident_refs_incident ON incident_refs (incident_id)",
            """CREATE TABLE IF NOT EXISTS transitions (
                id {id},
                incident_id BIGINT NOT NULL REFERENCES incidents (id),
                from_status TEXT NOT NULL, to_status TEXT NOT NULL,
                by_user TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS transitions_incident ON transitions (incident_id)",
            """CREATE TABLE IF NOT EXISTS node_state (
                node TEXT PRIMARY KEY,
                submitted_seq BIGINT NOT NULL DEFAULT 0,
                stored_seq BIGINT NOT NULL DEFAULT 0,
                lost_total BIGINT NOT NULL DEFAULT 0,
                dropped_total BIGINT NOT NULL DEFAULT 0,
                digest_at TEXT,
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
    (
        2,
        (  # who identified the person (radius, proxy_auth, inventory, dhcp) and when
            "ALTER TABLE incidents ADD COLUMN identified_by TEXT",
            "ALTER TABLE incidents ADD COLUMN identified_at TEXT",
            "CREATE INDEX IF NOT EXISTS incidents_user ON incidents (user_name, first_seen)",
        ),
    ),
)

LATEST = MIGRATIONS[-1][0]
