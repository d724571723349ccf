"""The embedded store: one GeoPackage written by `geoborder build`, opened read-only.

Layers are read lazily, once per process, and kept in memory: the whole store is a few tens of MB,
and every worker process holds its own copy (nothing shared that can go stale). They are read with
sqlite3 and shapely (geoborder/store/gpkg_read.py), not GDAL: the frames pyogrio would give,
without its ~25 MB of library in every worker.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import NotFound, StoreError
from geoborder.core.tables import META_BUILD, META_LAYERS
from geoborder.store.base import LayerInfo, _LayerIndex, as_bbox
from geoborder.store.gpkg_read import read_table


def int_fields_as_int(frame: pd.DataFrame, catalog: Catalog, layer_id: str) -> pd.DataFrame:
    """The catalog's `int` fields that came back as floats (an INTEGER column with NULLs reads
    as float64) as pandas `Int64`, so counts are written 3248, not 3248.0, with nulls kept.
    A column with a fraction is left as it is (nothing is rounded away)."""
    if layer_id not in catalog.ids:
        return frame
    cast = {}
    for f in catalog.layer(layer_id).fields:
        if f.type != "int" or f.name not in frame.columns:
            continue
        col = frame[f.name]
        if pd.api.types.is_float_dtype(col.dtype):
            v = col.to_numpy(dtype="float64", na_value=np.nan)
            finite = v[np.isfinite(v)]
            if np.array_equal(finite, np.round(finite)) and not np.isinf(v).any():
                cast[f.name] = "Int64"
    return frame.astype(cast) if cast else frame


class GpkgStore(_LayerIndex):
    """The embedded store: one GeoPackage written by `geoborder build`."""

    def __init__(self, path: Path, catalog: Catalog | None = None):
        self.path = Path(path)
        self.catalog = catalog or load_catalog()
        if not self.path.exists():
            raise StoreError(f"no store at {self.path}: run `geoborder build` (or `make run`) first")
        try:
            with self._connect() as con:
                meta = dict(con.execute(f"SELECT key, value FROM {META_BUILD}").fetchall())
                cur = con.execute(f"SELECT * FROM {META_LAYERS}")
                cols = [c[0] for c in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
                extents = {
                    r[0]: r[1:] for r in con.execute("SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents")
                }
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path} is not a geoborder store: {exc}") from exc
        self._meta = meta
        self._infos: dict[str, LayerInfo] = {}
        for r in rows:
            ext = extents.get(r["layer_id"])
            bbox = as_bbox(ext) if ext and None not in ext else None
            self._infos[r["layer_id"]] = LayerInfo(
                id=r["layer_id"],
                title_vi=r["title_vi"],
                title_en=r["title_en"],
                kind=r["kind"],
                geometry_type=r["geometry_type"],
                key_field=r["key_field"] or None,
                vintage=int(r["vintage"]) or None,
                feature_count=int(r["feature_count"]),
                bbox=bbox,
                source_file=r["source_file"],
                licence=r["licence"],
                attribution=r["attribution"],
                source_vintage=r["source_vintage"],
                source_sha256=r["source_sha256"],
                repaired=int(r["repaired"]),
            )
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)

    @property
    def version(self) -> str:
        return self._meta["fingerprint"][:16]

    def frame(self, layer_id: str) -> gpd.GeoDataFrame:
        """The whole layer, in EPSG:4326, in key order; read once, then served from memory."""
        self.layer(layer_id)
        with self._lock:
            gdf = self._frames.get(layer_id)
            if gdf is None:
                with closing(self._connect()) as con:
                    gdf = read_table(con, layer_id)
                gdf = int_fields_as_int(gdf, self.catalog, layer_id)
                self._frames[layer_id] = gdf
        return gdf

    def sidecar(self, suffix: str) -> Path | None:
        path = self.path.with_name(self.path.stem + suffix)
        return path if path.is_file() else None

    def table(self, name: str) -> pd.DataFrame:
        """A non-spatial table of the store (e.g. markers_unplaced)."""
        try:
            with closing(self._connect()) as con:
                return read_table(con, name, geometry=False)
        except (StoreError, sqlite3.Error) as exc:
            raise NotFound(f"no table {name!r} in the store") from exc

    def build_info(self) -> dict:
        info = {k: v for k, v in self._meta.items() if k != "report"}
        info["report"] = json.loads(self._meta.get("report", "{}"))
        return info
