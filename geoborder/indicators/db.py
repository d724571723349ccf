"""The indicator database: one writable SQLite file beside the (read-only, rebuilt) store.

Every import is a version (file name, sha256, time, who). Values are never updated in place:
the current value of a commune/indicator/year is the one of the latest import that carries it,
and older versions stay queryable. An import is written in one transaction, so an import that
fails changes nothing. API keys are stored as salted scrypt hashes.

`open_indicators(x)` gives this SQLite file for a path, and the same interface on PostgreSQL
(`indicator_db_postgis.PostgisIndicatorDB`, shared by every instance) for a postgresql:// URL;
`IndicatorStore` is that interface. The pure-Python parts both share are the helpers below.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from geoborder.core.errors import GeoborderError, NotFound

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    imported_at TEXT NOT NULL,
    who TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    layout TEXT NOT NULL,
    n_values INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    indicator TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    commune_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    value REAL NOT NULL,
    line INTEGER NOT NULL,
    matched_by TEXT NOT NULL,
    PRIMARY KEY (indicator, vintage, commune_code, year, import_id)
);
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY,
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
"""
# scrypt parameters: ~16 MB, a few tens of ms per check
_N, _R, _P = 2**14, 8, 1


class ApiKeyError(GeoborderError):
    """An API key name that is taken or unknown."""


class DuplicateImport(GeoborderError):
    """This file (its sha256) is already imported, possibly meanwhile by another worker;
    `previous` is that import. Nothing was written. (PostgreSQL; SQLite's unique sha256 raises
    sqlite3.IntegrityError, which the importer reads the same way.)"""

    def __init__(self, previous: dict):
        self.previous = previous
        super().__init__(f"already imported as version {previous['id']}")


class IndicatorStore(Protocol):
    """What the importer, the API and the library use of an indicator database."""

    def find_import(self, sha256: str) -> dict | None: ...
    def write_import(
        self, *, file_name: str, sha256: str, who: str, vintage: int, layout: str, values: pd.DataFrame, report: dict
    ) -> int: ...
    def imports(self) -> list[dict]: ...
    def get_import(self, import_id: int) -> dict: ...
    def revision(self) -> str: ...
    def available(self, vintage: int) -> dict[str, list[int]]: ...
    def counts(self) -> dict: ...
    def current(
        self, indicator: str, *, vintage: int, year: int | None = None, as_of: int | None = None
    ) -> pd.DataFrame: ...
    def history(self, indicator: str, commune_code: str, *, vintage: int) -> pd.DataFrame: ...
    def add_key(self, name: str) -> str: ...
    def revoke_key(self, name: str) -> None: ...
    def key_names(self) -> list[str]: ...
    def check_key(self, key: str) -> str | None: ...
    def close(self) -> None: ...


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _hash_key(key: str, salt: bytes) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


# ---------------------------------------------------------------------- shared by both databases

CURRENT_COLUMNS = ["commune_code", "year", "value", "import_id", "line"]


def new_key(name: str) -> tuple[str, str, bytes, bytes]:
    """(name, key, salt, hash) of a new API key named `name` (stripped, not empty)."""
    name = name.strip()
    if not name:
        raise ApiKeyError("an API key needs a name")
    key = "gbk_" + secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    return name, key, salt, _hash_key(key, salt)


def key_taken(name: str) -> ApiKeyError:
    return ApiKeyError(f"an API key named {name!r} exists; revoke it first")


def match_key(key: str, rows) -> str | None:
    """The name of the (name, salt, hash) row `key` matches, else None (every row is checked)."""
    found = None
    for name, salt, digest in rows:
        if hmac.compare_digest(_hash_key(key, salt), bytes(digest)):
            found = name
    return found


def years_by_indicator(rows) -> dict[str, list[int]]:
    """{indicator: [years]} from (indicator, year) rows sorted by indicator, year."""
    out: dict[str, list[int]] = {}
    for name, year in rows:
        out.setdefault(name, []).append(int(year))
    return out


def current_filter(indicator: str, vintage: int, year: int | None, as_of: int | None, mark: str) -> tuple[str, list]:
    """The WHERE clause of `current` (placeholders `mark`: ? or %s) and its parameters."""
    params: list = [indicator, int(vintage)]
    where = f"indicator = {mark} AND vintage = {mark}"
    if as_of is not None:
        where += f" AND import_id <= {mark}"
        params.append(int(as_of))
    if year is not None:
        where += f" AND year = {mark}"
        params.append(int(year))
    return where, params


