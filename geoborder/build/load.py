"""Read one source layer of a pack, validate it and normalise it to the catalog schema.

Every problem is a BuildError naming the file, layer, field and row, so that the person who
prepared the pack can fix it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geoborder.build.transforms import TRANSFORMS
from geoborder.core.catalog import Catalog, Layer
from geoborder.core.errors import BuildError
from geoborder.core.text import nfc

WGS84 = CRS.from_epsg(4326)


class EmptyLayerFile(BuildError):
    """A source file without features: an error for a required layer; an optional layer (e.g. a
    regional pack whose cut holds no Cambodian province) is left out, as if the file were absent."""


@dataclass
class LoadReport:
    layer: str
    file: str
    rows_read: int = 0
    repaired: int = 0
    reprojected_from: str | None = None
    notes: list[str] = field(default_factory=list)
    # field -> {"zero": n, "not_whole": n}: source values read as no data (COUNT_RULES)
    no_data: dict[str, dict[str, int]] = field(default_factory=dict)


# How a whole-number field reads values that are not a count. censusVN2009 gives a population of
# 0 for 78 inhabited communes (15 in Điện Biên): no count, not an empty commune, so 0 is no data;
# 3 wards carry fractions (12.45, 10.55, 20.745 people), not counts either. Its district and
# province populations are sums that include those 3 fractions: rounded to whole people.
COUNT_RULES = {
    ("communes_2009", "population"): {"zero": "missing", "not_whole": "missing"},
    ("districts_2009", "population"): {"not_whole": "round"},
    ("provinces_2009", "population"): {"not_whole": "round"},
}


# --------------------------------------------------------------------------- reading


def _read_vector(path: Path, lyr: Layer) -> gpd.GeoDataFrame:
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL says why: not found, not a vector format, truncated ...
        raise BuildError(f"cannot read the file: {exc}", file=str(path), layer=lyr.id) from exc
    return gdf


def _read_csv(path: Path, lyr: Layer) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read the file: {exc}", file=str(path), layer=lyr.id) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BuildError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=str(path), layer=lyr.id, row=line
        ) from exc
    import io

    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except Exception as exc:
        raise BuildError(f"not a readable CSV table: {exc}", file=str(path), layer=lyr.id) from exc


def _points_from_lonlat(df: pd.DataFrame, path: Path, lyr: Layer) -> gpd.GeoDataFrame:
    """Point geometry from `lat`/`lon` text columns; empty cells give no geometry."""
    for col in ("lat", "lon"):
        if col not in df.columns:
            raise BuildError("missing column", file=str(path), layer=lyr.id, field=col)
    coords = {}
    for col in ("lat", "lon"):
        vals = []
        for i, v in enumerate(df[col]):
            v = v.strip()
            if not v:
                vals.append(np.nan)
                continue
            try:
                vals.append(float(v))
            except ValueError:
                raise BuildError(f"not a number: {v!r}", file=str(path), layer=lyr.id, field=col, row=i + 2) from None
        coords[col] = np.array(vals)
    has = ~np.isnan(coords["lat"]) & ~np.isnan(coords["lon"])
    geoms = np.full(len(df), None, dtype=object)
    geoms[has] = shapely.points(coords["lon"][has], coords["lat"][has])
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)


# --------------------------------------------------------------------------- checks


def _check_crs(
    gdf: gpd.GeoDataFrame, path: Path, lyr: Layer, rep: LoadReport, extent: tuple[float, float, float, float]
) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)  # RFC 7946: GeoJSON without a crs member is WGS84
    elif not CRS(gdf.crs).equals(WGS84, ignore_axis_order=True):
        rep.reprojected_from = CRS(gdf.crs).to_string()
        gdf = gdf.to_crs(WGS84)
    geoms = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if len(geoms):
        minx, miny, maxx, maxy = geoms.total_bounds
        x0, y0, x1, y1 = extent
        if not (x0 <= minx and maxx <= x1 and y0 <= miny and maxy <= y1):
            raise BuildError(
                f"coordinates span ({minx:.6g}, {miny:.6g}) to ({maxx:.6g}, {maxy:.6g}), outside the "
                f"expected lon/lat extent {list(extent)}: wrong CRS, or projected coordinates "
                f"without a declared CRS?",
                file=str(path),
                layer=lyr.id,
                field="geometry",
            )
    return gdf


def _coerce(series: pd.Series, f, path: Path, lyr: Layer) -> pd.Series:
    """Cast one column to its catalog type; a value that does not fit is an error with its row."""
    row_base = 2 if str(path).endswith(".csv") else 1  # CSV: line number; vector: feature number
    out: list[str | int | float | bool | None] = []
    for i, v in enumerate(series.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
            if f.required:
                raise BuildError(
                    "required value is empty", file=str(path), layer=lyr.id, field=f.source, row=i + row_base
                )
            out.append(None)
            continue
        try:
            if f.type == "code":
                s = str(v).strip()
                if isinstance(v, float) and v.is_integer():
                    s = str(int(v))
                if not s.isdigit() or len(s) > f.width:
                    raise ValueError(f"not a code of at most {f.width} digits: {v!r}")
                out.append(s.zfill(f.width))
            elif f.type in ("name", "text"):
                out.append(nfc(str(v)) if f.type == "name" else str(v).strip())
            elif f.type == "int":
                x = float(v)
                if not x.is_integer():
                    raise ValueError(f"not a whole number: {v!r}")
                out.append(int(x))
            elif f.type == "float":
                out.append(float(v))
            elif f.type == "bool":
                out.append(str(v).strip().lower() in ("1", "true", "yes", "y", "x"))
        except ValueError as exc:
            raise BuildError(
                str(exc) if "not a" in str(exc) else f"not a {f.type}: {v!r}",
                file=str(path),
                layer=lyr.id,
                field=f.source,
                row=i + row_base,
            ) from None
    if f.type == "int":
        return pd.array(out, dtype="Int64")
    if f.type == "float":
        return pd.array(out, dtype="Float64")
    if f.type == "bool":  # a BOOLEAN column in the store, not the text "True" / "False"
        return pd.array(out, dtype="boolean")
    return pd.Series(out, dtype=object)


def _repair(gdf: gpd.GeoDataFrame, lyr: Layer, rep: LoadReport) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    valid = shapely.is_valid(np.asarray(geoms, dtype=object)) | shapely.is_missing(np.asarray(geoms, dtype=object))
    bad = np.flatnonzero(~valid)
    if len(bad):
        arr = np.asarray(geoms, dtype=object).copy()
        arr[bad] = shapely.make_valid(arr[bad])
        gdf = gdf.set_geometry(gpd.GeoSeries(arr, index=gdf.index, crs=gdf.crs))
        rep.repaired = int(len(bad))
    # promote to the catalog's multi type, keeping only parts of the right dimension
    want = {"MultiPolygon": 2, "MultiLineString": 1, "Point": 0}[lyr.geometry]
    gdf = gdf.set_geometry(
        gpd.GeoSeries([_as_type(g, lyr.geometry, want) for g in gdf.geometry], index=gdf.index, crs=gdf.crs)
    )
    return gdf


def _as_type(g, gtype: str, dim: int):
    if g is None or g.is_empty:
        return g
    if gtype == "Point":
        return g
    parts = shapely.get_parts(g)
    flat = []
    for p in parts:
        if p.geom_type == "GeometryCollection" or p.geom_type.startswith("Multi"):
            flat.extend(shapely.get_parts(p))
        else:
            flat.append(p)
    flat = [p for p in flat if shapely.get_dimensions(p) == dim and not p.is_empty]
    if gtype == "MultiPolygon":
        return shapely.multipolygons(flat) if flat else None
    return shapely.multilinestrings(flat) if flat else None


def _apply_count_rules(series: pd.Series, lyr: Layer, f, rep: LoadReport) -> pd.Series:
    """Values of a whole-number field that COUNT_RULES says are no data (or rounded), counted."""
    rules = COUNT_RULES.get((lyr.id, f.name))
    if not rules:
        return series
    x = pd.to_numeric(series, errors="coerce")
    zero = (x == 0).to_numpy() if rules.get("zero") == "missing" else np.zeros(len(x), dtype=bool)
    frac = (x.notna() & (x % 1 != 0)).to_numpy()
    out = series.astype(object).copy()
    out[zero] = None
    if rules.get("not_whole") == "missing":
        out[frac] = None
    elif rules.get("not_whole") == "round":
        out[frac] = x[frac].round()
    counts = {"zero": int(zero.sum()), "not_whole": int(frac.sum())}
    if any(counts.values()):
        rep.no_data[f.name] = counts
        done = "read as no data" if rules.get("not_whole") == "missing" else "rounded"
        zeros = f"{counts['zero']} zeros read as no data, " if rules.get("zero") else ""
        rep.notes.append(f"{f.source}: {zeros}{counts['not_whole']} values that are not whole numbers {done}")
    return out


def _read_features(path: Path, lyr: Layer) -> tuple[gpd.GeoDataFrame, bool]:
    """The file's features (points from lat/lon for a CSV) and whether it is a CSV."""
    is_csv = path.suffix.lower() == ".csv"
    gdf = _points_from_lonlat(_read_csv(path, lyr), path, lyr) if is_csv else _read_vector(path, lyr)
    if len(gdf) == 0:
        raise EmptyLayerFile("the file has no features", file=str(path), layer=lyr.id)
    return gdf, is_csv


