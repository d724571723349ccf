"""`geoborder import`: a province's own file -> one file of a source pack, in contract form.

Reads Shapefile (zipped or not), GeoPackage, GeoJSON, KML and CSV with coordinates; finds the
CRS (declared, given with --crs, or detected from the coordinates' range; VN-2000 TM-3 needs the
province's central meridian); converts attribute text from TCVN3/ABC, VNI-Windows or
Windows-1258 to Unicode; maps columns to the catalog's source columns; writes the pack file
(GeoJSON, or CSV with lat/lon for the CSV sources) and records it in the pack's manifest.
"""

from __future__ import annotations

import io
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geoborder.core.catalog import Catalog, Layer, load_catalog
from geoborder.core.errors import DataImportError
from geoborder.core.files import sha256_file
from geoborder.core.text import fold
from geoborder.sources import legacy_encodings as le
from geoborder.sources.fetch.manifest import Manifest, PackFile, now

WGS84 = "EPSG:4326"
VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml")

# VN-2000 / TM-3 central meridian of each province (pre-2025 units; Circular 973/2001/TT-TCĐC).
TM3_MERIDIANS = {
    "Lai Châu": 103.0,
    "Điện Biên": 103.0,
    "Sơn La": 104.0,
    "Lào Cai": 104.75,
    "Yên Bái": 104.75,
    "Hà Giang": 105.5,
    "Tuyên Quang": 106.0,
    "Phú Thọ": 104.75,
    "Vĩnh Phúc": 105.0,
    "Cao Bằng": 105.75,
    "Lạng Sơn": 107.25,
    "Bắc Kạn": 106.5,
    "Thái Nguyên": 106.5,
    "Bắc Giang": 107.0,
    "Bắc Ninh": 105.5,
    "Quảng Ninh": 107.75,
    "Hải Phòng": 105.75,
    "Hải Dương": 105.5,
    "Hưng Yên": 105.5,
    "Hà Nội": 105.0,
    "Hòa Bình": 106.0,
    "Hà Nam": 105.0,
    "Nam Định": 105.5,
    "Thái Bình": 105.5,
    "Ninh Bình": 105.0,
    "Thanh Hóa": 105.0,
    "Nghệ An": 104.75,
    "Hà Tĩnh": 105.5,
    "Quảng Bình": 106.0,
    "Quảng Trị": 106.25,
    "Thừa Thiên Huế": 107.0,
    "Huế": 107.0,
    "Đà Nẵng": 107.75,
    "Quảng Nam": 107.75,
    "Quảng Ngãi": 108.0,
    "Bình Định": 108.25,
    "Kon Tum": 107.5,
    "Gia Lai": 108.5,
    "Đắk Lắk": 108.5,
    "Đắk Nông": 108.5,
    "Phú Yên": 108.5,
    "Khánh Hòa": 108.25,
    "Ninh Thuận": 108.25,
    "Bình Thuận": 108.5,
    "Lâm Đồng": 107.75,
    "Bình Dương": 105.75,
    "Bình Phước": 106.25,
    "Đồng Nai": 107.75,
    "Bà Rịa - Vũng Tàu": 107.75,
    "Tây Ninh": 105.5,
    "Long An": 105.75,
    "Tiền Giang": 105.75,
    "Bến Tre": 105.75,
    "Đồng Tháp": 105.0,
    "Vĩnh Long": 105.5,
    "Trà Vinh": 105.5,
    "An Giang": 104.75,
    "Kiên Giang": 104.5,
    "Cần Thơ": 105.0,
    "Hậu Giang": 105.0,
    "Sóc Trăng": 105.5,
    "Bạc Liêu": 105.0,
    "Cà Mau": 104.5,
    "Hồ Chí Minh": 105.75,
}
# EPSG codes of VN-2000 / TM-3 by central meridian; the others are built from EPSG:9206.
TM3_EPSG = {
    103.0: 9205,
    104.0: 9206,
    104.5: 9207,
    104.75: 9208,
    105.5: 9209,
    105.75: 9210,
    106.0: 9211,
    106.25: 9212,
    106.5: 9213,
    107.0: 9214,
    107.25: 9215,
    107.5: 9216,
    108.25: 9217,
    108.5: 9218,
}

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
LON_NAMES = ("lon", "lng", "long", "longitude", "kinh_do", "kinhdo", "x", "easting", "toa_do_x", "toado_x")
LAT_NAMES = ("lat", "latitude", "vi_do", "vido", "y", "northing", "toa_do_y", "toado_y")


