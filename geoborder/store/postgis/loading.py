"""The load of `geoborder publish`: the tables of a built GeoPackage read and checked against the
catalog, then created in a version's schema and filled by COPY (see publish.py for the layout)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoborder.core.catalog import Catalog
from geoborder.core.tables import META_BUILD, META_LAYERS, META_TABLE_COLUMNS
from geoborder.store.postgis.naming import (
    COLUMNS_META,
    FID_COLUMN,
    GEOMETRY_COLUMN,
    METRIC_COLUMN,
    METRIC_LAYERS,
    SRID,
    TABLES_META,
    PublishError,
    allowed_columns,
    check_identifier,
    schema_for,
)

# pandas dtype of a store column -> (SQL type, COPY binary type)
_SQL_TYPES = {
    "int64": ("bigint", "int8"),
    "int32": ("integer", "int4"),
    "int16": ("smallint", "int2"),
    "float64": ("double precision", "float8"),
    "float32": ("real", "float4"),
    "bool": ("boolean", "bool"),
    "str": ("text", "text"),
    "object": ("text", "text"),
    "string": ("text", "text"),
}


# --------------------------------------------------------------------------- reading the GeoPackage


@dataclass
class SourceTable:
    name: str
    kind: str  # "layer" | "table"
    geometry_type: str | None
    frame: pd.DataFrame  # index: fid
    key: str | None
    extent: tuple[float, float, float, float] | None


def read_gpkg(path: Path, catalog: Catalog) -> tuple[str, list[SourceTable]]:
    """The version and every table of a built store, each name and column checked against the
    catalog: anything else is refused before a connection is opened."""
    import sqlite3

    path = Path(path)
    if not path.exists():
        raise PublishError(f"no store at {path}: run `geoborder build` first")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as con:
            meta = dict(con.execute(f"SELECT key, value FROM {META_BUILD}").fetchall())
            extents = {
                r[0]: r[1:] for r in con.execute("SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents")
            }
    except sqlite3.Error as exc:
        raise PublishError(f"{path} is not a geoborder store: {exc}") from exc
    version = str(meta.get("fingerprint", ""))[:16]
    schema_for(version)
    tables = []
    for name, gtype in pyogrio.list_layers(path):
        name = str(name)
        check_identifier(name, "table name")
        allowed = allowed_columns(name, catalog)
        if allowed is None:
            raise PublishError(f"refused table {name!r}: not a layer or table of the catalog")
        is_layer = gtype is not None and name not in META_TABLE_COLUMNS
        gdf = pyogrio.read_dataframe(path, layer=name, fid_as_index=True, read_geometry=is_layer)
        for col in gdf.columns:
            if is_layer and col == GEOMETRY_COLUMN:
                continue
            check_identifier(col, f"column of {name}")
            if col not in allowed or col == FID_COLUMN:
                raise PublishError(f"refused column {col!r} of {name!r}: not a field of the catalog")
            if str(gdf[col].dtype) not in _SQL_TYPES:
                raise PublishError(f"column {col!r} of {name!r} has an unsupported type {gdf[col].dtype}")
        key = None
        if is_layer:
            lyr = catalog.layer(name)
            key = lyr.key if lyr.key in gdf.columns else None
        ext = extents.get(name)
        ext = tuple(float(v) for v in ext) if ext and None not in ext else None
        tables.append(
            SourceTable(name, "layer" if is_layer else "table", str(gtype) if is_layer else None, gdf, key, ext)
        )
    names = {t.name for t in tables}
    for required in (META_LAYERS, META_BUILD):
        if required not in names:
            raise PublishError(f"{path} is not a geoborder store: no table {required}")
    return version, tables


# --------------------------------------------------------------------------- SQL helpers


def _py(series: pd.Series) -> list:
    """A column as Python values for COPY: NaN / NA -> None."""
    dt = str(series.dtype)
    if dt.startswith(("int", "bool")):
        return series.tolist()
    values = series.astype(object)
    return values.where(series.notna(), None).tolist()


def create_and_copy(cur, schema: str, t: SourceTable, metric: int | None = None) -> None:
    from psycopg import sql

    s, n = sql.Identifier(schema), sql.Identifier(t.name)
    cols = [c for c in t.frame.columns if c != GEOMETRY_COLUMN]
    defs = [sql.SQL("{} bigint NOT NULL").format(sql.Identifier(FID_COLUMN))]
    copy_types = ["int8"]
    for c in cols:
        sqltype, copytype = _SQL_TYPES[str(t.frame[c].dtype)]
        defs.append(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(sqltype)))
        copy_types.append(copytype)
    if t.kind == "layer":
        gtype = t.geometry_type if t.geometry_type in ("Point", "MultiLineString", "MultiPolygon") else "Geometry"
        defs.append(
            sql.SQL("{} geometry({}, {})").format(sql.Identifier(GEOMETRY_COLUMN), sql.SQL(gtype), sql.Literal(SRID))
        )
        copy_types.append("bytea")
    cur.execute(sql.SQL("CREATE TABLE {}.{} ({})").format(s, n, sql.SQL(", ").join(defs)))

    columns = [FID_COLUMN] + cols + ([GEOMETRY_COLUMN] if t.kind == "layer" else [])
    data = [t.frame.index.astype("int64").tolist()] + [_py(t.frame[c]) for c in cols]
    if t.kind == "layer":
        geoms = np.asarray(t.frame.geometry.values, dtype=object)
        geoms = shapely.set_srid(geoms, SRID)
        data.append(list(shapely.to_wkb(geoms, include_srid=True, flavor="extended")))
    copy_sql = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT BINARY)").format(
        s, n, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with cur.copy(copy_sql) as copy:
        copy.set_types(copy_types)
        for row in zip(*data):
            copy.write_row(row)
    if t.kind == "layer" and metric and t.name in METRIC_LAYERS:
        _add_metric_column(cur, schema, t, int(metric))  # a table rewrite: before the other indexes

    pk = t.key if t.key and t.frame[t.key].notna().all() else FID_COLUMN
    cur.execute(sql.SQL("ALTER TABLE {}.{} ADD PRIMARY KEY ({})").format(s, n, sql.Identifier(pk)))
    if pk != FID_COLUMN:
        cur.execute(sql.SQL("ALTER TABLE {}.{} ADD UNIQUE ({})").format(s, n, sql.Identifier(FID_COLUMN)))
    if t.kind == "layer":
        cur.execute(
            sql.SQL("CREATE INDEX {} ON {}.{} USING gist ({})").format(
                sql.Identifier(f"{t.name}_geometry_gist"[:63]), s, n, sql.Identifier(GEOMETRY_COLUMN)
            )
        )
    cur.execute(sql.SQL("ANALYZE {}.{}").format(s, n))


def _add_metric_column(cur, schema: str, t: SourceTable, srid: int) -> None:
    """METRIC_COLUMN of a loaded layer: its geometry in the metric CRS, repaired where invalid there,
    typed as the layer (or `Geometry` when a repair changed a type), with a GiST index.

    Filled by one table rewrite (ALTER COLUMN ... TYPE ... USING), so no dead rows are left behind."""
    import psycopg
    from psycopg import sql

    s, n = sql.Identifier(schema), sql.Identifier(t.name)
    col = sql.Identifier(METRIC_COLUMN)
    m = sql.SQL("ST_Transform({}, {})").format(sql.Identifier(GEOMETRY_COLUMN), sql.Literal(srid))
    fill = sql.SQL(
        "CASE WHEN ST_IsValid({m}) THEN {m} ELSE ST_MakeValid({m}, 'method=structure keepcollapsed=false') END"
    ).format(m=m)
    cur.execute(sql.SQL("ALTER TABLE {}.{} ADD COLUMN {} geometry").format(s, n, col))
    gtype = t.geometry_type if t.geometry_type in ("Point", "MultiLineString", "MultiPolygon") else "Geometry"
    for typ in dict.fromkeys((gtype, "Geometry")):
        try:
            with cur.connection.transaction():  # a savepoint: a repair that changed a type -> Geometry
                cur.execute(
                    sql.SQL("ALTER TABLE {}.{} ALTER COLUMN {} TYPE geometry({}, {}) USING {}").format(
                        s, n, col, sql.SQL(typ), sql.Literal(srid), fill
                    )
                )
            break
        except psycopg.errors.DataException:
            if typ == "Geometry":
                raise
    cur.execute(
        sql.SQL("CREATE INDEX {} ON {}.{} USING gist ({})").format(
            sql.Identifier(f"{t.name}_{METRIC_COLUMN}_gist"[:63]), s, n, col
        )
    )


def write_descriptions(cur, schema: str, tables: list[SourceTable]) -> None:
    from psycopg import sql

    s = sql.Identifier(schema)
    cur.execute(
        sql.SQL("""CREATE TABLE {}.{} (table_name text PRIMARY KEY, kind text NOT NULL,
        geometry_type text, key_field text, row_count bigint NOT NULL,
        min_x double precision, min_y double precision, max_x double precision, max_y double precision,
        position integer NOT NULL)""").format(s, sql.Identifier(TABLES_META))
    )
    cur.execute(
        sql.SQL("""CREATE TABLE {}.{} (table_name text NOT NULL, position integer NOT NULL,
        column_name text NOT NULL, sql_type text NOT NULL, dtype text NOT NULL,
        PRIMARY KEY (table_name, position))""").format(s, sql.Identifier(COLUMNS_META))
    )
    for i, t in enumerate(tables):
        ext = t.extent or (None, None, None, None)
        cur.execute(
            sql.SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)").format(
                s, sql.Identifier(TABLES_META)
            ),
            (t.name, t.kind, t.geometry_type, t.key, len(t.frame), *ext, i),
        )
        for j, c in enumerate(c for c in t.frame.columns if c != GEOMETRY_COLUMN):
            dt = str(t.frame[c].dtype)
            cur.execute(
                sql.SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s, %s)").format(s, sql.Identifier(COLUMNS_META)),
                (t.name, j, c, _SQL_TYPES[dt][0], dt),
            )
