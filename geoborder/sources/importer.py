"""`geoborder import`: a province's own file -> one file of a source pack, in contract form.

Reads Shapefile (zipped or not), GeoPackage, GeoJSON, KML and CSV with coordinates; finds the
CRS (declared, given with --crs, or detected from the coordinates' range; VN-2000 TM-3 needs the
province's central meridian); converts attribute text from TCVN3/ABC, VNI-Windows or
Windows-1258 to Unicode; maps columns to the catalog's source columns; writes the pack file
(GeoJSON, or CSV with lat/lon for the CSV sources) and records it in the pack's manifest.
"""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geoborder.core.catalog import Catalog, Layer, load_catalog
from geoborder.core.errors import DataImportError
from geoborder.core.files import sha256_file
from geoborder.core.text import fold
from geoborder.sources import legacy_encodings as le
from geoborder.sources.fetch.manifest import Manifest, PackFile, now
from geoborder.sources.import_report import ImportReport
from geoborder.sources.importer_dem import DEM_LAYER, import_dem
from geoborder.sources.reading import read_features
from geoborder.sources.vn2000 import choose_crs, feature_bounds

WGS84 = "EPSG:4326"

# Column names common in provincial files, per contract column (compared folded: case and
# diacritics ignored).
ALIASES = {
    "name": ["ten", "ten_xa", "tenxa", "ten_dv", "name_vi", "ten_diem"],
    "ten": ["ten_duong", "name"],
    "marker": ["so_hieu", "sohieu", "so_moc", "somoc", "ma_moc", "mamoc", "ten_moc", "moc", "ref"],
    "name_vi": ["ten", "ten_ck", "ten_cua_khau", "name"],
    "vn_province": ["tinh", "ten_tinh", "province"],
    "vn_district": ["huyen", "ten_huyen", "district"],
    "vn_commune": ["xa", "ten_xa", "commune"],
    "border": ["tuyen", "tuyen_bien_gioi", "bien_gioi"],
    "source": ["nguon", "nguon_du_lieu"],
    "notes": ["ghi_chu", "ghichu"],
    "loai_duong": ["loai", "loaiduong"],
    "cap_duong": ["cap", "capduong"],
    "province_name": ["ten_tinh", "tinh"],
    "commune_code": ["ma_xa", "maxa"],
    "province_code": ["ma_tinh", "matinh"],
}


# --------------------------------------------------------------------------- columns


def _find_column(df_cols: list[str], f, column_map: dict[str, str]) -> str | None:
    for key in (f.name, f.source):
        if key in column_map:
            return column_map[key]
    folded = {fold(c).replace(" ", "_"): c for c in df_cols}
    for cand in (f.source, f.name, *ALIASES.get(f.source, []), *ALIASES.get(f.name, [])):
        c = folded.get(fold(cand).replace(" ", "_"))
        if c is not None:
            return c
    return None


def resolve_layer(layer_id: str, catalog: Catalog) -> Layer:
    try:
        lyr = catalog.layer(layer_id)
    except KeyError:
        lyr = None
    if lyr is None or lyr.kind != "source":
        ids = [x.id for x in catalog.layers if x.kind == "source"]
        raise DataImportError(f"--layer {layer_id!r}: not a source layer; use one of {', '.join(ids)}")
    return lyr


# --------------------------------------------------------------------------- entry point


def import_file(
    path: Path,
    layer_id: str,
    pack: Path,
    *,
    crs: str | None = None,
    province: str | None = None,
    encoding: str = "auto",
    column_map: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
    append: bool = False,
    source_layer: str | None = None,
    catalog: Catalog | None = None,
) -> ImportReport:
    """Import one file into the pack as the source file of `layer_id`. Raises DataImportError."""
    catalog = catalog or load_catalog()
    path, pack = Path(path), Path(pack)
    if layer_id == DEM_LAYER:
        return import_dem(path, pack, crs=crs, province=province, catalog=catalog)
    lyr = resolve_layer(layer_id, catalog)
    assert lyr.source is not None  # a source layer
    column_map, constants = dict(column_map or {}), dict(constants or {})
    out_path = pack / lyr.source.file
    rep = ImportReport(file=str(path), layer=lyr.id, output=out_path)
    with tempfile.TemporaryDirectory() as td:
        gdf, real = read_features(path, source_layer, Path(td))
        if (
            real.suffix.lower() == ".shp"
            and not real.with_suffix(".prj").exists()
            and not real.with_suffix(".PRJ").exists()
        ):
            rep.notes.append("the Shapefile has no .prj")
    if len(gdf) == 0:
        raise DataImportError("the file has no features", file=str(path))
    _to_unicode(gdf, encoding, rep, path)
    gdf = _to_wgs84(gdf, crs, province, tuple(catalog.build["extent"]), rep, path)
    _check_geometry(gdf, lyr, path)
    df = _contract_columns(gdf, lyr, column_map, constants, rep, path)
    try:
        _write(df, gdf, out_path, append, rep)
    except OSError as exc:
        raise DataImportError(f"cannot write the pack file: {exc}", file=str(out_path)) from exc
    _record(pack, out_path, lyr, path, rep)
    return rep


