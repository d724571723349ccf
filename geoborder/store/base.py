"""The store protocol: what the library needs from a store, and the layer index every
implementation shares (GpkgStore in gpkg.py, MemoryStore in memory.py, PostgisStore in postgis/).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoborder.core.catalog import Catalog, Layer
from geoborder.core.errors import NotFound


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
    """What the library and the service need from a store; nothing else is asked of one.

    Implementations: GpkgStore (geoborder.store.gpkg), MemoryStore (geoborder.store.memory),
    PostgisStore (geoborder.store.postgis.store), chosen once by `geoborder.store.open.open_store`.
    """

    #: the layer catalog the store was opened with (fields, keys, build settings)
    catalog: Catalog

    @property
    def version(self) -> str:
        """Changes whenever the data changes: the key of caches and ETags."""

    def layers(self) -> list[LayerInfo]: ...

    def layer(self, layer_id: str) -> LayerInfo: ...

    def catalog_layer(self, layer_id: str) -> Layer:
        """The catalog's description of a layer the store holds (fields, key, titles)."""
        ...

    def frame(self, layer_id: str) -> gpd.GeoDataFrame:
        """The whole layer in EPSG:4326, indexed by fid."""
        ...

    def build_info(self) -> dict: ...

    def sidecar(self, suffix: str) -> Path | None:
        """The file of derived data written beside the store (its name with `suffix` for the
        extension, e.g. the features' GeoJSON and gzip segments), if there is one; None for a
        store without such files (PostGIS, in memory)."""

    def table(self, name: str) -> pd.DataFrame:
        """A non-spatial table of the store (e.g. gates_unplaced)."""
        ...

    def pinned(self) -> AbstractContextManager[None]:
        """A block within which every read sees one data version (a request: the middleware wraps
        each one). A store whose data cannot change while it is open has nothing to pin."""
        ...

    def close(self) -> None:
        """Give back what the store holds open (connections); reading after it is an error."""
        ...

    # The engines. The library hands the store its in-memory implementation (`local`) and uses the
    # engine the store answers with; it never asks which store it has. GpkgStore and MemoryStore
    # answer with `local`; PostgisStore with its SQL (geoborder.store.postgis).

    def items(self, layer_id: str) -> tuple[gpd.GeoDataFrame, ItemsEngine]:
        """The layer's frame and the engine that selects its items, both of one data version."""
        ...

    def tile_engine(self, local: TileEngine) -> TileEngine:
        """The engine that renders the layers' vector tiles."""
        ...

    def spatial_engine(self, local: SpatialEngine) -> SpatialEngine:
        """The engine of the primitives of the spatial questions (geoborder.queries)."""
        ...


class ItemsEngine(Protocol):
    """Selects the items of one layer where the store can do it better than memory (SQL). The
    library selects in memory whatever the engine does not `handle` (e.g. a filter on indicator
    values joined in memory)."""

    def handles(self, query) -> bool:
        """True when `select(query)` answers it (a `geoborder.features.query.ItemQuery`)."""
        ...

    def select(self, query) -> tuple[np.ndarray, int]:
        """(the fids of the page in order, how many features match in all)."""
        ...

    def can_transform(self, crs) -> bool:
        """True when `transformed` can give geometries in `crs` (a SupportedCrs)."""
        ...

    def transformed(self, fids: np.ndarray, crs, *, axis_order: bool = True, rounded: bool = True) -> np.ndarray:
        """The geometries of `fids` in `crs`."""
        ...

    def excluding(self, names) -> ItemsEngine:
        """The same engine without the columns `names` (replaced by values joined in memory)."""
        ...


class InMemoryItems:
    """The items engine of a store that keeps its layers in memory: it handles nothing, so the
    library selects and reprojects every query itself."""

    def handles(self, query) -> bool:
        return False

    def select(self, query) -> tuple[np.ndarray, int]:
        raise NotImplementedError("an in-memory layer is selected by geoborder.features")

    def can_transform(self, crs) -> bool:
        return False

    def transformed(self, fids: np.ndarray, crs, *, axis_order: bool = True, rounded: bool = True) -> np.ndarray:
        raise NotImplementedError("an in-memory layer is reprojected by geoborder.features")

    def excluding(self, names) -> InMemoryItems:
        return self


IN_MEMORY_ITEMS = InMemoryItems()


class TileEngine(Protocol):
    def layer_mvt(self, layer_id: str, z: int, x: int, y: int) -> bytes | None:
        """The layer's Mapbox Vector Tile z/x/y (already checked), or None when no feature reaches it."""
        ...


