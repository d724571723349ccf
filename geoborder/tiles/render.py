"""Web map tiles on the WebMercatorQuad grid (morecantile): choropleth PNG, styled map PNG, MVT.

- `choropleth_png`: the communes of a choropleth (geoborder.maps.choropleth) rasterised with
  rasterio.features.rasterize by class colour (and thin commune outlines from zoom 8), PNG-encoded
  through rasterio's MemoryFile.
- `layer_png`: a context layer (roads, settlements, commune seats, ...) drawn in a fixed style.
- `layer_mvt`: any layer as a Mapbox Vector Tile (mapbox-vector-tile), every attribute kept, the
  feature id being the layer's fid; rendered by the store's tile engine: `LocalTiles` from the
  projected frames, or on a PostGIS store the database (ST_AsMVT, geoborder/store/postgis/tiles.py).

Layers are projected to EPSG:3857 once per data version (`projected`), packed as WKB with their
envelopes and an STRtree over them, and the choropleths' commune layers simplified to half a pixel
per zoom below SIMPLIFY_BELOW_ZOOM (`simplified`); a tile reads back the WKB of the rows it draws.
On a GeoPackage store that WKB is read from the store's tile file, `<store>.tiles` beside it
(geoborder.tiles.packed_file): `ensure_tile_file`, called by `geoborder build` and `geoborder run`,
writes every layer projected and the commune layers simplified at every zoom below
SIMPLIFY_BELOW_ZOOM once per build, by the same `_project` / `_simplify` the in-memory path uses,
so tiles are byte-identical with and without it; a worker then holds only the offsets, envelopes
and trees (the 37 MB of WKB stay in the page cache, shared by every worker). Without the file, or
for a layer it does not hold for this build, the layers are projected and simplified in memory.
A tile that the data does not reach is answered from a precomputed empty tile without rendering.
Rendered tiles are kept in an in-process LRU keyed by the data version and every parameter.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from geoborder.core.cache import LRU
from geoborder.core.crs import reproject
from geoborder.core.tilegrid import MVT_BUFFER, MVT_EXTENT, OUTLINE_FROM_ZOOM, TILE_SIZE, tile_bounds
from geoborder.maps.choropleth import VINTAGES, Choropleth
from geoborder.store.base import Store
from geoborder.tiles.packed_file import SUFFIX, FilePacked, LayerParts, Packed, TileFile, write_tile_file

# --------------------------------------------------------------------------- projected layers


@dataclass(frozen=True)
class Projected:
    """A layer in EPSG:3857, packed as WKB (`Packed`, or `FilePacked` from the store's tile file),
    with an STRtree over the envelopes of its geometries: GEOS geometries of the commune layers
    took 28 MB with their tree, and a tile only reads back the features it draws."""

    packed: Packed | FilePacked  # one per row of the layer (empty where no geometry)
    envelopes: np.ndarray  # float64 (n, 4): minx, miny, maxx, maxy of each row (NaN where none)
    tree: shapely.STRtree  # over the envelopes: the same tree (and order) as over the geometries
    bounds: tuple[float, float, float, float] | None
    file: TileFile | None = None  # the tile file it was read from, which holds its simplified zooms

    def query(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Row positions of the features that intersect `box`, in the order of the tree (as
        `STRtree.query(..., predicate="intersects")` over the geometries gives them). A feature
        whose envelope lies inside the box intersects it; only the others are read back."""
        b = shapely.box(*box)
        idx = self.tree.query(b)
        if len(idx) == 0:
            return idx
        e = self.envelopes[idx]
        inside = (e[:, 0] >= box[0]) & (e[:, 1] >= box[1]) & (e[:, 2] <= box[2]) & (e[:, 3] <= box[3])
        keep = inside.copy()
        edge = np.flatnonzero(~inside)
        if len(edge):
            keep[edge] = shapely.intersects(self.packed.take(idx[edge]), b)
        return idx[keep]

    def take(self, idx: np.ndarray) -> np.ndarray:
        """The geometries at row positions `idx`."""
        return self.packed.take(idx)

    @property
    def geoms(self) -> np.ndarray:
        """Every geometry (None where missing), read back from the WKB: a temporary."""
        return self.packed.take(np.arange(len(self.packed)))


_PROJECTED = LRU(48)
_SIMPLIFIED = LRU(64)
_FILES = LRU(4)
SIMPLIFY_BELOW_ZOOM = 13
#: the layers drawn simplified (the choropleths' communes), and the zooms the tile file holds them at
SIMPLIFIED_LAYERS = tuple(f"communes_{v}" for v in VINTAGES)
FILE_ZOOMS = range(SIMPLIFY_BELOW_ZOOM)


def _tree(envelopes: np.ndarray) -> shapely.STRtree:
    """The STRtree over the rows' envelopes (a point where the envelope is one, none where the
    row has no geometry): GEOS indexes each geometry by its envelope, so this is the tree over
    the geometries themselves, without them."""
    x0, y0, x1, y1 = envelopes.T
    boxes = np.full(len(envelopes), None, dtype=object)
    some = ~np.isnan(envelopes).any(axis=1)
    point = some & (x0 == x1) & (y0 == y1)
    box = some & ~point
    boxes[point] = shapely.points(x0[point], y0[point])
    boxes[box] = shapely.box(x0[box], y0[box], x1[box], y1[box])
    return shapely.STRtree(boxes)


def _project(frame) -> Projected:
    """The frame's geometries in EPSG:3857 (made valid), packed, with their envelopes and tree:
    what a worker holds of a layer without the tile file, and what the tile file holds of it."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    has = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    out = np.full(len(geoms), None, dtype=object)
    if has.any():
        out[has] = shapely.make_valid(reproject(geoms[has], "EPSG:4326", "EPSG:3857"))
    envelopes = shapely.bounds(out)
    bounds = None
    if has.any():
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(out[has]))
        bounds = (x0, y0, x1, y1)
    return Projected(Packed.of(out), envelopes, _tree(envelopes), bounds)


def _tolerance(z: int) -> float:
    """Half a pixel at zoom z, in EPSG:3857 metres."""
    return (tile_bounds(z, 0, 0)[2] - tile_bounds(z, 0, 0)[0]) / TILE_SIZE / 2


def _simplify(geoms: np.ndarray, z: int) -> Packed:
    return Packed.of(shapely.simplify(geoms, _tolerance(z), preserve_topology=False))


def _fids(frame) -> np.ndarray:
    return np.asarray(frame.index, dtype=np.int64)


def _tile_file(store) -> TileFile | None:
    """The store's tile file if it is this version's (opened once per version and file), else None."""
    path = store.sidecar(SUFFIX)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size, store.version)
    return _FILES.get_or_make(key, lambda: TileFile.open(path, store.version))


def simplified(store, layer_id: str, z: int) -> Packed | FilePacked | None:
    """The layer's 3857 geometries simplified to half a pixel at zoom z (vertex count is what
    rasterising costs), computed once per (data version, layer, zoom) and packed, or read from
    the store's tile file; None from SIMPLIFY_BELOW_ZOOM on (the projected geometries are drawn as
    they are)."""
    if z >= SIMPLIFY_BELOW_ZOOM:
        return None
    proj = projected(store, layer_id)

    def make():
        if proj.file is not None:
            packed = proj.file.simplified(layer_id, z, _fids(store.frame(layer_id)))
            if packed is not None:
                return packed
        return _simplify(proj.geoms, z)

    return _SIMPLIFIED.get_or_make((id(store), store.version, layer_id, z), make)


def geoms_at_zoom(store, layer_id: str, z: int, idx: np.ndarray) -> np.ndarray:
    """The geometries at row positions `idx` of the layer, simplified for zoom z."""
    packed = simplified(store, layer_id, z)
    if packed is None:
        return projected(store, layer_id).take(idx)
    return packed.take(idx)


def projected(store, layer_id: str) -> Projected:
    """The layer in EPSG:3857, once per data version: from the store's tile file when it holds
    the layer for this build, else projected here from the store's frame."""

    def make():
        frame = store.frame(layer_id)
        file = _tile_file(store)
        got = file.projected(layer_id, _fids(frame)) if file is not None else None
        if got is None:
            return _project(frame)
        return Projected(got.packed, got.envelopes, _tree(got.envelopes), got.bounds, file)

    return _PROJECTED.get_or_make((id(store), store.version, layer_id), make)


