"""`PostgisIndicatorDB`: the indicator database (imports, values, API keys) in PostgreSQL, shared by
every instance and worker of a PostGIS deployment; the same interface as the SQLite `IndicatorDB`
(`indicator_db.IndicatorStore`). `open_indicators("postgresql://…")` gives it.

Schema `geoborder_indicators` (created when missing, by a role that may create it): `meta`
(schema_version, instance), `imports` (one row per version; `id` from an identity, `sha256`
unique), `observations` (one value per indicator / vintage / commune / year / import), `api_keys`
(salted scrypt hashes). Names reach SQL through `psycopg.sql.Identifier`; every value is a bound
parameter.

**One import = one transaction.** `write_import` takes its locks, checks the sha256, inserts the
`imports` row and COPYs the values, then commits; any error (a bad row, the connection lost, the
process killed) rolls the whole import back: nothing of it is ever visible.

**Concurrency.** A "table" is one indicator on one unit vintage (poor_households on 2025
communes): what an import writes is a set of tables, and "the latest import wins" is decided per
table. Each import takes one transaction-scoped advisory lock per table it writes
(`pg_advisory_xact_lock`, keys sorted, so two imports can never wait on each other in a cycle)
*before* it draws its import id. Two imports with no table in common run side by side and both
land; two with a table in common are serialised: the second waits until the first commits, then
draws a larger id, so the result is the one of a serial order. Reading and matching the file
happen before, outside the transaction: the locks are held only while the rows are written (a
wait longer than LOCK_TIMEOUT fails the import, a StoreError, nothing written). Import ids
(versions) increase but need not be consecutive: a failed import uses up its number. The same file sent twice at once
takes the same locks: the second sees the first's row once it holds them and is a DuplicateImport
(the unique sha256 is the backstop for the same file under two vintages).

**Revision** (the ETag / cache key, read on every request): one small query,
max(import id) and count(imports) (ids are drawn before commit, so a count is needed when imports
of different tables commit out of id order), prefixed with the database's `instance` id (read once).
API keys do not change any response, so they do not change it.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import pandas as pd

from geoborder.core.errors import NotFound, StoreError
from geoborder.indicators.db import (
    CURRENT_COLUMNS,
    SCHEMA_VERSION,
    ApiKeyError,
    DuplicateImport,
    current_filter,
    finish_current,
    key_taken,
    match_key,
    new_key,
    values_rows,
    years_by_indicator,
)
from geoborder.indicators.db_postgis_schema import (
    DDL,
    IMPORT_COLUMNS,
    LOCK_TIMEOUT,
    SCHEMA,
    TABLES,
    lock_key,
    table_lock_keys,
)
from geoborder.store.postgis.naming import check_identifier, connect, redact

DEFAULT_POOL_SIZE = 4


def _utc_text(dt: datetime) -> str:
    """A timestamptz as the SQLite database writes it (ISO 8601, UTC, seconds)."""
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class PostgisIndicatorDB:
    """The indicator database in schema `schema` of the database at `url`.

    `hold`: test-only hook, `hold(point)` is called inside an import's transaction at "locked"
    (its table locks held, nothing written yet) and "written" (everything written, not yet
    committed); the tests use it to keep an import open while another one runs."""

    def __init__(
        self,
        url: str,
        *,
        schema: str = SCHEMA,
        pool_size: int = DEFAULT_POOL_SIZE,
        hold: Callable[[str], None] | None = None,
    ):
        from psycopg import sql

        self.url = url
        self.path = redact(url)  # for messages: never the password
        self.schema = check_identifier(schema, "indicator schema")
        self.pool_size = int(pool_size)
        self.hold = hold
        self._s = sql.Identifier(self.schema)
        self._lock = threading.Lock()
        self._pool = None
        self.instance = self._ensure_schema()

    # ------------------------------------------------------------------ connections

    def _sql(self, text: str):
        """`text` with {s} as the quoted schema name (a constant of this module, never input)."""
        from psycopg import sql

        return sql.SQL(text).format(s=self._s)

    def _connection(self):
        """A pooled connection (autocommit: a statement alone sees the latest committed data;
        `with con.transaction()` makes a transaction). Opened on first use."""
        from psycopg_pool import ConnectionPool

        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=self.pool_size,
                        kwargs={"autocommit": True},
                        open=True,
                        timeout=30,
                        name="geoborder-indicators",
                    )
        return self._pool.connection()

    def _fail(self, exc: Exception, doing: str) -> StoreError:
        import psycopg
        import psycopg_pool

        if isinstance(exc, (psycopg.OperationalError, psycopg_pool.PoolTimeout)):
            if self._pool is not None:
                self._pool.check()  # drop the broken connections
            return StoreError(f"the indicator database at {self.path} is unavailable ({doing}): {exc}")
        return StoreError(f"the indicator database at {self.path}: {doing} failed: {exc}")

    def _rows(self, text: str, params=(), doing: str = "reading") -> list[tuple]:
        """Rows of one statement (autocommit)."""
        import psycopg
        import psycopg_pool

        try:
            with self._connection() as con:
                cur = con.execute(self._sql(text), params)
                return cur.fetchall() if cur.description is not None else []
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise self._fail(exc, doing) from exc

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _ensure_schema(self) -> str:
        """Create the schema and tables when missing (serialised by an advisory lock, so workers
        starting together do not race); the database's instance id. A schema made by another
        role is used as it is: the service then needs no CREATE right."""
        import psycopg

        with connect(self.url, autocommit=True) as con:
            try:
                if not self._complete(con):
                    with con.transaction():
                        con.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("schema", self.schema),))
                        if not self._complete(con):
                            for stmt in DDL:
                                con.execute(self._sql(stmt))
                            con.execute(
                                self._sql(
                                    "INSERT INTO {s}.meta VALUES ('schema_version', %s), "
                                    "('instance', %s) ON CONFLICT (key) DO NOTHING"
                                ),
                                (str(SCHEMA_VERSION), uuid.uuid4().hex[:12]),
                            )
                meta = dict(con.execute(self._sql("SELECT key, value FROM {s}.meta")).fetchall())
            except psycopg.Error as exc:
                raise StoreError(
                    f"the indicator schema {self.schema} at {self.path} cannot be read or created: {exc}"
                ) from exc
        if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
            raise StoreError(
                f"the indicator schema {self.schema} at {self.path} was made by a newer "
                f"geoborder (schema version {meta['schema_version']})"
            )
        return meta.get("instance", "")

    def _complete(self, con) -> bool:
        """Whether every table exists (a check that needs no right on the schema)."""
        row = con.execute(
            "SELECT bool_and(to_regclass(quote_ident(%s) || '.' || t) IS NOT NULL) FROM unnest(%s::text[]) AS t",
            (self.schema, list(TABLES)),
        ).fetchone()
        return bool(row[0])

    # ------------------------------------------------------------------ saved areas, targets

    def saved_areas(self):
        """The saved named areas in this database (geoborder.indicators.saved_areas), made on first use."""
        if getattr(self, "_saved_areas", None) is None:
            from geoborder.indicators.db_postgis_saved import PostgisSavedAreas

            self._saved_areas = PostgisSavedAreas(self)
        return self._saved_areas

    def saved_targets(self):
        """The reports' targets in this database (geoborder.reports.saved), made on first use."""
        if getattr(self, "_saved_targets", None) is None:
            from geoborder.indicators.db_postgis_saved import PostgisTargets

            self._saved_targets = PostgisTargets(self)
        return self._saved_targets

    # ------------------------------------------------------------------ imports

    def find_import(self, sha256: str) -> dict | None:
        rows = self._rows("SELECT id FROM {s}.imports WHERE sha256 = %s ORDER BY id LIMIT 1", (sha256,))
        return self.get_import(rows[0][0]) if rows else None

    def write_import(
        self, *, file_name: str, sha256: str, who: str, vintage: int, layout: str, values: pd.DataFrame, report: dict
    ) -> int:
        """Write one version: `values` has indicator, commune_code, year, value, line, matched_by.

        One transaction: on any error nothing is written. It waits for the imports that write
        one of its tables (indicator, vintage) to commit first (module docstring); the same file
        imported meanwhile is a DuplicateImport."""
        import psycopg
        import psycopg_pool
        from psycopg.types.json import Json

        keys = table_lock_keys(vintage, values["indicator"].unique())
        rows = values_rows(0, vintage, values)
        try:
            with self._connection() as con, con.transaction():
                con.execute("SELECT set_config('lock_timeout', %s, true)", (LOCK_TIMEOUT,))
                for key in keys:
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                self._hold("locked")
                found = con.execute(self._sql("SELECT id FROM {s}.imports WHERE sha256 = %s"), (sha256,)).fetchone()
                if found is None:
                    import_id = con.execute(
                        self._sql(
                            "INSERT INTO {s}.imports (file_name, sha256, imported_at, who, vintage, layout, n_values, report)"
                            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING RETURNING id"
                        ),
                        (
                            file_name,
                            sha256,
                            _now_utc(),
                            who,
                            int(vintage),
                            layout,
                            len(values),
                            Json(report, dumps=partial(json.dumps, ensure_ascii=False, default=str)),
                        ),
                    ).fetchone()
                    if import_id is not None:
                        import_id = import_id[0]
                        with (
                            con.cursor() as cur,
                            cur.copy(
                                self._sql(
                                    "COPY {s}.observations (import_id, indicator, vintage, commune_code, year, value,"
                                    " line, matched_by) FROM STDIN"
                                )
                            ) as copy,
                        ):
                            for r in rows:
                                copy.write_row((import_id, *r[1:]))
                        self._hold("written")
                    else:  # the same file under another vintage (other locks), committed meanwhile
                        found = con.execute(
                            self._sql("SELECT id FROM {s}.imports WHERE sha256 = %s"), (sha256,)
                        ).fetchone()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            if isinstance(exc, psycopg.errors.UniqueViolation):
                previous = self.find_import(sha256)
                if previous is not None:
                    raise DuplicateImport(previous) from None
            raise self._fail(exc, f"importing {file_name}") from exc
        if found is not None:
            raise DuplicateImport(self.get_import(found[0]))
        return import_id

    def _hold(self, point: str) -> None:
        if self.hold is not None:
            self.hold(point)

    def _import_rows(self, where: str = "", params=()) -> list[dict]:
        rows = self._rows(f"SELECT {', '.join(IMPORT_COLUMNS)} FROM {{s}}.imports {where} ORDER BY id", params)
        out = []
        for r in rows:
            d = dict(zip(IMPORT_COLUMNS, r))
            d["imported_at"] = _utc_text(d["imported_at"])
            out.append(d)
        return out

    def imports(self) -> list[dict]:
        return self._import_rows()

    def get_import(self, import_id: int) -> dict:
        rows = self._import_rows("WHERE id = %s", (int(import_id),))
        if not rows:
            raise NotFound(f"no import {import_id}")
        return rows[0]

    def revision(self) -> str:
        """Changes with every import any worker commits: one small query (see the module
        docstring), cheap enough for every request."""
        ((last, n),) = self._rows("SELECT coalesce(max(id), 0), count(*) FROM {s}.imports")
        return f"{self.instance}.{last}.{n}"

    def available(self, vintage: int) -> dict[str, list[int]]:
        """Reported indicators with values for units of `vintage`, and their years."""
        return years_by_indicator(
            self._rows(
                "SELECT indicator, year FROM {s}.observations WHERE vintage = %s"
                ' GROUP BY indicator, year ORDER BY indicator COLLATE "C", year',
                (int(vintage),),
            )
        )

    def counts(self) -> dict:
        ((i, o, k),) = self._rows(
            "SELECT (SELECT count(*) FROM {s}.imports), (SELECT count(*) FROM {s}.observations),"
            " (SELECT count(*) FROM {s}.api_keys)"
        )
        return {"imports": i, "observations": o, "api_keys": k}

    # ------------------------------------------------------------------ values

    def current(
        self, indicator: str, *, vintage: int, year: int | None = None, as_of: int | None = None
    ) -> pd.DataFrame:
        """Current values: per commune (and year) the value of the latest import (<= as_of).

        year=None gives each commune's latest year. Columns: commune_code, year, value,
        import_id, line.
        """
        where, params = current_filter(indicator, vintage, year, as_of, "%s")
        rows = self._rows(
            'SELECT DISTINCT ON (commune_code COLLATE "C", year) commune_code, year, value, import_id, line'
            f" FROM {{s}}.observations WHERE {where}"
            ' ORDER BY commune_code COLLATE "C", year, import_id DESC',
            params,
        )
        return finish_current(pd.DataFrame(rows, columns=CURRENT_COLUMNS), year)

    def history(self, indicator: str, commune_code: str, *, vintage: int) -> pd.DataFrame:
        rows = self._rows(
            "SELECT o.year, o.value, o.import_id, i.file_name, i.imported_at, i.who FROM {s}.observations o"
            " JOIN {s}.imports i ON i.id = o.import_id"
            " WHERE o.indicator = %s AND o.vintage = %s AND o.commune_code = %s ORDER BY o.year, o.import_id",
            (indicator, int(vintage), commune_code),
        )
        df = pd.DataFrame(rows, columns=["year", "value", "import_id", "file_name", "imported_at", "who"])
        df["imported_at"] = df["imported_at"].map(_utc_text)
        return df

    # ------------------------------------------------------------------ API keys

    def add_key(self, name: str) -> str:
        """Create a key named `name`; the key itself is returned once and only its hash is kept."""
        name, key, salt, digest = new_key(name)
        rows = self._rows(
            "INSERT INTO {s}.api_keys VALUES (%s, %s, %s, %s, false) ON CONFLICT (name) DO NOTHING RETURNING name",
            (name, salt, digest, _now_utc()),
            doing="adding an API key",
        )
        if not rows:
            raise key_taken(name)
        return key

    def revoke_key(self, name: str) -> None:
        if not self._rows(
            "DELETE FROM {s}.api_keys WHERE name = %s RETURNING name", (name,), doing="revoking an API key"
        ):
            raise ApiKeyError(f"no API key named {name!r}")

    def key_names(self) -> list[str]:
        return [r[0] for r in self._rows('SELECT name FROM {s}.api_keys ORDER BY name COLLATE "C"')]

    def check_key(self, key: str) -> str | None:
        """The name of the key `key`, or None when it matches no key."""
        return match_key(key, self._rows("SELECT name, salt, hash FROM {s}.api_keys WHERE NOT revoked"))
