"""`geoborder import FILE dem`: a province's own DEM (a GeoTIFF, often VN-2000 TM-3 or UTM)
reprojected to EPSG:4326 (bilinear) into the pack as dem_own.tif, which the build then uses before
GLO-30 and ETOPO5 (geoborder.sources.importer hands a DEM here)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import DataImportError
from geoborder.core.files import sha256_file
from geoborder.sources.fetch.manifest import Manifest, PackFile, now
from geoborder.sources.import_report import ImportReport
from geoborder.sources.vn2000 import choose_crs

DEM_LAYER = "dem"
DEM_OWN = "dem_own"  # the catalog source of a province's own DEM


def import_dem(
    path: Path, pack: Path, *, crs: str | None = None, province: str | None = None, catalog: Catalog | None = None
) -> ImportReport:
    """A province's own DEM (a GeoTIFF, often VN-2000 TM-3 or UTM) reprojected to EPSG:4326
    (bilinear) into the pack as dem_own.tif, which the build then uses before GLO-30 and ETOPO5.
    A GeoTIFF without a CRS is placed as vn2000.choose_crs places a vector file (its bounds:
    lon/lat, or VN-2000 metres with --crs or --province)."""
    import rasterio

    catalog = catalog or load_catalog()
    out_path = pack / catalog.sources[DEM_OWN].file
    rep = ImportReport(file=str(path), layer=DEM_LAYER, output=out_path)
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataImportError(f"not a raster GDAL can read (a DEM must be a GeoTIFF): {exc}", file=str(path)) from None
    with ds:
        if ds.transform.is_identity and ds.gcps[1] is None:
            raise DataImportError("the raster is not georeferenced (no geotransform)", file=str(path))
        src_crs = _source_crs(ds, crs, province, catalog, rep, path)
        rep.crs = src_crs.to_string() if src_crs.to_epsg() is None else f"EPSG:{src_crs.to_epsg()}"
        _warp(ds, src_crs, out_path, rep, path)
    rep.notes.append(f"reprojected from {rep.crs} to EPSG:4326 (bilinear)")
    _record(pack, out_path, path, rep)
    return rep


def _source_crs(ds, crs: str | None, province: str | None, catalog: Catalog, rep: ImportReport, path: Path):
    """The DEM's CRS: declared in the file, or (given with --crs, or none declared) placed by
    vn2000.choose_crs from the raster's bounds; how it was found in rep.crs_how."""
    from rasterio.crs import CRS as RioCRS

    if crs is None and ds.crs is not None:
        rep.crs_how = "declared in the file"
        return ds.crs
    b = ds.bounds
    box = gpd.GeoDataFrame(
        geometry=gpd.GeoSeries.from_wkt(
            [
                f"POLYGON (({b.left} {b.bottom}, {b.right} {b.bottom}, {b.right} {b.top}, {b.left} {b.top}, {b.left} {b.bottom}))"
            ]
        )
    )
    if ds.crs is not None:
        box = box.set_crs(ds.crs.to_wkt())
    found, rep.crs_how = choose_crs(
        box, given=crs, province=province, file=str(path), extent=tuple(catalog.build["extent"])
    )
    return RioCRS.from_wkt(found.to_wkt())


def _warp(ds, src_crs, out_path: Path, rep: ImportReport, path: Path) -> None:
    """The DEM reprojected to EPSG:4326 (bilinear, float32, tiled) into out_path, through a
    partial file replaced at the end (removed on failure); its cell count in rep.rows."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    nodata = ds.nodata if ds.nodata is not None else -32767.0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.part")
    try:
        with WarpedVRT(
            ds, src_crs=src_crs, crs="EPSG:4326", resampling=Resampling.bilinear, src_nodata=nodata, nodata=nodata
        ) as vrt:
            prof = {
                "driver": "GTiff",
                "width": vrt.width,
                "height": vrt.height,
                "count": 1,
                "dtype": "float32",
                "crs": "EPSG:4326",
                "transform": vrt.transform,
                "nodata": nodata,
                "tiled": True,
                "compress": "deflate",
            }
            with rasterio.open(tmp, "w", **prof) as dst:
                for _, win in dst.block_windows(1):
                    dst.write(vrt.read(1, window=win).astype("float32"), 1, window=win)
            rep.rows = vrt.width * vrt.height
        tmp.replace(out_path)
    except DataImportError:
        raise
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise DataImportError(f"cannot reproject the DEM to EPSG:4326: {exc}", file=str(path)) from exc


def _record(pack: Path, out_path: Path, path: Path, rep: ImportReport) -> None:
    """The imported DEM in the pack's manifest."""
    man = Manifest.read(pack)
    man.put(
        PackFile(
            file=out_path.name,
            what="elevation, a province's own DEM (imported; the build's DEM before GLO-30 and ETOPO5)",
            source=f"imported from {path.name}",
            urls=[str(path.resolve())],
            licence="the provider's own (not stated by the file)",
            attribution=f"imported by geoborder import from {path.name}",
            date=now(),
            sha256=sha256_file(out_path),
            rows=rep.rows,
            notes=[f"CRS {rep.crs}: {rep.crs_how}"] + rep.notes,
        )
    )
    man.write(pack)