# --------------------------------------------------------------------------- the tile file


def tile_file_path(store_path: Path) -> Path:
    """Where the tile file of the GeoPackage store at `store_path` is written."""
    return store_path.with_name(store_path.stem + SUFFIX)


def ensure_tile_file(store_path: Path, emit: Callable[[str], None] = lambda m: None) -> Path:
    """The tile file of the GeoPackage store at `store_path`: every layer projected and the
    commune layers simplified for every zoom below SIMPLIFY_BELOW_ZOOM, by the code that makes
    them in memory, written unless the file there is already this build's with all of them."""
    from geoborder.store.gpkg import GpkgStore

    store = GpkgStore(Path(store_path))
    path = tile_file_path(store.path)
    layer_ids = [info.id for info in store.layers()]
    want = {i: list(FILE_ZOOMS) if i in SIMPLIFIED_LAYERS else [] for i in layer_ids}
    file = TileFile.open(path if path.is_file() else None, store.version)
    if file is not None and file.contents == want:
        return path

    def layers() -> Iterator[LayerParts]:
        for layer_id in layer_ids:
            frame = store.frame(layer_id)
            proj = _project(frame)
            zooms: dict[int, Packed] = {}
            if want[layer_id]:
                geoms = proj.geoms
                zooms = {z: _simplify(geoms, z) for z in want[layer_id]}
            assert isinstance(proj.packed, Packed)
            yield LayerParts(layer_id, _fids(frame), proj.packed, proj.envelopes, proj.bounds, zooms)

    emit(f"writing the tile layers (EPSG:3857 WKB, simplified per zoom) to {path.name} ...")
    return write_tile_file(path, store.version, layers(), emit)


