"""What a document draws of a store, as a picklable read-only object for the document process
(geoborder.reports.process): the frames of the layers it draws (or the rows of them it draws), those
layers' titles and sources from the catalog, the build info and the data version. It answers the
store methods the drawing code calls: `frame`, `catalog.layer`, `build_info`, `version`.

The frames are the store's own, already in memory: nothing is read again. A layer the store does
not have is kept as its NotFound (the drawing skips it, as with the store); a layer the snapshot
was not given raises LookupError, so a document that draws a new layer fails its tests until the
layer is added to what it draws."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType

from geoborder.core.errors import NotFound


def _thaw(v):
    """The catalog's frozen mappings (MappingProxyType cannot be pickled) as dicts."""
    if isinstance(v, (MappingProxyType, dict)):
        return {k: _thaw(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return tuple(_thaw(x) for x in v)
    return v


class SnapshotCatalog:
    """The catalog's layers of a snapshot: `layer(id)`, as Catalog.layer (KeyError when unknown)."""

    def __init__(self, layers: dict):
        self._layers = layers

    def layer(self, layer_id: str):
        return self._layers[layer_id]

    @property
    def ids(self) -> list[str]:
        return list(self._layers)


class Snapshot:
    """A read-only store of the layers a document draws (see the module)."""

    def __init__(self, version: str, frames: dict, missing: dict[str, str], catalog: SnapshotCatalog, info: dict):
        self._version, self._frames, self._missing = version, frames, missing
        self.catalog, self._info = catalog, info

    @property
    def version(self) -> str:
        return self._version

    def frame(self, layer_id: str):
        if layer_id in self._missing:
            raise NotFound(self._missing[layer_id])
        try:
            return self._frames[layer_id]
        except KeyError:
            raise LookupError(
                f"layer {layer_id!r} is not in the document's snapshot (layers: {', '.join(self._frames)})"
            ) from None

    def build_info(self) -> dict:
        return self._info


def snapshot(store, layers: Mapping[str, Callable | None]) -> Snapshot:
    """The snapshot of `layers` of `store`: layer id -> None (the whole frame) or a function of the
    frame giving the rows the document draws."""
    frames: dict = {}
    missing: dict[str, str] = {}
    cat: dict = {}
    for layer_id, rows in layers.items():
        try:
            f = store.frame(layer_id)
        except NotFound as exc:
            missing[layer_id] = str(exc)
            continue
        frames[layer_id] = f if rows is None else rows(f)
        try:
            lyr = store.catalog.layer(layer_id)
        except (KeyError, NotFound, ValueError):
            continue
        cat[layer_id] = dataclasses.replace(lyr, select=_thaw(lyr.select), labels=_thaw(lyr.labels))
    return Snapshot(store.version, frames, missing, SnapshotCatalog(cat), dict(store.build_info() or {}))
