"""Saved named areas, readable by every stage above the indicators (maps, queries, reports).

A saved area is a name for a set of communes, kept on both unit vintages as they were resolved
when it was saved (and with the text it was given as, `spec`), so "khu vực giáp ranh Si Ma Cai –
Bắc Hà – Xín Mần" always means the same communes in a report, a map or a spatial question.
Resolving an area text into communes is the reports stage's work (geoborder.reports.areas);
this module only stores and finds the result.

Where they live: beside a SQLite indicator database, in `reports.sqlite` (with the targets of
geoborder.reports); in a PostgreSQL indicator database, in its own schema (the database's
`saved_areas()` gives that storage). Without an indicator database there are no saved areas.

Names are found exactly, then without case, diacritics and punctuation, then as the beginning
of a name (whole words) — each of the last two only when one area answers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from geoborder.core.text import slug

#: the file of saved areas (and targets) beside a SQLite indicator database
FILE_NAME = "reports.sqlite"
MAX_NAME = 120

AREAS_SQLITE = """
CREATE TABLE IF NOT EXISTS areas (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    vintage INTEGER NOT NULL,
    codes_2009 TEXT NOT NULL,
    codes_2025 TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    who TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS areas_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class SavedArea:
    name: str
    spec: str  # the area text it was saved from, e.g. "districts:Si Ma Cai;Bắc Hà;Xín Mần"
    vintage: int  # the units it was given on
    codes_2009: tuple[str, ...]
    codes_2025: tuple[str, ...]
    saved_at: str
    who: str

    def codes(self, vintage: int) -> tuple[str, ...]:
        """Its communes on the units of `vintage` (2009 or 2025), sorted."""
        if int(vintage) == 2009:
            return self.codes_2009
        if int(vintage) == 2025:
            return self.codes_2025
        raise ValueError(f"no unit vintage {vintage!r} (2009 or 2025)")

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "spec": self.spec,
            "vintage": self.vintage,
            "communes_2009": list(self.codes_2009),
            "communes_2025": list(self.codes_2025),
            "saved_at": self.saved_at,
            "who": self.who,
        }


class AreaStorage(Protocol):
    """Where saved areas are kept (a SQLite file, or tables of a PostgreSQL database)."""

    def all(self) -> list[SavedArea]: ...
    def get(self, name: str) -> SavedArea | None: ...
    def put(self, area: SavedArea, *, replace: bool) -> bool: ...  # False: the name is taken
    def delete(self, name: str) -> bool: ...
    def revision(self) -> str: ...


def clean_name(name) -> str:
    """A name as it is stored: whitespace collapsed."""
    return " ".join(str(name or "").split())


def name_key(name: str) -> str:
    """The key names are compared by when not exact: no case, diacritics or punctuation."""
    return slug(clean_name(name)).replace("-", " ")


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def area_from_row(row) -> SavedArea:
    """A SavedArea of a row (name, spec, vintage, codes_2009, codes_2025, saved_at, who), the
    codes as JSON lists or as lists."""
    c09, c25 = (json.loads(c) if isinstance(c, str) else list(c) for c in (row[3], row[4]))
    return SavedArea(
        str(row[0]),
        str(row[1]),
        int(row[2]),
        tuple(sorted(map(str, c09))),
        tuple(sorted(map(str, c25))),
        str(row[5]),
        str(row[6]),
    )


# --------------------------------------------------------------------------- SQLite


class SqliteAreas:
    """The saved areas in the SQLite file at `path` (created on the first write; reading a file
    that does not exist finds no area). One connection per operation."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._made = False

    @contextmanager
    def connect(self, *, write: bool = False):
        """One transaction on the file (the tables made first); also used by the targets."""
        if not write and not self.path.exists():
            yield None
            return
        if not self._made:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            if not self._made:
                con.executescript(AREAS_SQLITE)
                con.execute("INSERT OR IGNORE INTO areas_meta VALUES ('instance', ?)", (uuid.uuid4().hex[:12],))
                con.execute("INSERT OR IGNORE INTO areas_meta VALUES ('revision', '0')")
                con.commit()
                self._made = True
            with con:
                yield con
        finally:
            con.close()

    def _bump(self, con) -> None:
        con.execute("UPDATE areas_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")

    def all(self) -> list[SavedArea]:
        with self.connect() as con:
            if con is None:
                return []
            rows = con.execute(
                "SELECT name, spec, vintage, codes_2009, codes_2025, saved_at, who FROM areas ORDER BY name"
            ).fetchall()
        return [area_from_row(r) for r in rows]

    def get(self, name: str) -> SavedArea | None:
        with self.connect() as con:
            if con is None:
                return None
            row = con.execute(
                "SELECT name, spec, vintage, codes_2009, codes_2025, saved_at, who FROM areas WHERE name = ?", (name,)
            ).fetchone()
        return area_from_row(row) if row else None

    def put(self, area: SavedArea, *, replace: bool) -> bool:
        with self.connect(write=True) as con:
            if not replace and con.execute("SELECT 1 FROM areas WHERE name = ?", (area.name,)).fetchone():
                return False
            con.execute(
                "INSERT OR REPLACE INTO areas VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    area.name,
                    area.spec,
                    int(area.vintage),
                    json.dumps(list(area.codes_2009)),
                    json.dumps(list(area.codes_2025)),
                    area.saved_at,
                    area.who,
                ),
            )
            self._bump(con)
        return True

    def delete(self, name: str) -> bool:
        with self.connect(write=True) as con:
            gone = con.execute("DELETE FROM areas WHERE name = ?", (name,)).rowcount > 0
            if gone:
                self._bump(con)
        return gone

    def revision(self) -> str:
        """The file's instance and its count of area writes (one small query)."""
        with self.connect() as con:
            if con is None:
                return "0"
            meta = dict(con.execute("SELECT key, value FROM areas_meta").fetchall())
        return f"{meta.get('instance', '')}.{meta.get('revision', '0')}"