class SpatialEngine(Protocol):
    """The primitives of the spatial questions, in the metric CRS of the catalog. Rows are row
    positions in the store's frames; every answer is the same whichever engine gives it (the
    parity suite compares them)."""

    def distance_to_vietnam(self, point: shapely.Geometry) -> float | None:
        """Metres from a metric point to Vietnam's outline (None: no outline in the store)."""
        ...

    def origin(self, layer: str, row: int, *, surface: bool = False) -> shapely.Geometry:
        """The metric geometry of one row (`surface`: a point on its surface)."""
        ...

    def nearest_gates(
        self,
        point: shapely.Geometry,
        k: int,
        *,
        international_only: bool,
        published_only: bool,
        partner_iso3: str | None,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(rows of the k nearest gates with a position, their distances, how many gates qualify)."""
        ...

    def roadless(
        self, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None, layer: str = "places"
    ) -> RoadlessArrays:
        """Per point of `layer` (the settlements `places`, or the `villages`, with `cc` None):
        nearest road and distance, commune, distance to the border and whether it is selected
        (farther than `dmin` from a road, of `cc`, within `border_m`). The commune of a settlement
        is the first (by row) holding it; a village's is its own commune_code_{vintage}."""
        ...

    def settlements_per_commune(self, vintage: int, cc, layer: str = "places") -> pd.Series:
        """Points of `layer` (of `cc`) per commune row (their commune as in `roadless`)."""
        ...

    def adjacency(
        self,
        communes: pd.DataFrame,
        member: np.ndarray,
        unit,
        within,
        vintage: int,
        tol: float,
        min_km: float,
        shared: bool,
    ) -> tuple:
        """Polygon adjacency of a Vietnamese unit: (candidate rows kept, their shared km, shared
        boundaries, pair index, pair row, pair km, short contacts left out)."""
        ...

    def zone(self, *, partner, vintage: int, d: float, parts, cc, step: float) -> dict:
        """{part: (rows, distances, km inside)} within `d` m of the border (NotFound: no line faces
        `partner`); parts: communes, settlements (of `cc`), villages, roads."""
        ...


@dataclass(frozen=True)
class RoadlessArrays:
    """`SpatialEngine.roadless`: arrays indexed by the row of the layer asked (`places` or `villages`)."""

    road_row: np.ndarray  # nearest road's row, -1 for none
    road_m: np.ndarray  # distance to it (inf for none)
    commune_row: np.ndarray  # the commune of the settlement / village, -1 for none
    border_m: np.ndarray | None  # distance to the border (None: not asked)
    selected: np.ndarray  # bool


def missing_layer(catalog: Catalog, layer_id: str, present) -> NotFound:
    """The error for a layer a store does not hold: a catalog layer whose source was not in the
    pack, or no such layer at all (a typo)."""
    if layer_id in catalog.ids:
        why = f"layer {layer_id!r} is not in this store (its source is not in the pack it was built from)"
    else:
        why = f"no layer {layer_id!r}"
    return NotFound(f"{why}; layers: {', '.join(present)}")


def as_bbox(values: Iterable[float]) -> tuple[float, float, float, float]:
    """A (minx, miny, maxx, maxy) box of four numbers as floats (a frame's total_bounds, a
    GeoPackage extent)."""
    minx, miny, maxx, maxy = (float(v) for v in values)
    return minx, miny, maxx, maxy


class _LayerIndex:
    """Lookup of the layers a store holds (`self._infos`), shared by the implementations, and the
    defaults of a store whose data never changes while it is open (nothing to pin or close)."""

    catalog: Catalog

    if TYPE_CHECKING:
        # What each implementation provides. `_infos`: an attribute (GpkgStore, MemoryStore) or a
        # read-only property (PostgisStore: the current snapshot's); declared read-only here so
        # both implement it (a real property here would make the attribute unassignable).
        @property
        def _infos(self) -> dict[str, LayerInfo]: ...

        def frame(self, layer_id: str) -> gpd.GeoDataFrame: ...

    def layers(self) -> list[LayerInfo]:
        return list(self._infos.values())

    def layer(self, layer_id: str) -> LayerInfo:
        try:
            return self._infos[layer_id]
        except KeyError:
            raise missing_layer(self.catalog, layer_id, self._infos) from None

    def pinned(self) -> AbstractContextManager[None]:
        return nullcontext()

    def close(self) -> None:
        return None

    def sidecar(self, suffix: str) -> Path | None:
        return None

    def items(self, layer_id: str) -> tuple[gpd.GeoDataFrame, ItemsEngine]:
        return self.frame(layer_id), IN_MEMORY_ITEMS

    def tile_engine(self, local: TileEngine) -> TileEngine:
        return local

    def spatial_engine(self, local: SpatialEngine) -> SpatialEngine:
        return local

    def catalog_layer(self, layer_id: str) -> Layer:
        return self.catalog.layer(self.layer(layer_id).id)