def _select(gdf: gpd.GeoDataFrame, path: Path, lyr: Layer) -> gpd.GeoDataFrame:
    select = lyr.select
    assert select is not None  # a layer with a selection
    col = select["field"]
    if col not in gdf.columns:
        raise BuildError("missing column", file=str(path), layer=lyr.id, field=col)
    gdf = gdf[gdf[col].isin(list(select["values"]))].reset_index(drop=True)
    missing = set(select["values"]) - set(gdf[col])
    if missing:
        raise BuildError(f"expected features {sorted(missing)} are absent", file=str(path), layer=lyr.id, field=col)
    return gdf


def _check_columns_and_shapes(gdf: gpd.GeoDataFrame, path: Path, lyr: Layer, is_csv: bool) -> None:
    for f in lyr.fields:
        if not f.computed and f.source not in gdf.columns and f.required:
            raise BuildError(
                f"missing column {f.source!r} (needed for {f.name})", file=str(path), layer=lyr.id, field=f.source
            )
    if is_csv:
        return
    # empty geometry is an error in a vector file: a feature must have a shape
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise BuildError(
            f"empty geometry ({int(empty.sum())} features)", file=str(path), layer=lyr.id, field="geometry", row=i + 1
        )


def _fields(gdf: gpd.GeoDataFrame, path: Path, lyr: Layer, rep: LoadReport) -> pd.DataFrame:
    """The catalog's fields of the layer, typed; transforms, labels and computed fields filled."""
    out = {}
    for f in lyr.fields:
        if f.computed:
            continue
        if f.source in gdf.columns:
            out[f.name] = _coerce(_apply_count_rules(gdf[f.source], lyr, f, rep), f, path, lyr)
            if f.expected:
                empty = [i + 1 for i, v in enumerate(out[f.name]) if v is None or v is pd.NA]
                if empty:
                    rep.notes.append(f"{len(empty)} rows without {f.source} (rows {empty[:10]})")
        else:
            out[f.name] = pd.Series([None] * len(gdf), dtype=object)
            rep.notes.append(f"optional column {f.source!r} absent")
    df = pd.DataFrame(out)
    if lyr.transform:
        df = TRANSFORMS[lyr.transform](df)
    if lyr.labels:
        for extra in ("en", "vi", "iso3"):
            if f"name_{extra}" in lyr.field_names or extra in lyr.field_names:
                col = f"name_{extra}" if extra != "iso3" else "iso3"
                df[col] = [lyr.labels.get(k, {}).get(extra) for k in df[lyr.key]]
    for f in lyr.fields:  # computed fields a transform did not fill
        if f.name not in df.columns:
            df[f.name] = pd.Series([None] * len(df), dtype=object)
    return df