def finish_current(df: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The latest import's values per commune and year (as the query gave them); without a
    `year`, each commune's latest year only."""
    df["commune_code"] = df["commune_code"].astype(str)
    if year is None and len(df):
        df = df.sort_values(["commune_code", "year"]).groupby("commune_code", as_index=False).tail(1)
    return df.reset_index(drop=True)


def values_rows(import_id: int, vintage: int, values: pd.DataFrame):
    """The rows of `values` as written to `observations`, in its column order."""
    return [
        (import_id, r.indicator, int(vintage), r.commune_code, int(r.year), float(r.value), int(r.line), r.matched_by)
        for r in values.itertuples(index=False)
    ]


class IndicatorDB:
    """The SQLite file at `path`, created on first use. One connection per operation."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._revision_paths = (str(self.path), str(self.path) + "-wal")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)
            con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        """Nothing to close: one connection per operation."""

    @contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA journal_mode = WAL")
            with con:  # one transaction: commit on success, roll back on any exception
                yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ imports

    def find_import(self, sha256: str) -> dict | None:
        with self._connect() as con:
            row = con.execute("SELECT id FROM imports WHERE sha256 = ? ORDER BY id LIMIT 1", (sha256,)).fetchone()
        return self.get_import(row[0]) if row else None

    def write_import(
        self, *, file_name: str, sha256: str, who: str, vintage: int, layout: str, values: pd.DataFrame, report: dict
    ) -> int:
        """Write one version: `values` has indicator, commune_code, year, value, line, matched_by.

        One transaction: on any error (e.g. the same file written meanwhile by another worker:
        sha256 is unique, a sqlite3.IntegrityError) nothing is written. SQLite has one writer at
        a time, so concurrent imports are serialised whole."""
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO imports (file_name, sha256, imported_at, who, vintage, layout, n_values, report)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    file_name,
                    sha256,
                    _now(),
                    who,
                    int(vintage),
                    layout,
                    len(values),
                    json.dumps(report, ensure_ascii=False, default=str),
                ),
            )
            import_id = cur.lastrowid
            con.executemany(
                "INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values_rows(import_id, vintage, values)
            )
        return import_id

    def imports(self) -> list[dict]:
        with self._connect() as con:
            cur = con.execute(
                "SELECT id, file_name, sha256, imported_at, who, vintage, layout, n_values, report"
                " FROM imports ORDER BY id"
            )
            cols = [c[0] for c in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        for r in rows:
            r["report"] = json.loads(r["report"])
        return rows

    def get_import(self, import_id: int) -> dict:
        for r in self.imports():
            if r["id"] == import_id:
                return r
        raise NotFound(f"no import {import_id}")

    def revision(self) -> str:
        """Changes whenever any worker writes: size and mtime of the file and its WAL (no query,
        so it can key caches and ETags on every request)."""
        parts = []
        for path in self._revision_paths:  # os.stat of str paths: a third of pathlib's cost
            try:
                st = os.stat(path)
                parts.append(f"{st.st_mtime_ns}.{st.st_size}")
            except FileNotFoundError:
                parts.append("-")
        return ":".join(parts)

    def available(self, vintage: int) -> dict[str, list[int]]:
        """Reported indicators with values for units of `vintage`, and their years."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT DISTINCT indicator, year FROM observations WHERE vintage = ? ORDER BY indicator, year",
                (int(vintage),),
            ).fetchall()
        return years_by_indicator(rows)

    def counts(self) -> dict:
        with self._connect() as con:
            return {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("imports", "observations", "api_keys")
            }

    # ------------------------------------------------------------------ values

    def current(
        self, indicator: str, *, vintage: int, year: int | None = None, as_of: int | None = None
    ) -> pd.DataFrame:
        """Current values: per commune (and year) the value of the latest import (<= as_of).

        year=None gives each commune's latest year. Columns: commune_code, year, value,
        import_id, line.
        """
        where, params = current_filter(indicator, vintage, year, as_of, "?")
        sql = f"""
            SELECT commune_code, year, value, import_id, line FROM (
              SELECT *, row_number() OVER (PARTITION BY commune_code, year ORDER BY import_id DESC) AS rn
              FROM observations WHERE {where}) WHERE rn = 1 ORDER BY commune_code, year"""
        with self._connect() as con:
            df = pd.read_sql_query(sql, con, params=params)
        return finish_current(df, year)

    def history(self, indicator: str, commune_code: str, *, vintage: int) -> pd.DataFrame:
        with self._connect() as con:
            return pd.read_sql_query(
                "SELECT o.year, o.value, o.import_id, i.file_name, i.imported_at, i.who FROM observations o"
                " JOIN imports i ON i.id = o.import_id WHERE indicator = ? AND o.vintage = ? AND commune_code = ?"
                " ORDER BY o.year, o.import_id",
                con,
                params=[indicator, int(vintage), commune_code],
            )

    # ------------------------------------------------------------------ API keys

    def add_key(self, name: str) -> str:
        """Create a key named `name`; the key itself is returned once and only its hash is kept."""
        name, key, salt, digest = new_key(name)
        with self._connect() as con:
            if con.execute("SELECT 1 FROM api_keys WHERE name = ?", (name,)).fetchone():
                raise key_taken(name)
            con.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, 0)", (name, salt, digest, _now()))
        return key

    def revoke_key(self, name: str) -> None:
        with self._connect() as con:
            n = con.execute("DELETE FROM api_keys WHERE name = ?", (name,)).rowcount
        if not n:
            raise ApiKeyError(f"no API key named {name!r}")

    def key_names(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT name FROM api_keys ORDER BY name")]

    def check_key(self, key: str) -> str | None:
        """The name of the key `key`, or None when it matches no key."""
        with self._connect() as con:
            rows = con.execute("SELECT name, salt, hash FROM api_keys WHERE revoked = 0").fetchall()
        return match_key(key, rows)
