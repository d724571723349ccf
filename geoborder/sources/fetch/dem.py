"""`geoborder fetch --dem`: Copernicus DEM GLO-30 over the border provinces, merged into the pack.

The tiles are the public COG GeoTIFFs of the `copernicus-dem-30m` AWS bucket, one per 1°x1° cell,
named by the cell's south-west corner:
`{base}/Copernicus_DSM_COG_10_N22_00_E103_00_DEM/Copernicus_DSM_COG_10_N22_00_E103_00_DEM.tif`.
A cell of open sea has no tile (the bucket answers 404): it is left out and said so.

The cells are those under the border provinces: the pack's provinces (the 2025 units when they
were imported, else geoBoundaries VNM ADM1) within 5 km of the pack's land border lines, or
`FetchOptions.dem_bbox` when given. The tiles are downloaded with the fetch's Downloader (cached,
resumed, checked), then merged (rasterio.merge) and clipped to the provinces' bounds into one
tiled, compressed GeoTIFF, `dem_glo30.tif`, which the build uses instead of ETOPO5.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pyogrio
import shapely

from geoborder.core.errors import FetchError
from geoborder.core.files import sha256_file
from geoborder.sources.fetch.download import Downloader
from geoborder.sources.fetch.manifest import Manifest, PackFile, now
from geoborder.sources.fetch.options import FetchOptions

DEM_FILE = "dem_glo30.tif"
SOURCE = "Copernicus DEM GLO-30"
LICENCE = "Copernicus DEM licence (free use with attribution)"
ATTRIBUTION = (
    "Copernicus DEM GLO-30: © DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018 provided "
    "under COPERNICUS by the European Union and ESA"
)
NODATA = -32767.0
PROVINCE_FILES = ("vn_provinces_2025.geojson", "gb_vnm_adm1.geojson")
BORDER_FILES = ("border_lines_osm.geojson", "border_lines_wdbii.geojson")
NEAR_BORDER_DEG = 0.05  # ~5 km: a province this close to a land border line is a border province


def tile_name(lat: int, lon: int) -> str:
    """The GLO-30 tile of the 1° cell whose south-west corner is (lat, lon)."""
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"Copernicus_DSM_COG_10_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"


def tile_url(base: str, lat: int, lon: int) -> str:
    name = tile_name(lat, lon)
    return f"{base.rstrip('/')}/{name}/{name}.tif"


def border_area(pack: Path, opts: FetchOptions) -> tuple[shapely.Geometry, str]:
    """What the DEM must cover (lon/lat), and how it was found."""
    if opts.dem_bbox is not None:
        return shapely.box(*opts.dem_bbox), f"the given box {tuple(opts.dem_bbox)}"
    borders = [pack / f for f in BORDER_FILES if (pack / f).exists()]
    lines = shapely.union_all([g for p in borders for g in pyogrio.read_dataframe(p).geometry if g is not None])
    for name in PROVINCE_FILES:
        path = pack / name
        if not path.exists():
            continue
        provs = pyogrio.read_dataframe(path)
        geoms = [g for g in provs.geometry if g is not None and not g.is_empty]
        if borders and not lines.is_empty:
            near = [g for g in geoms if g.distance(lines) <= NEAR_BORDER_DEG]
            if near:
                return shapely.union_all(near), f"{len(near)} border provinces of {name}"
        if geoms:
            return shapely.union_all(geoms), f"every province of {name} (no border lines in the pack)"
    raise FetchError(
        f"fetch --dem: no provinces in the pack ({' or '.join(PROVINCE_FILES)}) to take the extent from; "
        "fetch geoBoundaries first, or give a box (FetchOptions.dem_bbox)",
        source=SOURCE,
    )


def cells(area: shapely.Geometry) -> list[tuple[int, int]]:
    """(lat, lon) of the south-west corners of the 1° cells the area touches, south to north."""
    x0, y0, x1, y1 = area.bounds
    out = []
    for lat in range(math.floor(y0), math.ceil(y1)):
        for lon in range(math.floor(x0), math.ceil(x1)):
            if area.intersects(shapely.box(lon, lat, lon + 1, lat + 1)):
                out.append((lat, lon))
    return out


def fetch_dem(
    dl: Downloader, pack: Path, opts: FetchOptions, man: Manifest, failures: list[dict], emit: Callable[[str], None]
) -> Path | None:
    """The GLO-30 tiles over the border provinces, merged into pack/dem_glo30.tif (and in the
    manifest); None, with the failure recorded, when none could be had."""
    emit(f"{SOURCE} ({LICENCE}):")
    try:
        area, how = border_area(pack, opts)
    except FetchError as exc:
        failures.append({"source": SOURCE, "error": str(exc)})
        emit(f"  FAILED {SOURCE}: {exc}")
        return None
    todo = cells(area)
    emit(f"  {len(todo)} 1° cells under {how}")
    got: list[tuple[Path, str]] = []
    sea: list[str] = []
    for lat, lon in todo:
        url = tile_url(opts.dem_url, lat, lon)
        name = tile_name(lat, lon)
        try:
            path, rec = dl.fetch(url, source=f"{SOURCE} {name}")
        except FetchError as exc:
            if "HTTP 404" in str(exc):  # the bucket has no tile for a cell of open sea
                sea.append(name)
                continue
            failures.append({"source": f"{SOURCE} {name}", "error": str(exc)})
            emit(f"  FAILED {name}: {exc}")
            continue
        got.append((path, url))
        man.downloads.append(
            {
                "source": f"{SOURCE} {name}",
                "url": url,
                "sha256": rec["sha256"],
                "date": rec["fetched_at"],
                "licence": LICENCE,
            }
        )
    if not got:
        if not any(f["source"].startswith(SOURCE) for f in failures):
            failures.append({"source": SOURCE, "error": f"no tile over {how} ({len(sea)} cells without one)"})
        return None
    out = pack / DEM_FILE
    try:
        res = _merge([p for p, _ in got], area.bounds, out)
    except Exception as exc:  # rasterio: a tile that is not a GeoTIFF, ...
        failures.append({"source": SOURCE, "error": f"cannot merge the tiles: {exc}"})
        emit(f"  FAILED {SOURCE}: cannot merge the tiles: {exc}")
        return None
    notes = [f"{len(got)} tiles merged and clipped to {how}; cells {res}"]
    if sea:
        notes.append(f"{len(sea)} cells have no tile (open sea): {', '.join(sea)}")
    man.put(
        PackFile(
            file=DEM_FILE,
            what="elevation, Copernicus GLO-30, over the border provinces (the build's DEM instead of ETOPO5)",
            source=SOURCE,
            urls=[u for _, u in got],
            licence=LICENCE,
            attribution=ATTRIBUTION,
            date=now(),
            sha256=sha256_file(out),
            notes=notes,
        )
    )
    emit(f"  wrote {DEM_FILE} ({len(got)} tiles, {res})")
    return out


def _merge(paths: list[Path], bounds: tuple[float, ...], out: Path) -> str:
    """The tiles merged into `out` over `bounds` (clipped to the tiles), float32 with NODATA;
    the cell size, said in arc-seconds."""
    import rasterio
    from rasterio.merge import merge

    with rasterio.open(paths[0]) as first:
        res = first.res
    tmp = out.with_name(f".{out.name}.part")
    srcs = [rasterio.open(p) for p in paths]
    try:
        lx = max(bounds[0], min(s.bounds.left for s in srcs))
        by = max(bounds[1], min(s.bounds.bottom for s in srcs))
        rx = min(bounds[2], max(s.bounds.right for s in srcs))
        ty = min(bounds[3], max(s.bounds.top for s in srcs))
        merge(
            srcs,
            bounds=(lx, by, rx, ty),
            nodata=NODATA,
            dtype="float32",
            dst_path=tmp,
            dst_kwds={
                "driver": "GTiff",
                "tiled": True,
                "blockxsize": 256,
                "blockysize": 256,
                "compress": "deflate",
                "BIGTIFF": "IF_SAFER",
            },
        )
    finally:
        for s in srcs:
            s.close()
    tmp.replace(out)
    return f"{res[0] * 3600:.3g}″ x {res[1] * 3600:.3g}″"