def _disjoint(a: tuple[float, ...] | None, b: tuple[float, ...]) -> bool:
    return a is None or a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3]


# --------------------------------------------------------------------------- PNG


def _hex_rgba(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha


def encode_png(rgba: np.ndarray) -> bytes:
    """A (4, h, w) uint8 array as PNG bytes (rasterio / GDAL PNG driver)."""
    _, h, w = rgba.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not georeferenced: a plain image
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=w, height=h, count=4, dtype="uint8") as dst:
                dst.write(rgba)
            return mem.read()


@lru_cache(maxsize=1)
def empty_png() -> bytes:
    """A fully transparent 256x256 PNG, made once."""
    return encode_png(np.zeros((4, TILE_SIZE, TILE_SIZE), dtype=np.uint8))


EMPTY_MVT = b""


def _pixel(box: tuple[float, float, float, float]) -> float:
    return (box[2] - box[0]) / TILE_SIZE


def _rasterize(shapes, box, **kw) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rasterio's own deprecation / georeferencing notices
        return rasterio.features.rasterize(
            shapes,
            out_shape=(TILE_SIZE, TILE_SIZE),
            transform=from_bounds(*box, TILE_SIZE, TILE_SIZE),
            fill=0,
            dtype="uint8",
            **kw,
        )


