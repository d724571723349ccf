"""Saved named areas and imported targets: one SQLite file beside the indicator database
(`reports.sqlite`), written one transaction at a time (a refused target file writes nothing).

A saved area keeps its communes of both vintages as they were resolved when it was saved (and the
text it was given as), so a report, a map or a query of "khu vực giáp ranh Si Ma Cai – Bắc Hà –
Xín Mần" always means the same communes. Targets are versions like indicator imports: every
import keeps its file name, sha256, time and who; the current target of an (indicator, area, year)
is the one of the latest import.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, overload

from geoborder.core.errors import InvalidParameter, NotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS areas (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    codes_2009 TEXT NOT NULL,
    codes_2025 TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    who TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS target_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    imported_at TEXT NOT NULL,
    who TEXT NOT NULL,
    n_targets INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS targets (
    import_id INTEGER NOT NULL REFERENCES target_imports(id),
    indicator TEXT NOT NULL,
    area TEXT NOT NULL,
    year INTEGER NOT NULL,
    op TEXT NOT NULL,
    value REAL NOT NULL,
    line INTEGER NOT NULL,
    PRIMARY KEY (indicator, area, year, import_id)
);
"""
MAX_NAME = 120


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class ReportsDB:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @classmethod
    def beside(cls, indicators_db) -> ReportsDB:
        """The reports file beside a SQLite indicator database."""
        path = getattr(indicators_db, "path", None)
        if path is None:
            raise InvalidParameter(
                "saved areas and targets live beside a SQLite indicator database; this one has no file"
            )
        return cls(Path(path).with_name("reports.sqlite"))

    @contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            with con:
                yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ areas

    def save_area(self, name: str, area, *, who: str, replace: bool = False) -> dict:
        name = " ".join(str(name or "").split())
        if not name or len(name) > MAX_NAME:
            raise InvalidParameter(f"a saved area needs a name of 1 to {MAX_NAME} characters")
        if ":" in name:
            raise InvalidParameter("an area name cannot contain ':' (it would read as an area text)")
        with self._connect() as con:
            if not replace and con.execute("SELECT 1 FROM areas WHERE name = ?", (name,)).fetchone():
                raise InvalidParameter(f"an area named {name!r} is saved already (replace it explicitly)")
            con.execute(
                "INSERT OR REPLACE INTO areas VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    area.key,
                    int(area.vintage),
                    json.dumps(list(area.codes[2009])),
                    json.dumps(list(area.codes[2025])),
                    _now(),
                    who,
                ),
            )
        return self.get_area(name)

    @overload
    def get_area(self, name: str, *, missing_ok: Literal[False] = False) -> dict: ...

    @overload
    def get_area(self, name: str, *, missing_ok: bool) -> dict | None: ...

    def get_area(self, name: str, *, missing_ok: bool = False) -> dict | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT name, spec, vintage, codes_2009, codes_2025, saved_at, who FROM areas WHERE name = ?",
                (" ".join(str(name).split()),),
            ).fetchone()
        if row is None:
            if missing_ok:
                return None
            raise NotFound(f"no saved area {name!r}; saved areas: {', '.join(self.area_names()) or 'none'}")
        return {
            "name": row[0],
            "spec": row[1],
            "vintage": row[2],
            "communes_2009": json.loads(row[3]),
            "communes_2025": json.loads(row[4]),
            "saved_at": row[5],
            "who": row[6],
        }

    def area_names(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT name FROM areas ORDER BY name")]

    def areas(self) -> list[dict]:
        return [self.get_area(n) for n in self.area_names()]

    # ------------------------------------------------------------------ targets

    def find_target_import(self, sha256: str) -> dict | None:
        with self._connect() as con:
            row = con.execute("SELECT id FROM target_imports WHERE sha256 = ?", (sha256,)).fetchone()
        return self.get_target_import(row[0]) if row else None

    def write_targets(self, *, file_name: str, sha256: str, who: str, rows: list[dict], report: dict) -> int:
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO target_imports (file_name, sha256, imported_at, who, n_targets, report) VALUES (?, ?, ?, ?, ?, ?)",
                (file_name, sha256, _now(), who, len(rows), json.dumps(report, ensure_ascii=False, default=str)),
            )
            i = cur.lastrowid
            con.executemany(
                "INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (i, r["indicator"], r["area"], int(r["year"]), r["op"], float(r["value"]), int(r["line"]))
                    for r in rows
                ],
            )
        return i

    def target_imports(self) -> list[dict]:
        with self._connect() as con:
            cur = con.execute(
                "SELECT id, file_name, sha256, imported_at, who, n_targets, report FROM target_imports ORDER BY id"
            )
            cols = [c[0] for c in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        for r in rows:
            r["report"] = json.loads(r["report"])
        return rows

    def get_target_import(self, i: int) -> dict:
        for r in self.target_imports():
            if r["id"] == i:
                return r
        raise NotFound(f"no target import {i}")

    def current_targets(self) -> list[dict]:
        """Per (indicator, area, year) the target of the latest import, with its import."""
        sql = """
            SELECT t.indicator, t.area, t.year, t.op, t.value, t.line, t.import_id, i.file_name, i.imported_at
            FROM targets t JOIN target_imports i ON i.id = t.import_id
            WHERE t.import_id = (SELECT max(import_id) FROM targets t2
                                 WHERE t2.indicator = t.indicator AND t2.area = t.area AND t2.year = t.year)
            ORDER BY t.area, t.indicator, t.year"""
        with self._connect() as con:
            cur = con.execute(sql)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def counts(self) -> dict:
        with self._connect() as con:
            return {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("areas", "target_imports", "targets")
            }
