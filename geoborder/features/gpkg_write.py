"""Writing a GeoPackage download with sqlite3 and shapely (issue 18).

The `f=gpkg` download was written by pyogrio, which loads its own GDAL (~25 MB) into the worker
the first time anyone downloads a GeoPackage. A download is one layer of simple features, so it
is written here as GDAL writes it (GeoPackage 1.2: GDAL 3.6 / QGIS 3.22 on Debian 12 warn about
1.4): the `GPKG` application id and user_version 10200, gpkg_spatial_ref_sys with the two
undefined systems and the layer's CRS (WKT 1, as GDAL reads it), gpkg_contents with the layer's
extent, gpkg_geometry_columns, gpkg_ogr_contents (GDAL's feature count), the table (fid, geom,
then the properties as TEXT, INTEGER, REAL or BOOLEAN) and its R*Tree spatial index, registered in
gpkg_extensions. Geometries are GeoPackage binary: the "GP" header (little-endian, the envelope
[minx, maxx, miny, maxy] for all but points, the empty flag) and ISO WKB. GDAL reads back the
frame pyogrio would have written (tests/realpack/test_gpkg_write.py).
"""

from __future__ import annotations

import sqlite3
import struct
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10200  # GeoPackage 1.2.0
_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id
_ENVELOPE = struct.Struct("<4d")

_SYSTEM_TABLES = """
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
  description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
  (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_ogr_contents (table_name TEXT NOT NULL PRIMARY KEY, feature_count INTEGER DEFAULT NULL);
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
  definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""

_UNDEFINED = [
    ("Undefined Cartesian SRS", -1, "NONE", -1, "undefined", "undefined Cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
]


def _sql_type(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "INTEGER"
    if pd.api.types.is_float_dtype(dtype):
        return "REAL"
    if pd.api.types.is_object_dtype(dtype):
        values = {type(v) for v in series.dropna()}
        if values and values <= {bool, np.bool_}:
            return "BOOLEAN"
    return "TEXT"


def _values(series: pd.Series, sql_type: str) -> list:
    """The column's values as SQLite takes them: Python scalars, None where missing."""
    out: list = series.tolist()
    for k in np.flatnonzero(series.isna().to_numpy()):
        out[k] = None
    if sql_type == "BOOLEAN":
        return [None if v is None else int(bool(v)) for v in out]
    if sql_type == "TEXT" and not pd.api.types.is_string_dtype(series.dtype):
        return [None if v is None else str(v) for v in out]
    return out


def _geometry_type(geoms: np.ndarray) -> str:
    """The layer's geometry type name: its one type, or GEOMETRY when mixed or none."""
    drawn = shapely.is_geometry(geoms) & ~shapely.is_empty(geoms)
    kinds = np.unique(shapely.get_type_id(geoms[drawn]))
    names = {0: "POINT", 1: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING", 6: "MULTIPOLYGON"}
    return names.get(int(kinds[0]), "GEOMETRY") if len(kinds) == 1 else "GEOMETRY"


def _blobs(geoms: np.ndarray, srs_id: int) -> list[bytes | None]:
    """GeoPackage binary of each geometry (None for a missing one)."""
    wkb = shapely.to_wkb(geoms, flavor="iso")
    bounds = shapely.bounds(geoms)
    types = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms)
    out: list[bytes | None] = []
    for w, b, t, e in zip(wkb, bounds, types, empty):
        if w is None:
            out.append(None)
        elif e:  # the empty flag, no envelope
            out.append(_HEADER.pack(b"GP", 0, 0b10001, srs_id) + w)
        elif t == 0:  # a point: no envelope, as GDAL writes it
            out.append(_HEADER.pack(b"GP", 0, 0b00001, srs_id) + w)
        else:
            out.append(_HEADER.pack(b"GP", 0, 0b00011, srs_id) + _ENVELOPE.pack(b[0], b[2], b[1], b[3]) + w)
    return out


def write_gpkg_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """`gdf` as the one layer `layer` of a new GeoPackage at `path` (its fids 1..n in row order)."""
    from pyproj import CRS

    crs = CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    auth = crs.to_authority() if crs is not None else None
    srs_id = int(auth[1]) if auth else 0
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    props = [c for c in gdf.columns if c != gdf.geometry.name]
    types = {c: _sql_type(gdf[c]) for c in props}
    has = shapely.is_geometry(geoms) & ~shapely.is_empty(geoms)  # drawn: in the extent and the index
    extent = shapely.total_bounds(geoms[has]) if has.any() else [None] * 4
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    con = sqlite3.connect(path)
    try:
        # a new file written once: no rollback journal, no fsync (a failed download is thrown away)
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        con.executescript(_SYSTEM_TABLES)
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", _UNDEFINED)
        if crs is not None and auth is not None and srs_id > 0:
            con.execute(
                "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, NULL)",
                (crs.name, srs_id, auth[0], srs_id, crs.to_wkt("WKT1_GDAL")),
            )
        con.execute(
            "INSERT INTO gpkg_contents VALUES (?, 'features', ?, '', ?, ?, ?, ?, ?, ?)",
            (layer, layer, now, *(None if v is None else float(v) for v in extent), srs_id),
        )
        con.execute("INSERT INTO gpkg_ogr_contents VALUES (?, ?)", (layer, len(gdf)))
        gtype = _geometry_type(geoms)
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)", (layer, gtype, srs_id))
        cols = "".join(f', "{c}" {types[c]}' for c in props)
        con.execute(f'CREATE TABLE "{layer}" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {gtype}{cols})')
        columns = [_values(gdf[c], types[c]) for c in props]
        rows = zip(range(1, len(gdf) + 1), _blobs(geoms, srs_id), *columns)
        marks = ", ".join("?" * (2 + len(props)))
        con.executemany(f'INSERT INTO "{layer}" VALUES ({marks})', rows)
        # the spatial index GDAL and QGIS use for a bbox (the GeoPackage R*Tree extension)
        rtree = f"rtree_{layer}_geom"
        con.execute(f'CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy)')
        b = shapely.bounds(geoms)
        con.executemany(
            f'INSERT INTO "{rtree}" VALUES (?, ?, ?, ?, ?)',
            ((i + 1, r[0], r[2], r[1], r[3]) for i, r in enumerate(b.tolist()) if has[i]),
        )
        con.execute(
            "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (layer,),
        )
        con.commit()
    finally:
        con.close()
