"""Saved named areas and imported targets of an indicator database.

The areas are stored by geoborder.indicators.saved_areas (below the maps and the queries, which
read them too); this is the reports' view of them (dicts for the API, NotFound for a name that
is not saved). The targets are kept beside them: in `reports.sqlite` beside a SQLite indicator
database, or in tables of a PostgreSQL one; each import is written in one transaction (a refused
target file writes nothing).

Targets are versions like indicator imports: every import keeps its file name, sha256, time and
who; the current target of an (indicator, area, year) is the one of the latest import.
"""

from __future__ import annotations

import json
from typing import Literal, overload

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.indicators import saved_areas as sa

TARGETS_SQLITE = """
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
CURRENT_TARGETS = """
    SELECT t.indicator, t.area, t.year, t.op, t.value, t.line, t.import_id, i.file_name, i.imported_at
    FROM {targets} t JOIN {imports} i ON i.id = t.import_id
    WHERE t.import_id = (SELECT max(import_id) FROM {targets} t2
                         WHERE t2.indicator = t.indicator AND t2.area = t.area AND t2.year = t.year)
    ORDER BY t.area, t.indicator, t.year"""
MAX_NAME = sa.MAX_NAME


class SqliteTargets:
    """The targets in the SQLite file of the saved areas."""

    def __init__(self, areas: sa.SqliteAreas):
        self.areas = areas
        with areas.connect(write=True) as con:
            con.executescript(TARGETS_SQLITE)

    def find_import_id(self, sha256: str) -> int | None:
        with self.areas.connect(write=True) as con:
            row = con.execute("SELECT id FROM target_imports WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def write(self, *, file_name: str, sha256: str, who: str, rows: list[dict], report: dict) -> int:
        import sqlite3

        try:
            with self.areas.connect(write=True) as con:
                cur = con.execute(
                    "INSERT INTO target_imports (file_name, sha256, imported_at, who, n_targets, report)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (file_name, sha256, sa.now(), who, len(rows), json.dumps(report, ensure_ascii=False, default=str)),
                )
                i = cur.lastrowid
                con.executemany(
                    "INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (i, r["indicator"], r["area"], int(r["year"]), r["op"], float(r["value"]), int(r["line"]))
                        for r in rows
                    ],
                )
        except sqlite3.IntegrityError:
            raise InvalidParameter("this file was imported meanwhile") from None
        assert i is not None
        return i

    def imports(self) -> list[dict]:
        with self.areas.connect(write=True) as con:
            cur = con.execute(
                "SELECT id, file_name, sha256, imported_at, who, n_targets, report FROM target_imports ORDER BY id"
            )
            cols = [c[0] for c in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        for r in rows:
            r["report"] = json.loads(r["report"])
        return rows

    def current(self) -> list[dict]:
        with self.areas.connect(write=True) as con:
            cur = con.execute(CURRENT_TARGETS.format(targets="targets", imports="target_imports"))
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def revision(self) -> str:
        with self.areas.connect(write=True) as con:
            last, n = con.execute("SELECT coalesce(max(id), 0), count(*) FROM target_imports").fetchone()
        return f"targets.{last}.{n}"

    def counts(self) -> dict:
        with self.areas.connect(write=True) as con:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("target_imports", "targets")}


def _targets_for(indicators_db):
    own = getattr(indicators_db, "saved_targets", None)
    if callable(own):
        return own()
    storage = sa.storage_for(indicators_db)
    if isinstance(storage, sa.SqliteAreas):
        return SqliteTargets(storage)
    raise InvalidParameter("this indicator database keeps no saved areas or targets")


class ReportsDB:
    """The saved areas and targets of one indicator database (SQLite or PostgreSQL)."""

    def __init__(self, indicators_db):
        if sa.storage_for(indicators_db) is None:
            raise InvalidParameter("this indicator database keeps no saved areas or targets")
        self.indicators_db = indicators_db
        self._targets = _targets_for(indicators_db)

    @classmethod
    def beside(cls, indicators_db) -> ReportsDB:
        """The saved areas and targets of `indicators_db` (kept beside a SQLite file, or in a
        PostgreSQL database's own tables)."""
        return cls(indicators_db)

    # ------------------------------------------------------------------ areas

    def save_area(self, name: str, area, *, who: str, replace: bool = False) -> dict:
        saved = sa.save_area(
            self.indicators_db,
            name,
            spec=area.key,
            vintage=area.vintage,
            codes_2009=area.codes[2009],
            codes_2025=area.codes[2025],
            who=who,
            replace=replace,
        )
        return saved.as_dict()

    def find(self, name: str) -> sa.SavedArea | None:
        """The saved area `name` (exact, else without case and diacritics if one answers)."""
        return sa.find_saved_area(self.indicators_db, name)

    @overload
    def get_area(self, name: str, *, missing_ok: Literal[False] = False) -> dict: ...

    @overload
    def get_area(self, name: str, *, missing_ok: bool) -> dict | None: ...

    def get_area(self, name: str, *, missing_ok: bool = False) -> dict | None:
        found = self.find(name)
        if found is None:
            if missing_ok:
                return None
            raise NotFound(f"no saved area {name!r}; saved areas: {', '.join(self.area_names()) or 'none'}")
        return found.as_dict()

    def delete_area(self, name: str) -> None:
        found = self.find(name)
        if found is None or not sa.delete_saved_area(self.indicators_db, found.name):
            raise NotFound(f"no saved area {name!r}; saved areas: {', '.join(self.area_names()) or 'none'}")

    def area_names(self) -> list[str]:
        return sa.saved_area_names(self.indicators_db)

    def areas(self) -> list[dict]:
        return [a.as_dict() for a in sa.saved_areas(self.indicators_db)]

    # ------------------------------------------------------------------ targets

    def find_target_import(self, sha256: str) -> dict | None:
        i = self._targets.find_import_id(sha256)
        return self.get_target_import(i) if i is not None else None

    def write_targets(self, *, file_name: str, sha256: str, who: str, rows: list[dict], report: dict) -> int:
        return self._targets.write(file_name=file_name, sha256=sha256, who=who, rows=rows, report=report)

    def target_imports(self) -> list[dict]:
        return self._targets.imports()

    def get_target_import(self, i: int) -> dict:
        for r in self.target_imports():
            if r["id"] == i:
                return r
        raise NotFound(f"no target import {i}")

    def current_targets(self) -> list[dict]:
        """Per (indicator, area, year) the target of the latest import, with its import."""
        return self._targets.current()

    def counts(self) -> dict:
        return {"areas": len(self.area_names()), **self._targets.counts()}

    def revision(self) -> str:
        """Changes whenever an area is saved, replaced or deleted, or targets are imported."""
        return f"{sa.saved_areas_revision(self.indicators_db)}:{self._targets.revision()}"
