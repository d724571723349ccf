"""Reading the layers of a geoborder GeoPackage with sqlite3 and shapely (issue 18).

A GeoPackage is a SQLite database whose geometries are WKB behind a small header (GeoPackage
1.2, clause 2.1.3), so the store reads it without GDAL: pyogrio's own GDAL took ~25 MB of every
worker (the build and the downloads still write with pyogrio, imported there). The frames are
the ones `pyogrio.read_dataframe(path, layer=..., fid_as_index=True)` gives for the column types
the build writes (tests/realpack/test_gpkg_read.py compares every layer and table of the real
store, values and dtypes): TEXT as pandas' string dtype, INTEGER as int64 (float64 when a value
is missing, as GDAL gives it), a text column without any value as object, BOOLEAN as bool (object when missing), REAL as float64, the
geometry last, the index the fid.
"""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoborder.core.errors import StoreError

# the size of the envelope after the 8-byte header, by the flags' envelope indicator
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _wkb(blob: bytes | None) -> bytes | None:
    """The WKB of a GeoPackage geometry blob (None for a missing geometry; an empty one is the WKB
    of an empty geometry, behind a header flagged empty)."""
    if blob is None:
        return None
    if blob[:2] != b"GP":
        raise StoreError("not a GeoPackage geometry blob")
    flags = blob[3]
    env = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if env is None:
        raise StoreError(f"GeoPackage geometry with an unknown envelope indicator in flags {flags:#x}")
    return blob[8 + env :]


def _geometry_column(con: sqlite3.Connection, table: str) -> tuple[str, str | None] | None:
    row = con.execute(
        "SELECT g.column_name, s.organization, s.organization_coordsys_id FROM gpkg_geometry_columns g "
        "LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id WHERE g.table_name = ?",
        (table,),
    ).fetchone()
    if row is None:
        return None
    name, org, code = row
    crs = f"{org}:{code}" if org and org.upper() != "NONE" and code is not None and int(code) > 0 else None
    return name, crs


def _column(values: list, decl: str) -> pd.Series | np.ndarray:
    t = decl.upper()
    missing = any(v is None for v in values)
    if t in ("INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT"):
        if missing:
            return np.array([np.nan if v is None else v for v in values], dtype="float64")
        return np.array(values, dtype="int64")
    if t == "BOOLEAN":
        if missing:
            return np.array([None if v is None else bool(v) for v in values], dtype=object)
        return np.array(values, dtype=bool)
    if t in ("REAL", "DOUBLE", "FLOAT"):
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if t.startswith("TEXT") or t.startswith("VARCHAR") or t in ("DATE", "DATETIME"):
        if all(v is None for v in values):  # no text at all: object, as GDAL gives it
            return np.array(values, dtype=object)
        return pd.array(values, dtype="str")
    raise StoreError(f"GeoPackage column type {decl!r} is not one geoborder writes")


def read_table(con: sqlite3.Connection, table: str, *, geometry: bool = True) -> pd.DataFrame:
    """A layer (a GeoDataFrame indexed by fid, geometry last) or an attribute table (a DataFrame
    with a plain index) of the GeoPackage open on `con`."""
    info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
    if not info:
        raise StoreError(f"no table {table!r} in the GeoPackage")
    geom = _geometry_column(con, table)
    fid = next((r[1] for r in info if r[5] == 1 and r[2].upper() == "INTEGER"), None)
    cols = [(r[1], r[2]) for r in info if r[1] != fid and (geom is None or r[1] != geom[0])]
    names = ([fid] if fid else []) + [c for c, _ in cols] + ([geom[0]] if geom is not None else [])
    rows = con.execute(
        "SELECT " + ", ".join(f'"{n}"' for n in names) + f' FROM "{table}"' + (f' ORDER BY "{fid}"' if fid else "")
    ).fetchall()
    by_column = list(zip(*rows)) if rows else [() for _ in names]
    data = {c: _column(list(by_column[i + (1 if fid else 0)]), decl) for i, (c, decl) in enumerate(cols)}
    if geom is None or not geometry:
        return pd.DataFrame(data, index=pd.RangeIndex(len(rows)) if geom is None or not fid else None)
    index = pd.Index(np.array(by_column[0], dtype="int64"), name="fid")
    wkb = np.array([_wkb(b) for b in by_column[-1]] + [None], dtype=object)[:-1]
    gdf = gpd.GeoDataFrame(pd.DataFrame(data, index=index), geometry=shapely.from_wkb(wkb), crs=geom[1])
    return gdf.rename_geometry("geometry") if gdf.geometry.name != "geometry" else gdf