def _to_unicode(gdf: gpd.GeoDataFrame, encoding: str, rep: ImportReport, path: Path) -> None:
    """Text: one vote over every text value of the file, then each column converted (in place)."""
    text_cols = [
        c
        for c in gdf.columns
        if c != "geometry" and (gdf[c].dtype == object or pd.api.types.is_string_dtype(gdf[c].dtype))
    ]
    values = [v for c in text_cols for v in gdf[c].tolist() if isinstance(v, str)]
    try:
        det = le.detect(values, forced=encoding)
    except ValueError as exc:
        raise DataImportError(str(exc), file=str(path)) from None
    rep.encoding = det
    if det.encoding not in ("ascii", "unicode"):
        for c in text_cols:
            new = [le.convert(v, det.encoding) for v in gdf[c].tolist()]
            n = sum(1 for a, b in zip(gdf[c].tolist(), new) if a != b)
            if n:
                rep.converted[c] = n
            gdf[c] = pd.Series(new, index=gdf.index, dtype=object)
    else:
        for c in text_cols:
            gdf[c] = pd.Series(
                [unicodedata.normalize("NFC", v) if isinstance(v, str) else v for v in gdf[c]],
                index=gdf.index,
                dtype=object,
            )


def _to_wgs84(gdf, crs: str | None, province: str | None, extent: tuple, rep: ImportReport, path: Path):
    """The features in WGS84, checked against the region."""
    src_crs, how = choose_crs(gdf, given=crs, province=province, file=str(path), extent=extent)
    rep.crs, rep.crs_how = (src_crs.to_string() if src_crs.to_epsg() is None else f"EPSG:{src_crs.to_epsg()}"), how
    rep.crs = f"{rep.crs} ({src_crs.name})"
    gdf = gdf.set_crs(src_crs, allow_override=True).to_crs(WGS84)
    b = feature_bounds(gdf)
    if b is not None:
        x0, y0, x1, y1 = b
        if not (extent[0] <= x0 and x1 <= extent[2] and extent[1] <= y0 and y1 <= extent[3]):
            raise DataImportError(
                f"in {src_crs.name} the features fall at lon {x0:.4f}..{x1:.4f}, lat "
                f"{y0:.4f}..{y1:.4f}, outside the region {list(extent)}: wrong CRS? "
                f"give the right one with --crs",
                file=str(path),
            )
    return gdf


def _check_geometry(gdf, lyr: Layer, path: Path) -> None:
    want = lyr.geometry
    types = set(gdf.geometry.dropna().geom_type)
    fits = {
        "Point": {"Point"},
        "MultiLineString": {"LineString", "MultiLineString"},
        "MultiPolygon": {"Polygon", "MultiPolygon"},
    }[want]
    if types - fits:
        raise DataImportError(f"geometry {sorted(types)} does not fit layer {lyr.id} ({want})", file=str(path))


