"""The records database (SQLite): new tables in the indicator database's file.

Why there: the records are imported with the same API keys as indicator tables (the `api_keys`
table of that database), under the same guarantees (versions, one transaction per import), and a
deployment then has one writable database to back up and one setting (GEOBORDER_INDICATORS);
the store stays read-only and rebuilt. The records' tables are their own (prefixed `records_`,
with their own versions in `records_imports` and their own schema version in `meta`), so the
indicator tables and code are untouched.

Every import is a version (kind, file name, sha256, time, who); rows are never updated: per key
of its kind (kinds.py: a gate and period, a marker and date ...) the row of the latest import is
the current one, older versions stay. An import is one transaction: one that fails writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from geoborder.core.errors import NotFound
from geoborder.records.kinds import KINDS

RECORDS_SCHEMA_VERSION = 1
IMPORT_COLUMNS = ("id", "kind", "file_name", "sha256", "imported_at", "who", "n_rows", "report")
TABLES = {k: f"records_{k}" for k in KINDS}
REAL = {"people_out", "people_in", "vehicles_out", "vehicles_in", "export_value", "import_value"}


def _ddl(kind: str, real: str = "REAL", key: str = "INTEGER") -> str:
    cols = ", ".join(f"{c} {real if c in REAL else 'TEXT'}" for c in KINDS[kind].columns)
    return (
        f"CREATE TABLE IF NOT EXISTS {{s}}{TABLES[kind]} (import_id {key} NOT NULL REFERENCES "
        f"{{s}}records_imports(id), {cols}, line INTEGER NOT NULL, matched_by TEXT NOT NULL)"
    )


SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS records_imports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        file_name TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        imported_at TEXT NOT NULL,
        who TEXT NOT NULL,
        n_rows INTEGER NOT NULL,
        report TEXT NOT NULL)""",
    *(_ddl(k).format(s="") for k in KINDS),
]


class RecordsStore(Protocol):
    """What the importer, the API and the library use of a records database."""

    def find_import(self, sha256: str) -> dict | None: ...
    def write_import(
        self, *, kind: str, file_name: str, sha256: str, who: str, rows: pd.DataFrame, report: dict
    ) -> int: ...
    def imports(self, kind: str | None = None) -> list[dict]: ...
    def get_import(self, import_id: int) -> dict: ...
    def rows(self, kind: str) -> pd.DataFrame: ...
    def revision(self) -> str: ...
    def counts(self) -> dict: ...


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def row_tuples(kind: str, import_id: int, rows: pd.DataFrame) -> list[tuple]:
    """The rows as written: import_id, the kind's columns, line, matched_by (NaN as NULL)."""
    cols = [*KINDS[kind].columns, "line", "matched_by"]
    out = []
    for r in rows[cols].itertuples(index=False):
        out.append((import_id, *(None if isinstance(v, float) and v != v else v for v in r)))
    return out


def current_rows(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    """Per key of the kind, the row of the latest import (the frame as `rows` gives it)."""
    if df.empty:
        return df
    key = list(KINDS[kind].key)
    return df.sort_values("import_id").drop_duplicates(key, keep="last").reset_index(drop=True)


def finish_rows(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    for c in REAL:
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    df = df.astype({"import_id": "int64", "line": "int64"})
    return df.sort_values(["import_id", "line"]).reset_index(drop=True)


class RecordsDB:
    """The records tables in the SQLite file at `path` (the indicator database's file)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            for stmt in SCHEMA:
                con.execute(stmt)
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('records_schema_version', ?)", (str(RECORDS_SCHEMA_VERSION),)
            )

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

    def find_import(self, sha256: str) -> dict | None:
        with self._connect() as con:
            row = con.execute("SELECT id FROM records_imports WHERE sha256 = ?", (sha256,)).fetchone()
        return self.get_import(row[0]) if row else None

    def write_import(
        self, *, kind: str, file_name: str, sha256: str, who: str, rows: pd.DataFrame, report: dict
    ) -> int:
        """One version of `kind`; one transaction (SQLite serialises writers whole)."""
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO records_imports (kind, file_name, sha256, imported_at, who, n_rows, report)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    file_name,
                    sha256,
                    now_text(),
                    who,
                    len(rows),
                    json.dumps(report, ensure_ascii=False, default=str),
                ),
            )
            import_id = cur.lastrowid
            n = len(KINDS[kind].columns) + 3
            con.executemany(
                f"INSERT INTO {TABLES[kind]} VALUES ({', '.join('?' * n)})", row_tuples(kind, import_id, rows)
            )
        return import_id

    def imports(self, kind: str | None = None) -> list[dict]:
        sql = f"SELECT {', '.join(IMPORT_COLUMNS)} FROM records_imports"
        params: tuple = ()
        if kind is not None:
            sql, params = sql + " WHERE kind = ?", (kind,)
        with self._connect() as con:
            rows = [dict(zip(IMPORT_COLUMNS, r)) for r in con.execute(sql + " ORDER BY id", params)]
        for r in rows:
            r["report"] = json.loads(r["report"])
        return rows

    def get_import(self, import_id: int) -> dict:
        for r in self.imports():
            if r["id"] == int(import_id):
                return r
        raise NotFound(f"no records import {import_id}")

    def rows(self, kind: str) -> pd.DataFrame:
        """Every row of every version of `kind`, with import_id, line and matched_by."""
        with self._connect() as con:
            df = pd.read_sql_query(f"SELECT * FROM {TABLES[kind]}", con)
        return finish_rows(kind, df)

    def revision(self) -> str:
        with self._connect() as con:
            last, n = con.execute("SELECT coalesce(max(id), 0), count(*) FROM records_imports").fetchone()
        return f"records.{last}.{n}"

    def counts(self) -> dict:
        with self._connect() as con:
            out = {"imports": con.execute("SELECT count(*) FROM records_imports").fetchone()[0]}
            for k, t in TABLES.items():
                out[k] = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        return out