def _check_unique_key(gdf: gpd.GeoDataFrame, path: Path, lyr: Layer, is_csv: bool) -> None:
    keys = gdf[lyr.key]
    dup = keys[keys.duplicated(keep=False) & keys.notna()]
    # villages: Who's On First repeats a few GeoNames records (two WOF ids, one geonameid); the
    # build keeps one of each and counts the others (build/villages.py)
    if len(dup) and lyr.id not in ("border_lines_wdbii", "villages"):
        i = int(dup.index[0])
        raise BuildError(
            f"duplicate key {dup.iloc[0]!r} ({dup.nunique()} keys repeated)",
            file=str(path),
            layer=lyr.id,
            field=lyr.key,
            row=i + (2 if is_csv else 1),
        )


# --------------------------------------------------------------------------- entry point


def load_source_layer(pack: Path, lyr: Layer, catalog: Catalog) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read, check and normalise one source layer; geometry in EPSG:4326."""
    src = lyr.source
    assert src is not None  # a source layer
    path = Path(pack) / src.file
    rep = LoadReport(layer=lyr.id, file=src.file)
    if not path.exists():
        raise BuildError("file not found in the pack", file=str(path), layer=lyr.id)
    gdf, is_csv = _read_features(path, lyr)
    rep.rows_read = len(gdf)
    if lyr.select:
        gdf = _select(gdf, path, lyr)
    _check_columns_and_shapes(gdf, path, lyr, is_csv)
    gdf = _check_crs(gdf, path, lyr, rep, tuple(catalog.build["extent"]))
    gdf = _repair(gdf, lyr, rep)
    df = _fields(gdf, path, lyr, rep)
    gdf = gpd.GeoDataFrame(df[lyr.field_names], geometry=gdf.geometry.values, crs=WGS84)
    if lyr.key and lyr.kind == "source":
        _check_unique_key(gdf, path, lyr, is_csv)
    return gdf, rep