@dataclass
class ImportReport:
    file: str
    layer: str
    output: Path
    rows: int = 0
    crs: str = ""
    crs_how: str = ""
    encoding: le.Detection | None = None
    converted: dict[str, int] = field(default_factory=dict)  # column -> values converted
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> taken from
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"imported {self.rows} rows of {self.file} into {self.output} (layer {self.layer})",
            f"  CRS: {self.crs} ({self.crs_how}); written in EPSG:4326",
        ]
        if self.encoding is not None:
            out.append(f"  text: {self.encoding.describe()}")
            for col, n in self.converted.items():
                out.append(f"    {col}: {n} values converted")
        for k, v in self.columns.items():
            out.append(f"  {k} <- {v}")
        out += [f"  note: {n}" for n in self.notes]
        return out


# --------------------------------------------------------------------------- reading


def _read(path: Path, source_layer: str | None, tmp: Path) -> tuple[gpd.GeoDataFrame, Path]:
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
        return _read(pick[0], source_layer, tmp)
    if suffix == ".csv":
        return _read_csv(path), path
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


def _read_csv(path: Path) -> gpd.GeoDataFrame:
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
    xs, ys = [], []
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
    xs, ys = np.array(xs), np.array(ys)
    has = ~np.isnan(xs) & ~np.isnan(ys)
    geoms = np.full(len(df), None, dtype=object)
    geoms[has] = shapely.points(xs[has], ys[has])
    return gpd.GeoDataFrame(df.drop(columns=[xcol, ycol]), geometry=gpd.GeoSeries(geoms), crs=None)


# --------------------------------------------------------------------------- CRS


def tm3_crs(meridian: float) -> CRS:
    """VN-2000 / TM-3 with the given central meridian (EPSG code when there is one)."""
    if meridian in TM3_EPSG:
        return CRS.from_epsg(TM3_EPSG[meridian])
    doc = CRS.from_epsg(9206).to_json_dict()
    for p in doc["conversion"]["parameters"]:
        if p["name"] == "Longitude of natural origin":
            p["value"] = meridian
    deg, mins = int(meridian), round((meridian % 1) * 60)
    doc["name"] = f"VN-2000 / TM-3 {deg}-{mins:02d}"
    doc.pop("id", None)
    return CRS.from_json_dict(doc)


def province_meridian(province: str) -> tuple[str, float]:
    key = fold(province)
    for name, cm in TM3_MERIDIANS.items():
        if fold(name) == key:
            return name, cm
    raise DataImportError(
        f"--province {province!r}: not a province I know the VN-2000 central meridian of; "
        f"use --crs instead (e.g. --crs EPSG:9206 for VN-2000 / TM-3 104-00)"
    )


def _bounds(gdf) -> tuple[float, float, float, float] | None:
    g = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return tuple(float(v) for v in g.total_bounds) if len(g) else None


