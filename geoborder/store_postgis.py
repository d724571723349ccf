"""`PostgisStore`: the `Store` protocol on a PostGIS database written by `geoborder publish`.

A worker reads the pointer (`geoborder.published`) at most every `refresh_seconds`; between two
checks it answers from one *snapshot* (version, schema, layer list, build info, frames read so
far). When the pointer moves, the next check replaces the whole snapshot at once: `version`, the
layer list and every frame change together, so a worker never mixes two versions, and caches or
ETags keyed by `store.version` follow. Frames are read from the version's own schema
(`gb_<version>`), never through the `geoborder_current` views, so a switch made while a frame is
being read cannot mix versions either; published schemas are immutable until dropped.

Every schema, table and column name that reaches SQL comes from the published description of the
version, is checked against the catalog and the identifier pattern, and is quoted with
`psycopg.sql.Identifier`; nothing a caller sends is put in SQL (an unknown layer id is a NotFound
before any query).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .build import META_BUILD, META_LAYERS
from .catalog import Catalog, load_catalog
from .errors import NotFound, StoreError
from .publish import (COLUMNS_META, FID_COLUMN, GEOMETRY_COLUMN, SRID, TABLES_META, allowed_columns,
                      check_identifier, redact, schema_for)
from .store import LayerInfo, _LayerIndex, missing_layer

log = logging.getLogger("geoborder.store")

DEFAULT_REFRESH_SECONDS = 5.0


def is_postgres_url(value) -> bool:
    return isinstance(value, str) and value.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class _Table:
    name: str
    kind: str
    columns: tuple[tuple[str, str], ...]   # (name, pandas dtype), without fid and geometry


@dataclass
class _Snapshot:
    version: str
    schema: str
    tables: dict[str, _Table]
    infos: dict[str, LayerInfo]
    meta: dict[str, str]
    frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


class PostgisStore(_LayerIndex):
    """The current published version of a PostGIS database, as a Store."""

    def __init__(self, url: str, catalog: Catalog | None = None, *,
                 refresh_seconds: float = DEFAULT_REFRESH_SECONDS):
        self.url = url
        self.path = redact(url)          # what `geoborder info` and messages show; no password
        self.catalog = catalog or load_catalog()
        self.refresh_seconds = float(refresh_seconds)
        self._lock = threading.RLock()
        self._con = None
        self._checked = 0.0
        self._snap = self._load_snapshot(self._read_pointer())
        self._checked = time.monotonic()

    # ------------------------------------------------------------------ connection

    def _connection(self):
        import psycopg

        if self._con is None or self._con.closed:
            try:
                self._con = psycopg.connect(self.url, autocommit=True)
            except psycopg.Error as exc:
                raise StoreError(f"cannot connect to {self.path}: {exc}".strip()) from exc
        return self._con

    def _query(self, query, params=None, *, binary: bool = False) -> list[tuple]:
        """One statement on the store's connection; one reconnect if the connection was lost."""
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                con = self._connection()
                try:
                    with con.cursor(binary=binary) as cur:
                        cur.execute(query, params)
                        return cur.fetchall()
                except psycopg.OperationalError as exc:
                    self._con = None
                    if attempt == 2:
                        raise StoreError(f"the database at {self.path} is unavailable: {exc}") from exc
                except psycopg.Error as exc:
                    raise StoreError(f"reading {self.path} failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    # ------------------------------------------------------------------ the pointer

    def _read_pointer(self) -> str:
        rows = self._query("SELECT to_regclass('geoborder.published') IS NOT NULL")
        if not rows[0][0]:
            raise StoreError(f"nothing is published at {self.path}: run `geoborder publish --to ...`")
        rows = self._query("SELECT version FROM geoborder.published")
        if not rows:
            raise StoreError(f"nothing is published at {self.path}: run `geoborder publish --to ...`")
        return rows[0][0]

    def _current(self) -> _Snapshot:
        """The snapshot to answer from; the pointer is re-read at most every refresh_seconds."""
        snap = self._snap
        if time.monotonic() - self._checked < self.refresh_seconds:
            return snap
        with self._lock:
            if time.monotonic() - self._checked < self.refresh_seconds:
                return self._snap
            try:
                version = self._read_pointer()
                if version != self._snap.version:
                    new = self._load_snapshot(version)
                    log.info("data version %s -> %s", self._snap.version, new.version)
                    self._snap = new
            except StoreError as exc:
                # keep answering from the version we have; try again at the next check
                log.warning("cannot re-check the published version (%s); serving %s", exc, self._snap.version)
            self._checked = time.monotonic()
            return self._snap

    def refresh(self) -> str:
        """Re-read the pointer now (e.g. after a publish in the same process); the version."""
        with self._lock:
            self._checked = float("-inf")
        return self._current().version

    def _load_snapshot(self, version: str) -> _Snapshot:
        from psycopg import sql

        schema = schema_for(version)
        s = sql.Identifier(schema)
        rows = self._query(sql.SQL("""SELECT table_name, kind, geometry_type, key_field, row_count,
                                             min_x, min_y, max_x, max_y FROM {}.{} ORDER BY position""").format(
            s, sql.Identifier(TABLES_META)))
        col_rows = self._query(sql.SQL("SELECT table_name, column_name, dtype FROM {}.{} "
                                       "ORDER BY table_name, position").format(s, sql.Identifier(COLUMNS_META)))
        cols: dict[str, list[tuple[str, str]]] = {}
        for tname, cname, dtype in col_rows:
            cols.setdefault(tname, []).append((cname, dtype))
        tables: dict[str, _Table] = {}
        extents = {}
        for tname, kind, _gtype, _key, _n, *ext in rows:
            # names from the database are checked like any input before they are used in SQL
            check_identifier(tname, "table name")
            allowed = allowed_columns(tname, self.catalog)
            if allowed is None:
                raise StoreError(f"{schema}.{tname} is not a layer or table of this catalog")
            for cname, _ in cols.get(tname, []):
                check_identifier(cname, f"column of {tname}")
                if cname not in allowed:
                    raise StoreError(f"{schema}.{tname}.{cname} is not a field of this catalog")
            tables[tname] = _Table(tname, kind, tuple(cols.get(tname, [])))
            extents[tname] = tuple(float(v) for v in ext) if None not in ext else None
        if META_LAYERS not in tables or META_BUILD not in tables:
            raise StoreError(f"{schema} at {self.path} is not a complete geoborder version")
        meta = dict(self._read_table(schema, tables[META_BUILD], ["key", "value"]).itertuples(index=False))
        layers_df = self._read_table(schema, tables[META_LAYERS], None)
        infos: dict[str, LayerInfo] = {}
        for r in layers_df.to_dict("records"):
            lid = r["layer_id"]
            if lid not in tables or tables[lid].kind != "layer":
                raise StoreError(f"{schema} lists layer {lid!r} but holds no such table")
            infos[lid] = LayerInfo(
                id=lid, title_vi=r["title_vi"], title_en=r["title_en"], kind=r["kind"],
                geometry_type=r["geometry_type"], key_field=r["key_field"] or None,
                vintage=int(r["vintage"]) or None, feature_count=int(r["feature_count"]),
                bbox=extents.get(lid), source_file=r["source_file"], licence=r["licence"],
                attribution=r["attribution"], source_vintage=r["source_vintage"],
                source_sha256=r["source_sha256"], repaired=int(r["repaired"]))
        return _Snapshot(version=version, schema=schema, tables=tables, infos=infos, meta=meta)

    # ------------------------------------------------------------------ reading tables

    def _read_table(self, schema: str, t: _Table, only: list[str] | None, *,
                    geometry: bool = False) -> pd.DataFrame:
        """Rows of one table in fid order, columns typed as in the GeoPackage (index: fid)."""
        from psycopg import sql

        columns = [(c, d) for c, d in t.columns if only is None or c in only]
        select = [sql.Identifier(FID_COLUMN)] + [sql.Identifier(c) for c, _ in columns]
        if geometry:
            select.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(GEOMETRY_COLUMN)))
        rows = self._query(sql.SQL("SELECT {} FROM {}.{} ORDER BY {}").format(
            sql.SQL(", ").join(select), sql.Identifier(schema), sql.Identifier(t.name),
            sql.Identifier(FID_COLUMN)), binary=True)
        values = list(zip(*rows)) if rows else [()] * len(select)
        data = {}
        for (c, dtype), vals in zip(columns, values[1:]):
            data[c] = _typed(vals, dtype)
        df = pd.DataFrame(data) if data else pd.DataFrame(index=range(len(rows)))
        df.index = pd.Index(np.asarray(values[0], dtype="int64"), name=FID_COLUMN)
        if geometry:
            wkb = np.asarray([bytes(v) if v is not None else None for v in values[-1]], dtype=object)
            df = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(shapely.from_wkb(wkb), index=df.index),
                                  crs=f"EPSG:{SRID}")
        return df

    # ------------------------------------------------------------------ the Store protocol

    @property
    def _infos(self) -> dict[str, LayerInfo]:
        return self._current().infos

    @property
    def version(self) -> str:
        return self._current().version

    def frame(self, layer_id: str) -> gpd.GeoDataFrame:
        """The whole layer of the current version, in EPSG:4326, in fid (key) order; read once per
        version, then served from memory."""
        snap = self._current()
        if layer_id not in snap.infos:
            raise missing_layer(self.catalog, layer_id, snap.infos)
        gdf = snap.frames.get(layer_id)
        if gdf is None:
            with self._lock:
                gdf = snap.frames.get(layer_id)
                if gdf is None:
                    gdf = self._read_table(snap.schema, snap.tables[layer_id], None, geometry=True)
                    snap.frames[layer_id] = gdf
        return gdf

    def table(self, name: str) -> pd.DataFrame:
        """A non-spatial table of the store (e.g. markers_unplaced), as GpkgStore.table."""
        snap = self._current()
        t = snap.tables.get(name) if isinstance(name, str) else None
        if t is None:
            raise NotFound(f"no table {name!r} in the store")
        return self._read_table(snap.schema, t, None).reset_index(drop=True)

    def build_info(self) -> dict:
        meta = self._current().meta
        info = {k: v for k, v in meta.items() if k != "report"}
        info["report"] = json.loads(meta.get("report", "{}"))
        return info


def _typed(values, dtype: str) -> pd.Series:
    """A column read from PostGIS with the pandas dtype it had in the GeoPackage."""
    if dtype == "object":
        return pd.Series(list(values), dtype=object)
    if dtype in ("str", "string"):
        return pd.Series(list(values), dtype=dtype)
    if dtype.startswith(("float",)):
        return pd.Series([np.nan if v is None else v for v in values], dtype=dtype)
    return pd.Series(list(values), dtype=dtype)
