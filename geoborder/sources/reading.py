"""Reading a province's file as it is: Shapefile (zipped or not), GeoPackage, GeoJSON, KML, or CSV
with coordinate columns; legacy text bytes kept 1:1 for the encoding step."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoborder.core.errors import DataImportError
from geoborder.core.text import fold

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml")
LON_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "kinhdo", "x", "easting", "toa_do_x", "toado_x")
LAT_NAMES = ("lat", "latitude", "vi_do", "vido", "y", "northing", "toa_do_y", "toado_y")


def read_features(path: Path, source_layer: str | None, tmp: Path) -> tuple[gpd.GeoDataFrame, Path]:
    """The features of `path` with text as read (legacy DBF bytes kept 1:1 as Latin-1)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                zf.extractall(tmp)
        except zipfile.BadZipFile as exc:
            raise DataImportError(f"not a readable zip: {exc}", file=str(path)) from None
        found = [
            p
            for p in sorted(tmp.rglob("*"))
            if p.suffix.lower() in VECTOR_SUFFIXES + (".csv",) and not p.name.startswith(".")
        ]
        shp = [p for p in found if p.suffix.lower() == ".shp"]
        pick = shp or found
        if not pick:
            raise DataImportError("the zip holds no Shapefile, GeoPackage, GeoJSON, KML or CSV", file=str(path))
        if len(pick) > 1:
            raise DataImportError(
                f"the zip holds several datasets ({', '.join(p.name for p in pick)}): unzip it and import one",
                file=str(path),
            )
        return read_features(pick[0], source_layer, tmp)
    if suffix == ".csv":
        return read_csv_points(path), path
    if suffix not in VECTOR_SUFFIXES:
        raise DataImportError(
            f"unsupported file type {suffix!r}: use Shapefile (.shp or .zip), GeoPackage, GeoJSON, KML or CSV",
            file=str(path),
        )
    kw = {}
    if suffix == ".shp":
        kw["encoding"] = "latin1"  # DBF bytes as they are; the encoding is found below
    if source_layer:
        kw["layer"] = source_layer
    elif suffix in (".gpkg", ".kml"):
        layers = pyogrio.list_layers(path)
        if len(layers) > 1:
            raise DataImportError(
                f"{len(layers)} layers ({', '.join(layers[:, 0])}): choose one with --source-layer", file=str(path)
            )
    try:
        gdf = pyogrio.read_dataframe(path, **kw)
    except Exception as exc:
        raise DataImportError(f"cannot read the file: {exc}", file=str(path)) from exc
    return gdf, path


def read_csv_points(path: Path) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # legacy bytes kept 1:1; converted by the encoding step
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python")
    except Exception as exc:
        raise DataImportError(f"not a readable CSV table: {exc}", file=str(path)) from exc
    cols = {fold(c).replace(" ", "_"): c for c in df.columns}
    xcol = next((cols[n] for n in LON_NAMES if n in cols), None)
    ycol = next((cols[n] for n in LAT_NAMES if n in cols), None)
    if xcol is None or ycol is None:
        raise DataImportError(
            f"no coordinate columns: expected one of {', '.join(LON_NAMES)} and one of "
            f"{', '.join(LAT_NAMES)}; columns are {', '.join(df.columns)}",
            file=str(path),
        )
    xs: list[float] = []
    ys: list[float] = []
    for col, out in ((xcol, xs), (ycol, ys)):
        for i, v in enumerate(df[col]):
            v = v.strip().replace(",", ".") if v.count(",") == 1 and "." not in v else v.strip()
            if not v:
                out.append(np.nan)
                continue
            try:
                out.append(float(v))
            except ValueError:
                raise DataImportError(f"not a number: {v!r}", file=str(path), row=i + 2, column=col) from None
    x, y = np.array(xs), np.array(ys)
    has = ~np.isnan(x) & ~np.isnan(y)
    geoms = np.full(len(df), None, dtype=object)
    geoms[has] = shapely.points(x[has], y[has])
    return gpd.GeoDataFrame(df.drop(columns=[xcol, ycol]), geometry=gpd.GeoSeries(geoms), crs=None)