def _contract_columns(
    gdf, lyr: Layer, column_map: dict[str, str], constants: dict[str, str], rep: ImportReport, path: Path
) -> pd.DataFrame:
    """The layer's source columns (taken from the file, mapped, or set), then the file's others."""
    cols = [c for c in gdf.columns if c != "geometry"]
    assert lyr.source is not None  # a source layer
    out = {}
    for f in lyr.fields:
        if f.computed:
            continue
        if f.source in ("lat", "lon") and lyr.source.file.endswith(".csv"):
            continue  # written from the geometry
        if f.name in constants or f.source in constants:
            out[f.source] = [constants.get(f.name, constants.get(f.source))] * len(gdf)
            rep.columns[f.source] = f"--set {constants.get(f.name, constants.get(f.source))!r}"
            continue
        col = _find_column(cols, f, column_map)
        if col is not None and col not in gdf.columns:
            raise DataImportError(
                f"--map {f.name}={col}: no column {col!r}; columns are {', '.join(cols)}", file=str(path)
            )
        if col is None:
            if f.required:
                raise DataImportError(
                    f"layer {lyr.id} needs column {f.source!r} ({f.en}); the file has {', '.join(cols)}: "
                    f"name the column with --map {f.name}=COLUMN, or give one value with --set {f.name}=VALUE",
                    file=str(path),
                    column=f.source,
                )
            continue
        vals = gdf[col].tolist()
        if f.required:
            _check_filled(vals, f, col, path)
        out[f.source] = vals
        if col != f.source:
            rep.columns[f.source] = col
    used = set(column_map.values()) | set(rep.columns.values())
    for c in cols:  # other columns travel along (the build ignores them)
        if c not in out and c not in used:
            out[c] = gdf[c].tolist()
    return pd.DataFrame(out)


def _check_filled(vals: list, f, col: str, path: Path) -> None:
    for i, v in enumerate(vals):
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            raise DataImportError(
                f"required value ({f.source}) is empty",
                file=str(path),
                row=i + (2 if path.suffix.lower() == ".csv" else 1),
                column=col,
            )


def _record(pack: Path, out_path: Path, lyr: Layer, path: Path, rep: ImportReport) -> None:
    """The imported file in the pack's manifest."""
    man = Manifest.read(pack)
    assert rep.encoding is not None  # detected by _to_unicode
    notes = [f"CRS {rep.crs}: {rep.crs_how}", f"text: {rep.encoding.describe()}"] + rep.notes
    man.put(
        PackFile(
            file=out_path.name,
            what=f"{lyr.en} (imported)",
            source=f"imported from {path.name}",
            urls=[str(path.resolve())],
            licence="the provider's own (not stated by the file)",
            attribution=f"imported by geoborder import from {path.name}",
            date=now(),
            sha256=sha256_file(out_path),
            rows=rep.rows,
            notes=notes,
        )
    )
    try:
        man.write(pack)
    except OSError as exc:
        raise DataImportError(f"cannot write the pack manifest: {exc}", file=str(pack / "pack.json")) from exc


def _write(df: pd.DataFrame, gdf: gpd.GeoDataFrame, out_path: Path, append: bool, rep: ImportReport):
    """Write the rows (imported count in rep.rows) as the pack's file, replacing or appending."""
    rep.rows = len(df)
    if out_path.suffix != ".csv" and gdf.geometry.isna().any():
        i = int(np.flatnonzero(gdf.geometry.isna().to_numpy())[0])
        raise DataImportError("a feature has no geometry", file=rep.file, row=i + 1, column="geometry")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if out_path.suffix == ".csv":
        pts = gdf.geometry.values
        df["lon"] = [round(p.x, 7) if p is not None and not p.is_empty else None for p in pts]
        df["lat"] = [round(p.y, 7) if p is not None and not p.is_empty else None for p in pts]
        if append and out_path.exists():
            old = pd.read_csv(out_path, dtype=str, keep_default_na=False)
            df = pd.concat([old, df.astype(object)], ignore_index=True)
            rep.notes.append(f"appended to the {len(old)} rows already in {out_path.name}")
        elif out_path.exists():
            rep.notes.append(f"replaced {out_path.name}")
        df.to_csv(out_path, index=False, encoding="utf-8")
    else:
        g = gpd.GeoDataFrame(df, geometry=gdf.geometry.values, crs=WGS84)
        if append and out_path.exists():
            old = pyogrio.read_dataframe(out_path)
            g = gpd.GeoDataFrame(pd.concat([old, g], ignore_index=True), crs=WGS84)
            rep.notes.append(f"appended to the {len(old)} features already in {out_path.name}")
        elif out_path.exists():
            rep.notes.append(f"replaced {out_path.name}")
        if out_path.exists():
            out_path.unlink()
        pyogrio.write_dataframe(g, out_path, driver="GeoJSON", layer_options={"RFC7946": "YES"})