def choose_crs(
    gdf: gpd.GeoDataFrame,
    *,
    given: str | None,
    province: str | None,
    file: str,
    extent: tuple[float, float, float, float],
) -> tuple[CRS, str]:
    """(CRS of the coordinates, how it was found). Refuses to guess between VN-2000 zones."""
    if given:
        try:
            crs = CRS.from_user_input(given)
        except Exception as exc:
            raise DataImportError(f"--crs {given!r} is not a CRS pyproj knows: {exc}", file=file) from None
        how = "given with --crs"
        if gdf.crs is not None and not CRS(gdf.crs).equals(crs, ignore_axis_order=True):
            how += f"; the file declared {CRS(gdf.crs).name}, overridden"
        return crs, how
    if gdf.crs is not None:
        return CRS(gdf.crs), "declared in the file"
    b = _bounds(gdf)
    if b is None:
        return CRS.from_epsg(4326), "no coordinates in the file"
    x0, y0, x1, y1 = b
    ex0, ey0, ex1, ey1 = extent
    span = f"x {x0:.6g} to {x1:.6g}, y {y0:.6g} to {y1:.6g}"
    if ex0 <= x0 and x1 <= ex1 and ey0 <= y0 and y1 <= ey1:
        return CRS.from_epsg(4326), f"detected: lon/lat degrees ({span})"
    if ey0 <= x0 and x1 <= ey1 and ex0 <= y0 and y1 <= ex1:
        raise DataImportError(
            f"the coordinates look like latitude, longitude in the wrong order ({span}); "
            f"swap the columns, or give --crs",
            file=file,
        )
    # VN-2000 TM-3 / UTM: false easting 500000 m (x within ~±400 km of it), northings of Vietnam
    if x0 >= 100_000 and x1 <= 900_000 and y0 >= 900_000 and y1 <= 2_700_000:
        if province:
            pname, cm = province_meridian(province)
            crs = tm3_crs(cm)
            return crs, (
                f"detected from the coordinates ({span}: metres, false easting 500000, northings "
                f"of Vietnam) as VN-2000 / TM-3 with {pname}'s central meridian {cm:g}° (--province)"
            )
        cands = ", ".join(f"EPSG:{c} ({CRS.from_epsg(c).name})" for c in (9205, 9206, 9208, 9209, 9210, 3405, 3406))
        raise DataImportError(
            f"the file has no CRS and its coordinates ({span}) are projected metres of Vietnam (false easting "
            f"500000, northings 0.9-2.7 million m): VN-2000 / TM-3 of any province, or UTM. They cannot tell "
            f"the zone: give --crs (candidates: {cands}, ...) or --province NAME to use that province's "
            f"VN-2000 central meridian",
            file=file,
        )
    raise DataImportError(
        f"the file has no CRS and its coordinates ({span}) are neither lon/lat of the region "
        f"nor VN-2000 metres: give --crs",
        file=file,
    )


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
    lyr = resolve_layer(layer_id, catalog)
    column_map, constants = dict(column_map or {}), dict(constants or {})
    out_path = pack / lyr.source.file
    rep = ImportReport(file=str(path), layer=lyr.id, output=out_path)
    with tempfile.TemporaryDirectory() as td:
        gdf, real = _read(path, source_layer, Path(td))
        if (
            real.suffix.lower() == ".shp"
            and not real.with_suffix(".prj").exists()
            and not real.with_suffix(".PRJ").exists()
        ):
            rep.notes.append("the Shapefile has no .prj")
    if len(gdf) == 0:
        raise DataImportError("the file has no features", file=str(path))

    # text: one vote over every text value of the file, then each column converted
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

    # CRS -> WGS84, checked against the region
    extent = tuple(catalog.build["extent"])
    src_crs, how = choose_crs(gdf, given=crs, province=province, file=str(path), extent=extent)
    rep.crs, rep.crs_how = (src_crs.to_string() if src_crs.to_epsg() is None else f"EPSG:{src_crs.to_epsg()}"), how
    rep.crs = f"{rep.crs} ({src_crs.name})"
    gdf = gdf.set_crs(src_crs, allow_override=True).to_crs(WGS84)
    b = _bounds(gdf)
    if b is not None:
        x0, y0, x1, y1 = b
        if not (extent[0] <= x0 and x1 <= extent[2] and extent[1] <= y0 and y1 <= extent[3]):
            raise DataImportError(
                f"in {src_crs.name} the features fall at lon {x0:.4f}..{x1:.4f}, lat "
                f"{y0:.4f}..{y1:.4f}, outside the region {list(extent)}: wrong CRS? "
                f"give the right one with --crs",
                file=str(path),
            )

    # geometry type
    want = lyr.geometry
    types = set(gdf.geometry.dropna().geom_type)
    fits = {
        "Point": {"Point"},
        "MultiLineString": {"LineString", "MultiLineString"},
        "MultiPolygon": {"Polygon", "MultiPolygon"},
    }[want]
    if types - fits:
        raise DataImportError(f"geometry {sorted(types)} does not fit layer {lyr.id} ({want})", file=str(path))

    # columns in contract form
    cols = [c for c in gdf.columns if c != "geometry"]
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
            for i, v in enumerate(vals):
                if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
                    raise DataImportError(
                        f"required value ({f.source}) is empty",
                        file=str(path),
                        row=i + (2 if path.suffix.lower() == ".csv" else 1),
                        column=col,
                    )
        out[f.source] = vals
        if col != f.source:
            rep.columns[f.source] = col
    used = set(column_map.values()) | set(rep.columns.values())
    for c in cols:  # other columns travel along (the build ignores them)
        if c not in out and c not in used:
            out[c] = gdf[c].tolist()
    df = pd.DataFrame(out)

    try:
        _write(df, gdf, out_path, append, rep)
    except OSError as exc:
        raise DataImportError(f"cannot write the pack file: {exc}", file=str(out_path)) from exc

    man = Manifest.read(pack)
    notes = [f"CRS {rep.crs}: {rep.crs_how}", f"text: {det.describe()}"] + rep.notes
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
    return rep


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
