"""A store held in memory, from GeoDataFrames: route tests on a bare app use it."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import NotFound
from geoborder.store.base import LayerInfo, _LayerIndex, as_bbox


class MemoryStore(_LayerIndex):
    """A store held in memory, from GeoDataFrames: route tests on a bare app use it."""

    def __init__(self, frames: dict[str, gpd.GeoDataFrame], catalog: Catalog | None = None, version: str = "memory"):
        self.catalog = catalog or load_catalog()
        self._frames = frames
        self._version = version
        self._infos: dict[str, LayerInfo] = {}
        for lid, gdf in frames.items():
            lyr = self.catalog.layer(lid)
            geoms = gdf.geometry[gdf.geometry.notna()]
            self._infos[lid] = LayerInfo(
                id=lid,
                title_vi=lyr.vi,
                title_en=lyr.en,
                kind=lyr.kind,
                geometry_type=lyr.geometry,
                key_field=lyr.key,
                vintage=lyr.vintage,
                feature_count=len(gdf),
                bbox=as_bbox(geoms.total_bounds) if len(geoms) else None,
                source_file=lyr.source.file if lyr.source else "",
                licence=lyr.source.licence if lyr.source else "derived",
                attribution=lyr.source.attribution if lyr.source else "derived",
                source_vintage=lyr.source.vintage if lyr.source else "",
                source_sha256="",
                repaired=0,
            )

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