def choropleth_png(store, ch: Choropleth, z: int, x: int, y: int) -> bytes | None:
    """The choropleth tile, or None when no commune of the map's area reaches it (empty tile)."""
    box = tile_bounds(z, x, y)
    proj = projected(store, ch.layer_id)
    pad = _pixel(box) * 2
    q = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    idx = proj.query(q)
    idx = idx[ch.area.mask[idx]]
    if len(idx) == 0:
        return None
    geoms = geoms_at_zoom(store, ch.layer_id, z, idx)
    # draw small features last so they are not hidden; values: 0 transparent, 1 no data, 2.. classes
    order = np.argsort(-shapely.area(geoms))
    shapes = ((geoms[i], int(ch.classes[idx[i]]) + 2) for i in order)
    raster = _rasterize(shapes, box)
    table = np.zeros((256, 4), dtype=np.uint8)
    table[1] = _hex_rgba(ch.color_of(-1))
    for i, c in enumerate(ch.classification.colors):
        table[i + 2] = _hex_rgba(c)
    rgba = table[raster]
    if z >= OUTLINE_FROM_ZOOM:
        lines = _rasterize(((g, 1) for g in shapely.boundary(geoms)), box, all_touched=True)
        on = (lines == 1) & (raster > 0)
        rgba[on] = (rgba[on].astype(np.uint16) * 3 // 5).astype(np.uint8)  # darker edge of the same colour
        rgba[on, 3] = 255
    return encode_png(np.ascontiguousarray(rgba.transpose(2, 0, 1)))


@dataclass(frozen=True)
class Style:
    color: str
    width_px: float = 1.0  # lines
    radius_px: float = 3.0  # points
    fill: str | None = None  # polygons (None: outline only)
    min_zoom: int = 0


# Context layers of the map page. Others get a default style by geometry type.
STYLES = {
    "roads": Style("#a0522d", width_px=1.5, min_zoom=7),
    "places": Style("#1f1f1f", radius_px=2.5, min_zoom=5),
    "commune_seats_2025": Style("#6a3d9a", radius_px=2.5, min_zoom=7),
    "border_lines": Style("#d7191c", width_px=2.5),
}
_DEFAULT_STYLE = Style("#333333", width_px=1.0, radius_px=2.5)


def layer_png(store, layer_id: str, z: int, x: int, y: int) -> bytes | None:
    """A layer drawn in its style, or None when the layer does not reach the tile."""
    style = STYLES.get(layer_id, _DEFAULT_STYLE)
    box = tile_bounds(z, x, y)
    proj = projected(store, layer_id)
    if z < style.min_zoom or _disjoint(proj.bounds, box):
        return None
    px = _pixel(box)
    pad = px * (style.radius_px + style.width_px + 1)
    idx = proj.query((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
    if len(idx) == 0:
        return None
    geoms = proj.take(idx)
    kinds = shapely.get_type_id(geoms)
    points = np.isin(kinds, (0, 4))
    lines = np.isin(kinds, (1, 2, 5))
    polys = np.isin(kinds, (3, 6))
    # lines and outlines cut to the tile and its margin (a cut end lies in the margin, farther out
    # than half a line's width) and simplified to half a pixel, as the choropleth's communes are,
    # before they are buffered: buffering a province's or the border's whole outline at full
    # resolution took up to 13 s per tile at zoom 5 (220 tiles of 11 layers: 285 s -> 2 s)
    padded = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)

    def drawn(g: np.ndarray) -> np.ndarray:
        # each line on its own: the buffer of a multi-line is the union of its parts' buffers, which
        # took 11 s for a province's 2,489 island outlines; burnt one by one the pixels are the same
        return shapely.get_parts(shapely.simplify(shapely.clip_by_rect(g, *padded), px / 2, preserve_topology=False))

    parts = []
    if points.any():
        parts.append(shapely.buffer(geoms[points], px * style.radius_px, quad_segs=4))
    if lines.any():
        parts.append(shapely.buffer(drawn(geoms[lines]), px * style.width_px / 2, quad_segs=2))
    if polys.any():
        parts.append(shapely.buffer(drawn(shapely.boundary(geoms[polys])), px * style.width_px / 2, quad_segs=2))
    shapes = [(g, 1) for arr in parts for g in arr if g is not None and not g.is_empty]
    if not shapes:
        return None
    raster = _rasterize(shapes, box, all_touched=True)
    if not raster.any():
        return None
    rgba = np.zeros((TILE_SIZE, TILE_SIZE, 4), dtype=np.uint8)
    rgba[raster == 1] = _hex_rgba(style.color)
    return encode_png(np.ascontiguousarray(rgba.transpose(2, 0, 1)))


# --------------------------------------------------------------------------- MVT


def _props(row: dict) -> dict:
    out: dict[str, bool | int | float | str] = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            continue
        if isinstance(v, (np.bool_, bool)):
            out[k] = bool(v)
        elif isinstance(v, (np.integer, int)):
            out[k] = int(v)
        elif isinstance(v, (np.floating, float)):
            out[k] = float(v)
        else:
            out[k] = str(v)
    return out


_MULTI = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}


def _homogeneous(geoms: np.ndarray) -> np.ndarray:
    """Geometry collections (a polygon whose sliver collapsed to a line when snapped to the grid)
    reduced to their parts of the highest dimension, as one (multi) geometry: MVT has no
    collections."""
    out = geoms.copy()
    for i in np.flatnonzero(shapely.get_type_id(geoms) == 7):
        parts = shapely.get_parts(shapely.get_parts(geoms[i]))  # flattens nested multi-parts
        parts = parts[~shapely.is_empty(parts)]
        if len(parts) == 0:
            out[i] = None
            continue
        dims = shapely.get_dimensions(parts)
        top = int(dims.max())
        out[i] = _MULTI[top](parts[dims == top])
    return out


def layer_mvt(store: Store, layer_id: str, z: int, x: int, y: int) -> bytes | None:
    """Every feature of the layer that intersects the tile, clipped to it (with a small buffer),
    in one MVT layer named after the layer, feature id = fid; None when there is none.

    Rendered by the store's tile engine: PostGIS in the database (ST_AsMVT), the others by
    `LocalTiles`, from the layer projected to EPSG:3857 once per version."""
    return store.tile_engine(LocalTiles(store)).layer_mvt(layer_id, z, x, y)


class LocalTiles:
    """The `TileEngine` on the store's frames in memory (mapbox-vector-tile)."""

    def __init__(self, store: Store):
        self.store = store

    def layer_mvt(self, layer_id: str, z: int, x: int, y: int) -> bytes | None:
        return _local_mvt(self.store, layer_id, z, x, y)


def _local_mvt(store: Store, layer_id: str, z: int, x: int, y: int) -> bytes | None:
    box = tile_bounds(z, x, y)
    proj = projected(store, layer_id)
    if _disjoint(proj.bounds, box):
        return None
    idx = proj.query(box)
    if len(idx) == 0:
        return None
    unit = (box[2] - box[0]) / MVT_EXTENT
    pad = unit * MVT_BUFFER
    clip = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    geoms = shapely.clip_by_rect(proj.take(idx), *clip)
    geoms = shapely.simplify(geoms, unit / 2, preserve_topology=True)
    # to tile units (y up) snapped to the integer grid here, with GEOS keeping the result valid
    # (parts that collapse to nothing are dropped): left to mapbox-vector-tile, one part of a
    # multipolygon collapsing made the whole feature invalid and it was left out (Việt Nam from the
    # zoom-3 countries tile, the Hạ Long communes with their islands at zoom 5)
    geoms = _homogeneous(shapely.set_precision(shapely.transform(geoms, lambda c: (c - (box[0], box[1])) / unit), 1.0))
    gdf = store.frame(layer_id)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).iloc[idx]
    ids = attrs.index if pd.api.types.is_integer_dtype(attrs.index) else [None] * len(attrs)
    features = []
    for g, fid, row in zip(geoms, ids, attrs.to_dict("records")):
        if g is None or g.is_empty:
            continue
        feature = {"geometry": g, "properties": _props(row)}
        if fid is not None and fid >= 0:
            feature["id"] = int(fid)
        features.append(feature)
    if not features:
        return None
    return mapbox_vector_tile.encode(
        [{"name": layer_id, "features": features}],
        default_options={
            "extents": MVT_EXTENT,
            "y_coord_down": False,
            "on_invalid_geometry": mapbox_vector_tile.encoder.on_invalid_geometry_make_valid,
        },
    )


# --------------------------------------------------------------------------- cache

#: rendered tiles kept: at most this many, and at most this many bytes of them (empty tiles count 0)
TILE_CACHE_ENTRIES = 4096
TILE_CACHE_BYTES = 32 * 2**20
_TILES = LRU(TILE_CACHE_ENTRIES, max_bytes=TILE_CACHE_BYTES)


def cached(key: tuple, make) -> bytes | None:
    """The tile of `key` (None for an empty tile), rendered once per key. The key holds the data
    version and every parameter; the API derives the tile's ETag from it (api/caching.py)."""
    return _TILES.get_or_make(key, make)


def clear_cache() -> None:
    _TILES.clear()
    _PROJECTED.clear()
    _SIMPLIFIED.clear()
    _FILES.clear()
