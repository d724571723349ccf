"""The store interface and its embedded implementation (one GeoPackage, opened read-only).

The service only talks to a `Store`; another implementation (PostGIS) can stand behind the same
protocol. Layers are read lazily, once per process, and kept in memory: the whole store is a few
tens of MB, and every worker process holds its own copy (nothing shared that can go stale).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd
import pyogrio

from .build import META_BUILD, META_LAYERS
from .catalog import Catalog, Layer, load_catalog
from .errors import NotFound, StoreError
from .settings import is_postgres_url


@dataclass(frozen=True)
class LayerInfo:
    id: str
    title_vi: str
    title_en: str
    kind: str
    geometry_type: str
    key_field: str | None
    vintage: int | None
    feature_count: int
    bbox: tuple[float, float, float, float] | None
    source_file: str
    licence: str
    attribution: str
    source_vintage: str
    source_sha256: str
    repaired: int

    def title(self, lang: str = "vi") -> str:
        return self.title_en if lang == "en" else self.title_vi


@runtime_checkable
class Store(Protocol):
    """What the service needs from a store."""

    @property
    def version(self) -> str:
        """Changes whenever the data changes: the key of caches and ETags."""

    def layers(self) -> list[LayerInfo]: ...

    def layer(self, layer_id: str) -> LayerInfo: ...

    def frame(self, layer_id: str) -> gpd.GeoDataFrame: ...

    def build_info(self) -> dict: ...

    def table(self, name: str) -> pd.DataFrame: ...


def is_sql_store(store) -> bool:
    """True for a store that answers selections in SQL (PostgisStore: `snapshot()`, `fetch()`);
    the library modules choose their SQL path with this, the API never asks."""
    return getattr(store, "dialect", None) == "postgis"


def missing_layer(catalog: Catalog, layer_id: str, present) -> NotFound:
    """The error for a layer a store does not hold: a catalog layer whose source was not in the
    pack, or no such layer at all (a typo)."""
    if layer_id in catalog.ids:
        why = f"layer {layer_id!r} is not in this store (its source is not in the pack it was built from)"
    else:
        why = f"no layer {layer_id!r}"
    return NotFound(f"{why}; layers: {', '.join(present)}")


class _LayerIndex:
    """Lookup of the layers a store holds (`self._infos`), shared by the implementations."""

    catalog: Catalog
    _infos: dict[str, LayerInfo]

    def layers(self) -> list[LayerInfo]:
        return list(self._infos.values())

    def layer(self, layer_id: str) -> LayerInfo:
        try:
            return self._infos[layer_id]
        except KeyError:
            raise missing_layer(self.catalog, layer_id, self._infos) from None

    def catalog_layer(self, layer_id: str) -> Layer:
        return self.catalog.layer(self.layer(layer_id).id)


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
                extents = {r[0]: r[1:] for r in con.execute(
                    "SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents")}
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path} is not a geoborder store: {exc}") from exc
        self._meta = meta
        self._infos: dict[str, LayerInfo] = {}
        for r in rows:
            ext = extents.get(r["layer_id"])
            bbox = tuple(float(v) for v in ext) if ext and None not in ext else None
            self._infos[r["layer_id"]] = LayerInfo(
                id=r["layer_id"], title_vi=r["title_vi"], title_en=r["title_en"], kind=r["kind"],
                geometry_type=r["geometry_type"], key_field=r["key_field"] or None,
                vintage=int(r["vintage"]) or None, feature_count=int(r["feature_count"]), bbox=bbox,
                source_file=r["source_file"], licence=r["licence"], attribution=r["attribution"],
                source_vintage=r["source_vintage"], source_sha256=r["source_sha256"],
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
                gdf = pyogrio.read_dataframe(self.path, layer=layer_id, fid_as_index=True)
                self._frames[layer_id] = gdf
        return gdf

    def table(self, name: str) -> pd.DataFrame:
        """A non-spatial table of the store (e.g. markers_unplaced)."""
        try:
            return pyogrio.read_dataframe(self.path, layer=name, read_geometry=False)
        except Exception as exc:
            raise NotFound(f"no table {name!r} in the store") from exc

    def build_info(self) -> dict:
        info = {k: v for k, v in self._meta.items() if k != "report"}
        info["report"] = json.loads(self._meta.get("report", "{}"))
        return info


def open_store(path: Path | str, catalog: Catalog | None = None) -> Store:
    """The store named by GEOBORDER_STORE: a postgresql:// URL gives a PostgisStore (see
    geoborder.store_postgis), anything else a GpkgStore."""
    if is_postgres_url(path):
        from .settings import StoreSettings
        from .store_postgis import PostgisStore

        settings = StoreSettings()
        return PostgisStore(path, catalog, refresh_seconds=settings.store_refresh_seconds,
                            pool_size=settings.store_pool_size)
    return GpkgStore(path, catalog)


class MemoryStore(_LayerIndex):
    """A store held in memory, from GeoDataFrames: route tests on a bare app use it."""

    def __init__(self, frames: dict[str, gpd.GeoDataFrame], catalog: Catalog | None = None,
                 version: str = "memory"):
        self.catalog = catalog or load_catalog()
        self._frames = frames
        self._version = version
        self._infos = {}
        for lid, gdf in frames.items():
            lyr = self.catalog.layer(lid)
            geoms = gdf.geometry[gdf.geometry.notna()]
            self._infos[lid] = LayerInfo(
                id=lid, title_vi=lyr.vi, title_en=lyr.en, kind=lyr.kind, geometry_type=lyr.geometry,
                key_field=lyr.key, vintage=lyr.vintage, feature_count=len(gdf),
                bbox=tuple(float(v) for v in geoms.total_bounds) if len(geoms) else None,
                source_file=lyr.source.file if lyr.source else "",
                licence=lyr.source.licence if lyr.source else "derived",
                attribution=lyr.source.attribution if lyr.source else "derived",
                source_vintage=lyr.source.vintage if lyr.source else "", source_sha256="", repaired=0)

    @property
    def version(self) -> str:
        return self._version

    def frame(self, layer_id: str) -> gpd.GeoDataFrame:
        self.layer(layer_id)
        return self._frames[layer_id]

    def table(self, name: str) -> pd.DataFrame:
        raise NotFound(f"no table {name!r} in the store")

    def build_info(self) -> dict:
        return {"fingerprint": self._version, "built_at": None, "pack": None, "report": {}}
