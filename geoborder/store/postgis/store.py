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
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import NotFound, StoreError
from geoborder.core.tables import META_BUILD, META_LAYERS
from geoborder.store.base import LayerInfo, SpatialEngine, TileEngine, _LayerIndex, missing_layer
from geoborder.store.gpkg import int_fields_as_int
from geoborder.store.postgis.connection import DEFAULT_POOL_SIZE, POINTER_WAIT_SECONDS, PooledDatabase
from geoborder.store.postgis.items import SqlItems
from geoborder.store.postgis.naming import (
    COLUMNS_META,
    FID_COLUMN,
    GEOMETRY_COLUMN,
    SRID,
    TABLES_META,
    allowed_columns,
    check_identifier,
    schema_for,
)
from geoborder.store.postgis.queries import PostgisSpatial
from geoborder.store.postgis.spatial_sql import answers_in_sql
from geoborder.store.postgis.tiles import PostgisTiles

log = logging.getLogger("geoborder.store")

DEFAULT_REFRESH_SECONDS = 5.0


# the snapshot pinned for the request being answered: (store, snapshot); see PostgisStore.pinned
_PINNED: ContextVar[tuple[object, _Snapshot] | None] = ContextVar("geoborder_pinned_snapshot", default=None)


@dataclass(frozen=True)
class _Table:
    name: str
    kind: str
    columns: tuple[tuple[str, str], ...]  # (name, pandas dtype), without fid and geometry


@dataclass
class _Snapshot:
    version: str
    schema: str
    tables: dict[str, _Table]
    infos: dict[str, LayerInfo]
    meta: dict[str, str]
    frames: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


