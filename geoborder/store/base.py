"""The store protocol: what the library needs from a store, and the layer index every
implementation shares (GpkgStore in gpkg.py, MemoryStore in memory.py, PostgisStore in postgis/).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

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

    def pinned(self) -> AbstractContextManager[None]:
        """A block within which every read sees one data version (a request: the middleware wraps
        each one). A store whose data cannot change while it is open has nothing to pin."""
        ...

    def close(self) -> None:
        """Give back what the store holds open (connections); reading after it is an error."""
        ...

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
    """Lookup of the layers a store holds (`self._infos`), shared by the implementations, and the
    defaults of a store whose data never changes while it is open (nothing to pin or close)."""

    catalog: Catalog
    _infos: dict[str, LayerInfo]

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

    def catalog_layer(self, layer_id: str) -> Layer:
        return self.catalog.layer(self.layer(layer_id).id)
