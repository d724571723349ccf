"""The versions published in a PostGIS database (geoborder.store.postgis.publish loads them): the
list, the switch of the pointer readers read (`activate`, `rollback`, and the last step of every
`publish`), and `drop_version`. Every switch holds the one advisory lock of the database, so
publishers and switches are serialised; the pointer row, the ``geoborder_current`` views and the
history change in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from geoborder.store.postgis.naming import (
    CURRENT_SCHEMA,
    METRIC_COLUMN,
    TABLES_META,
    PublishError,
    check_identifier,
    connect,
    redact,
    schema_for,
)

# one advisory lock for every publish / switch on a database: publishers are serialised
ADVISORY_LOCK = 0x6765_6F62  # "geob"


def _lock(cur) -> None:
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))


def _grant(cur, schema: str, roles: Iterable[str]) -> None:
    from psycopg import sql

    for role in roles:
        r = sql.Identifier(role)
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), r))
        cur.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), r))


def _loaded_tables(cur, schema: str) -> list[str]:
    from psycopg import sql

    cur.execute(
        sql.SQL("SELECT table_name FROM {}.{} ORDER BY position").format(
            sql.Identifier(schema), sql.Identifier(TABLES_META)
        )
    )
    return [check_identifier(r[0], "table name") for r in cur.fetchall()]


def _switch(cur, version: str, action: str) -> str | None:
    """Point readers at `version` (already loaded): pointer row, views, history. In the caller's
    transaction. Returns the previous version."""
    from psycopg import sql

    schema = schema_for(version)
    cur.execute("SELECT 1 FROM geoborder.versions WHERE version = %s", (version,))
    if cur.fetchone() is None:
        raise PublishError(f"version {version} is not loaded in this database")
    cur.execute("SELECT version FROM geoborder.published FOR UPDATE")
    row = cur.fetchone()
    previous = row[0] if row else None
    cur.execute(
        """INSERT INTO geoborder.published (singleton, version, schema_name, published_at)
                   VALUES (true, %s, %s, clock_timestamp())
                   ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version,
                   schema_name = EXCLUDED.schema_name, published_at = EXCLUDED.published_at""",
        (version, schema),
    )
    cur.execute(
        "INSERT INTO geoborder.history (action, version, previous) VALUES (%s, %s, %s)", (action, version, previous)
    )
    cur_s = sql.Identifier(CURRENT_SCHEMA)
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(cur_s))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(cur_s))
    for name in _loaded_tables(cur, schema):
        # every column but the metric geometry (internal to the queries; one geometry per view)
        cur.execute(
            """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0
                       AND NOT attisdropped AND attname <> %s ORDER BY attnum""",
            (sql.Identifier(schema, name).as_string(cur), METRIC_COLUMN),
        )
        cols = [sql.Identifier(r[0]) for r in cur.fetchall()]
        cur.execute(
            sql.SQL("CREATE VIEW {}.{} AS SELECT {} FROM {}.{}").format(
                cur_s, sql.Identifier(name), sql.SQL(", ").join(cols), sql.Identifier(schema), sql.Identifier(name)
            )
        )
    cur.execute("SELECT role FROM geoborder.readers ORDER BY role")
    roles = [check_identifier(r[0], "role") for r in cur.fetchall()]
    _grant(cur, CURRENT_SCHEMA, roles)
    return previous


@dataclass
class VersionRow:
    version: str
    schema: str
    built_at: str | None
    loaded_at: datetime
    layers: int
    features: int
    current: bool


def list_versions(url: str) -> list[VersionRow]:
    """Every loaded version, oldest first."""
    with connect(url) as con, con.cursor() as cur:
        if not _has_control(cur):
            return []
        cur.execute("""SELECT v.version, v.schema_name, v.built_at, v.loaded_at, v.layers, v.features,
                              p.version IS NOT NULL
                       FROM geoborder.versions v LEFT JOIN geoborder.published p ON p.version = v.version
                       ORDER BY v.loaded_at, v.version""")
        return [VersionRow(*r) for r in cur.fetchall()]


def _has_control(cur) -> bool:
    cur.execute("SELECT to_regclass('geoborder.published') IS NOT NULL")
    return bool(cur.fetchone()[0])


def activate(url: str, version: str, *, action: str = "activate") -> str | None:
    """Make an already loaded `version` current. Returns the previous current version."""
    schema_for(version)
    with connect(url) as con, con.transaction(), con.cursor() as cur:
        if not _has_control(cur):
            raise PublishError(f"nothing is published at {redact(url)}")
        _lock(cur)
        return _switch(cur, version, action)


def rollback(url: str) -> tuple[str, str]:
    """Back one version: the loaded version loaded just before the current one.
    Returns (from, to)."""
    with connect(url) as con, con.transaction(), con.cursor() as cur:
        if not _has_control(cur):
            raise PublishError(f"nothing is published at {redact(url)}")
        _lock(cur)
        cur.execute("""SELECT p.version, v.loaded_at FROM geoborder.published p
                           JOIN geoborder.versions v USING (version)""")
        row = cur.fetchone()
        if row is None:
            raise PublishError("no current version to roll back from")
        current, loaded_at = row
        cur.execute(
            """SELECT version FROM geoborder.versions
                           WHERE (loaded_at, version) < (%s, %s) ORDER BY loaded_at DESC, version DESC
                           LIMIT 1""",
            (loaded_at, current),
        )
        prev = cur.fetchone()
        if prev is None:
            raise PublishError(f"no version older than the current {current} is loaded: nothing to roll back to")
        _switch(cur, prev[0], "rollback")
        return current, prev[0]


def drop_version(url: str, version: str) -> None:
    """Drop a loaded version that is not current."""
    from psycopg import sql

    schema = schema_for(version)
    with connect(url) as con, con.transaction(), con.cursor() as cur:
        if not _has_control(cur):
            raise PublishError(f"nothing is published at {redact(url)}")
        _lock(cur)
        cur.execute("SELECT version FROM geoborder.published")
        row = cur.fetchone()
        if row and row[0] == version:
            raise PublishError(f"version {version} is current: roll back or publish another one first")
        cur.execute("DELETE FROM geoborder.versions WHERE version = %s RETURNING version", (version,))
        if cur.fetchone() is None:
            raise PublishError(f"version {version} is not loaded in this database")
        cur.execute("INSERT INTO geoborder.history (action, version) VALUES ('drop', %s)", (version,))
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