_SQLITE: dict[Path, SqliteAreas] = {}
_SQLITE_LOCK = threading.Lock()


def sqlite_beside(indicators_path: Path | str) -> SqliteAreas:
    """The saved areas beside the SQLite indicator database at `indicators_path` (one object per file)."""
    path = Path(indicators_path).with_name(FILE_NAME).resolve()
    with _SQLITE_LOCK:
        if path not in _SQLITE:
            _SQLITE[path] = SqliteAreas(path)
        return _SQLITE[path]


def storage_for(indicators_db) -> AreaStorage | None:
    """Where the saved areas of `indicators_db` live; None without a database (or one that
    keeps none: neither a file nor a `saved_areas()` of its own)."""
    if indicators_db is None:
        return None
    own = getattr(indicators_db, "saved_areas", None)
    if callable(own):
        return own()
    path = getattr(indicators_db, "path", None)
    if isinstance(path, (str, Path)) and not str(path).startswith("postgresql"):
        return sqlite_beside(path)
    return None


# --------------------------------------------------------------------------- the interface


def _find(areas: list[SavedArea], name: str) -> SavedArea | None:
    want = name_key(name)
    if not want:
        return None
    same = [a for a in areas if name_key(a.name) == want]
    if len(same) == 1:
        return same[0]
    if same:
        return None
    starts = [a for a in areas if (name_key(a.name) + " ").startswith(want + " ")]
    return starts[0] if len(starts) == 1 else None


def find_saved_area(indicators_db, name: str) -> SavedArea | None:
    """The saved area called `name` (exactly; else the one area whose name is the same without
    case, diacritics and punctuation, or begins with it); None: no such area (or no database)."""
    storage = storage_for(indicators_db)
    name = clean_name(name)
    if storage is None or not name:
        return None
    exact = storage.get(name)
    if exact is not None:
        return exact
    return _find(storage.all(), name)


def saved_area_names(indicators_db) -> list[str]:
    """The names of the saved areas, sorted; [] without a database."""
    storage = storage_for(indicators_db)
    return [a.name for a in storage.all()] if storage is not None else []


def saved_areas(indicators_db) -> list[SavedArea]:
    storage = storage_for(indicators_db)
    return storage.all() if storage is not None else []


def saved_areas_revision(indicators_db) -> str:
    """Changes whenever an area is saved, replaced or deleted (for cache keys); "" without a database."""
    storage = storage_for(indicators_db)
    return storage.revision() if storage is not None else ""


def save_area(
    indicators_db, name: str, *, spec: str, vintage: int, codes_2009, codes_2025, who: str, replace: bool = False
) -> SavedArea:
    """Store an area under `name` (resolved by the caller); InvalidParameter for a bad or
    taken name (unless `replace`), or a database that keeps no saved areas."""
    from geoborder.core.errors import InvalidParameter

    storage = storage_for(indicators_db)
    if storage is None:
        raise InvalidParameter("this indicator database keeps no saved areas")
    name = clean_name(name)
    if not name or len(name) > MAX_NAME:
        raise InvalidParameter(f"a saved area needs a name of 1 to {MAX_NAME} characters")
    if ":" in name:
        raise InvalidParameter("an area name cannot contain ':' (it would read as an area text)")
    area = SavedArea(
        name,
        str(spec),
        int(vintage),
        tuple(sorted(map(str, codes_2009))),
        tuple(sorted(map(str, codes_2025))),
        now(),
        str(who),
    )
    if not storage.put(area, replace=replace):
        raise InvalidParameter(f"an area named {name!r} is saved already (replace it explicitly)")
    return area


def delete_saved_area(indicators_db, name: str) -> bool:
    """Delete the area saved exactly as `name`; whether there was one."""
    storage = storage_for(indicators_db)
    return storage.delete(clean_name(name)) if storage is not None else False