class PostgisStore(PooledDatabase, _LayerIndex):
    """The current published version of a PostGIS database, as a Store.

    Besides the frames of the Store protocol (read once per version), its engines answer in SQL
    what SQL does better: items selection and other CRSs (`items`: SqlItems), vector tiles
    (`tile_engine`: ST_AsMVT) and the spatial primitives of the queries (`spatial_engine`).
    Its connections and `fetch` are those of PooledDatabase (connection.py)."""

    def __init__(
        self,
        url: str,
        catalog: Catalog | None = None,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        pool_size: int = DEFAULT_POOL_SIZE,
    ):
        PooledDatabase.__init__(self, url, pool_size=pool_size)
        self.catalog = catalog or load_catalog()
        self.refresh_seconds = float(refresh_seconds)
        self._srids: frozenset[int] | None = None
        self._checked = 0.0
        self._snap = self._load_snapshot(self._read_pointer())
        self._checked = time.monotonic()

    # ------------------------------------------------------------------ the pointer

    def _read_pointer(self) -> str:
        rows = self.fetch("SELECT to_regclass('geoborder.published') IS NOT NULL", wait=POINTER_WAIT_SECONDS)
        if not rows[0][0]:
            raise StoreError(f"nothing is published at {self.path}: run `geoborder publish --to ...`")
        rows = self.fetch("SELECT version FROM geoborder.published", wait=POINTER_WAIT_SECONDS)
        if not rows:
            raise StoreError(f"nothing is published at {self.path}: run `geoborder publish --to ...`")
        return rows[0][0]

    @contextmanager
    def pinned(self):
        """Within this block (one request: the middleware wraps each one), every use of the
        store reads one snapshot: the ETag, the cache keys and the data agree even when the
        pointer moves meanwhile. A context variable, so it follows the request into the thread
        pool and into a streamed body, and concurrent requests do not see each other's pin."""
        token = _PINNED.set((self, self._current()))
        try:
            yield
        finally:
            _PINNED.reset(token)

    def _current(self) -> _Snapshot:
        """The snapshot to answer from: the request's pinned one, else the latest seen; the
        pointer is re-read at most every refresh_seconds."""
        pinned = _PINNED.get()
        if pinned is not None and pinned[0] is self:
            return pinned[1]
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
        rows = self.fetch(
            sql.SQL("""SELECT table_name, kind, geometry_type, key_field, row_count,
                                             min_x, min_y, max_x, max_y FROM {}.{} ORDER BY position""").format(
                s, sql.Identifier(TABLES_META)
            )
        )
        col_rows = self.fetch(
            sql.SQL("SELECT table_name, column_name, dtype FROM {}.{} ORDER BY table_name, position").format(
                s, sql.Identifier(COLUMNS_META)
            )
        )
        cols: dict[str, list[tuple[str, str]]] = {}
        for tname, cname, dtype in col_rows:
            cols.setdefault(tname, []).append((cname, dtype))
        tables: dict[str, _Table] = {}
        extents: dict[str, tuple[float, float, float, float] | None] = {}
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
            x0, y0, x1, y1 = ext
            extents[tname] = (float(x0), float(y0), float(x1), float(y1)) if None not in ext else None
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
                id=lid,
                title_vi=r["title_vi"],
                title_en=r["title_en"],
                kind=r["kind"],
                geometry_type=r["geometry_type"],
                key_field=r["key_field"] or None,
                vintage=int(r["vintage"]) or None,
                feature_count=int(r["feature_count"]),
                bbox=extents.get(lid),
                source_file=r["source_file"],
                licence=r["licence"],
                attribution=r["attribution"],
                source_vintage=r["source_vintage"],
                source_sha256=r["source_sha256"],
                repaired=int(r["repaired"]),
            )
        snap = _Snapshot(version=version, schema=schema, tables=tables, infos=infos, meta=meta)
        # the catalog's small non-spatial tables (gates_unplaced, markers_unplaced: the records /layers
        # counts) are read with the rest of the version's description, so a worker answers them from
        # memory as it answers the layer list
        for name in self.catalog.unplaced_tables():
            if name in tables:
                snap.frames[f"table:{name}"] = self._read_table(schema, tables[name], None).reset_index(drop=True)
        return snap

    # ------------------------------------------------------------------ reading tables

    def _read_table(self, schema: str, t: _Table, only: list[str] | None, *, geometry: bool = False) -> pd.DataFrame:
        """Rows of one table in fid order, columns typed as in the GeoPackage (index: fid)."""
        from psycopg import sql

        columns = [(c, d) for c, d in t.columns if only is None or c in only]
        select: list[sql.Composable] = [sql.Identifier(FID_COLUMN), *(sql.Identifier(c) for c, _ in columns)]
        if geometry:
            select.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(GEOMETRY_COLUMN)))
        rows = self.fetch(
            sql.SQL("SELECT {} FROM {}.{} ORDER BY {}").format(
                sql.SQL(", ").join(select), sql.Identifier(schema), sql.Identifier(t.name), sql.Identifier(FID_COLUMN)
            ),
            binary=True,
        )
        values = list(zip(*rows)) if rows else [()] * len(select)
        data = {}
        for (c, dtype), vals in zip(columns, values[1:]):
            data[c] = _typed(vals, dtype)
        df = pd.DataFrame(data) if data else pd.DataFrame(index=range(len(rows)))
        df.index = pd.Index(np.asarray(values[0], dtype="int64"), name=FID_COLUMN)
        if geometry:
            wkb = np.asarray([bytes(v) if v is not None else None for v in values[-1]], dtype=object)
            df = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(shapely.from_wkb(wkb), index=df.index), crs=f"EPSG:{SRID}")
        return df

    # ------------------------------------------------------------------ the Store protocol

    def snapshot(self) -> _Snapshot:
        """The data version to answer one request from: `.version`, `.schema` (the version's own
        schema, `gb_<version>`), `.tables` (name -> columns). SQL written for a request reads
        `snapshot.schema`, so it never mixes two versions, even across a switch."""
        return self._current()

    def table_columns(self, layer_id: str) -> tuple[str, ...]:
        """The property columns of a layer in the current version (no fid, no geometry)."""
        snap = self._current()
        if layer_id not in snap.infos:
            raise missing_layer(self.catalog, layer_id, snap.infos)
        return tuple(c for c, _ in snap.tables[layer_id].columns)

    # _LayerIndex (store/base.py): the layers of the current snapshot, read-only
    @property
    def _infos(self) -> dict[str, LayerInfo]:
        return self._current().infos

    @property
    def version(self) -> str:
        return self._current().version

    def transform_srids(self) -> frozenset[int]:
        """The EPSG codes of the service's output CRSs that this database's spatial_ref_sys
        knows (ST_Transform can use them); read once."""
        if self._srids is None:
            from geoborder.core.crs import supported_crs

            wanted = sorted({c.epsg for c in supported_crs().values() if c.epsg is not None})
            rows = self.fetch("SELECT srid FROM spatial_ref_sys WHERE auth_name = 'EPSG' AND srid = ANY(%s)", (wanted,))
            self._srids = frozenset(int(r[0]) for r in rows)
        return self._srids

    def frame(self, layer_id: str, snapshot: _Snapshot | None = None) -> gpd.GeoDataFrame:
        """The whole layer of the current version (or of `snapshot`), in EPSG:4326, in fid (key)
        order; read once per version, then served from memory."""
        snap = snapshot or self._current()
        if layer_id not in snap.infos:
            raise missing_layer(self.catalog, layer_id, snap.infos)
        gdf = snap.frames.get(layer_id)
        if gdf is None:
            with self._lock:
                gdf = snap.frames.get(layer_id)
                if gdf is None:
                    gdf = self._read_table(snap.schema, snap.tables[layer_id], None, geometry=True)
                    gdf = int_fields_as_int(gdf, self.catalog, layer_id)  # as GpkgStore.frame
                    snap.frames[layer_id] = gdf
        return gdf

    # ------------------------------------------------------------------ the engines

    def items(self, layer_id: str) -> tuple[gpd.GeoDataFrame, SqlItems]:
        snap = self.snapshot()  # the frame and the SQL read the same version
        return self.frame(layer_id, snap), SqlItems.for_layer(self, snap, layer_id)

    def tile_engine(self, local: TileEngine) -> TileEngine:
        return PostgisTiles(self)

    def spatial_engine(self, local: SpatialEngine) -> SpatialEngine:
        return PostgisSpatial(self) if answers_in_sql(self) else local

    def table(self, name: str) -> pd.DataFrame:
        """A non-spatial table of the store (e.g. markers_unplaced), as GpkgStore.table."""
        snap = self._current()
        t = snap.tables.get(name) if isinstance(name, str) else None
        if t is None:
            raise NotFound(f"no table {name!r} in the store")
        # read once per version, like frames (a published schema never changes): a worker keeps
        # answering what it has read when the database goes away
        key = f"table:{name}"
        df = snap.frames.get(key)
        if df is None:
            df = self._read_table(snap.schema, t, None).reset_index(drop=True)
            snap.frames[key] = df
        return df.copy()

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
