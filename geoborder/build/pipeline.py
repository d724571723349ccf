"""`geoborder build`: a source pack -> one GeoPackage (the embedded store).

The store is written to a temporary file beside the target and renamed over it only when
everything succeeded, so a failed build leaves the previous store untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geoborder import __version__
from geoborder.build.derive import (
    PARTNER_UNITS,
    DeriveReport,
    _nearest,
    border_communes,
    border_segments,
    cut_border,
    place_points,
    to_metric,
)
from geoborder.build.load import load_source_layer
from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import BuildError
from geoborder.core.files import sha256_file
from geoborder.core.tables import META_BUILD, META_LAYERS, META_SOURCES

# the code whose change changes what a build writes (relative to geoborder/)
_CODE_FILES = (
    "build/pipeline.py",
    "build/load.py",
    "build/derive.py",
    "core/text.py",
    "core/crs.py",
    "core/catalog.py",
)


@dataclass
class BuildResult:
    store: Path
    counts: dict[str, int]
    report: dict
    seconds: float
    fingerprint: str


@dataclass
class _Progress:
    emit: Callable[[str], None]
    t0: float = field(default_factory=time.perf_counter)
    last: float = field(default_factory=time.perf_counter)

    def step(self, msg: str):
        now = time.perf_counter()
        self.emit(f"[{now - self.t0:6.1f}s] {msg} ({now - self.last:.2f}s)")
        self.last = now


def code_checksum() -> str:
    here = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for name in _CODE_FILES:
        h.update((here / name).read_bytes())
    return h.hexdigest()


def pack_files(pack: Path, catalog: Catalog) -> dict[str, Path]:
    """Source id -> file path, for every source the catalog names."""
    return {sid: Path(pack) / s.file for sid, s in catalog.sources.items()}


def fingerprint(pack: Path, catalog: Catalog) -> tuple[str, dict[str, str]]:
    """What a store was built from: catalog, build code and the checksum of every input file."""
    sums = {}
    for sid, path in sorted(pack_files(pack, catalog).items()):
        sums[catalog.sources[sid].file] = sha256_file(path) if path.exists() else "absent"
    h = hashlib.sha256()
    h.update(catalog.checksum.encode())
    h.update(code_checksum().encode())
    for name, s in sorted(sums.items()):
        h.update(f"{name}={s}".encode())
    return h.hexdigest(), sums


def stored_fingerprint(store: Path) -> str | None:
    """The fingerprint recorded in an existing store, or None if it has none / is unreadable."""
    if not Path(store).exists():
        return None
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as con:
            row = con.execute(f"SELECT value FROM {META_BUILD} WHERE key='fingerprint'").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None


def is_stale(pack: Path, store: Path, catalog: Catalog | None = None) -> bool:
    catalog = catalog or load_catalog()
    current = stored_fingerprint(store)
    return current is None or current != fingerprint(pack, catalog)[0]


def check_pack(pack: Path | None) -> Path:
    if pack is None:
        raise BuildError(
            "no source pack: set GEOBORDER_PACK to a folder of source files (see "
            "../shared/data/MANIFEST.md for what one holds), or put the pack at ../shared/data"
        )
    pack = Path(pack)
    if not pack.is_dir():
        raise BuildError(f"the source pack {pack} is not a folder", file=str(pack))
    return pack


def build(
    pack: Path, store: Path, *, catalog: Catalog | None = None, emit: Callable[[str], None] = print
) -> BuildResult:
    """Build the store at `store` from the pack at `pack`. Raises BuildError on bad input."""
    catalog = catalog or load_catalog()
    pack = check_pack(pack)
    store = Path(store)
    prog = _Progress(emit)
    fp, sums = fingerprint(pack, catalog)
    prog.step(f"pack {pack}: {len(sums)} source files checksummed")
    cfg = catalog.build
    metric = cfg["metric_crs"]
    tol = float(cfg["assign_tolerance_m"])

    layers: dict[str, gpd.GeoDataFrame] = {}
    load_reports = {}
    absent: dict[str, str] = {}  # optional source layer -> its file, not in this pack
    for lyr in catalog.layers:
        if lyr.kind != "source":
            continue
        if lyr.optional and not (pack / lyr.source.file).exists():
            emit(f"          {lyr.id}: optional source {lyr.source.file} absent, skipped")
            absent[lyr.id] = lyr.source.file
            continue
        gdf, rep = load_source_layer(pack, lyr, catalog)
        layers[lyr.id] = gdf
        load_reports[lyr.id] = rep
        extra = f", {rep.repaired} geometries repaired" if rep.repaired else ""
        prog.step(f"read {lyr.id}: {len(gdf)} features{extra}")

    drep = DeriveReport()
    _gb_parents(layers, metric, tol)
    lines = layers["border_lines"]
    lines["length_km"] = np.round(np_length(to_metric(lines, metric)) / 1000, 3)
    pieces = cut_border(lines, metric, float(cfg["segment_step_m"]))
    partners = {iso3: layers[lid] for iso3, (lid, _, _) in PARTNER_UNITS.items()}
    partners["KHM"] = layers["countries"][layers["countries"]["code"] == "KH"].reset_index(drop=True)
    # (label, commune layer, fields of the segments from the commune, fields of the border communes, key)
    specs = {
        2025: (
            "communes_2025",
            {
                "commune_code": "commune_code",
                "commune_name": "name",
                "province_code": "province_code",
                "province_name": "province_name",
            },
            ["commune_code", "name", "unit_type", "province_code", "province_name", "population", "area_km2"],
        ),
        2009: (
            "communes_2009",
            {
                "commune_code": "commune_code",
                "commune_name": "name_full",
                "district_code": "district_code",
                "district_name": "district_name",
                "province_code": "province_code",
                "province_name": "province_name",
            },
            [
                "commune_code",
                "name",
                "unit_type",
                "district_code",
                "district_name",
                "province_code",
                "province_name",
                "population",
            ],
        ),
        # pre-2025 communes without codes (an open-data pack): only when there are no coded ones,
        # under their own layer ids so that border_*_2009 always means census-coded units
        "gb": (
            "communes_gb",
            {
                "shape_id": "shape_id",
                "commune_name": "name",
                "district_name": "district_name",
                "province_name": "province_name",
            },
            ["shape_id", "name", "district_name", "province_name"],
        ),
    }
    for vintage, (cid, cfields, bfields) in specs.items():
        if cid not in layers or (vintage == "gb" and "communes_2009" in layers):
            continue
        key = next(iter(cfields))
        seg = border_segments(
            pieces, layers[cid], partners, layers["lao_districts"], metric, tol, cfields, drep, vintage, key=key
        )
        layers[f"border_segments_{vintage}"] = seg
        layers[f"border_communes_{vintage}"] = border_communes(
            seg, layers[cid], bfields, float(cfg["border_commune_min_km"]), drep, vintage, key=key
        )
        prog.step(
            f"derived border_segments_{vintage} ({len(seg)}) and border_communes_{vintage} "
            f"({len(layers[f'border_communes_{vintage}'])})"
        )
    skipped = [
        f"border_segments_{v}, border_communes_{v}"
        for v, (cid, _, _) in specs.items()
        if f"border_segments_{v}" not in layers and not (v == "gb" and "communes_2009" in layers)
    ]
    if skipped:
        drep.notes.append("not derived (their commune layer is not in the pack): " + "; ".join(skipped))
    if "communes_2009" not in layers:
        drep.notes.append(
            "no coded pre-2025 communes (communes_2009): gates and markers keep only the "
            "positions their source publishes; none is derived"
        )

    common = dict(
        communes_2009=layers.get("communes_2009"),
        communes_2025=layers.get("communes_2025"),
        seats_2025=layers.get("commune_seats_2025"),
        segments_2009=layers.get("border_segments_2009"),
        communes_gb=layers.get("communes_gb"),
        metric_crs=metric,
        tol=tol,
        rep=drep,
    )
    layers["gates"] = place_points(layers["gates"], derive_missing=True, label="gates", id_field="gate_id", **common)
    layers["markers"] = place_points(
        layers["markers"], derive_missing=False, label="markers", id_field="marker_id", **common
    )
    prog.step(
        f"placed gates ({drep.measures['gates_published']} published, {drep.measures['gates_derived']} "
        f"derived, {drep.measures['gates_unplaced']} without location) and markers "
        f"({drep.measures['markers_published']} with position, {drep.measures['markers_unplaced']} "
        f"known by place only)"
    )
    # A point layer holds only what has a position (GIS clients and strict GeoJSON schemas expect
    # a geometry); the rest stays in the store as a table, each row with its unplaced_reason.
    unplaced: dict[str, pd.DataFrame] = {}
    for lyr in catalog.layers:
        if lyr.unplaced_table and lyr.id in layers:
            gdf = layers[lyr.id]
            placed = gdf.geometry.notna()
            layers[lyr.id] = gdf[placed].reset_index(drop=True)
            unplaced[lyr.unplaced_table] = pd.DataFrame(gdf[~placed].drop(columns="geometry")).reset_index(drop=True)

    # order and schema exactly as the catalog says: deterministic output
    for lyr in catalog.layers:
        if lyr.id not in layers:
            continue
        gdf = layers[lyr.id]
        for f in lyr.fields:
            if f.name not in gdf.columns:
                gdf[f.name] = None
        gdf = gdf[lyr.field_names + ["geometry"]]
        if lyr.key:
            gdf = gdf.sort_values(lyr.key, kind="stable").reset_index(drop=True)
        layers[lyr.id] = gdf

    built_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    report = {
        "built_at": built_at,
        "pack": str(pack.resolve()),
        "geoborder_version": __version__,
        "counts": {k: int(len(v)) for k, v in layers.items()},
        "absent": absent,
        "repaired": {k: r.repaired for k, r in load_reports.items() if r.repaired},
        "load_notes": {k: r.notes for k, r in load_reports.items() if r.notes},
        "derive_notes": drep.notes,
        "measures": drep.measures,
        "unplaced": drep.unplaced,
    }
    for name, table in unplaced.items():
        report["counts"][name] = int(len(table))

    store.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".building-", suffix=".gpkg", dir=store.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        for lyr in catalog.layers:
            if lyr.id not in layers:
                continue
            _write_layer(tmp, lyr.id, layers[lyr.id], lyr.geometry)
        for lyr in catalog.layers:  # sorted by key like the layer, for a deterministic store
            name = lyr.unplaced_table
            if name in unplaced:
                _write_table(tmp, name, unplaced[name].sort_values(lyr.key, kind="stable").reset_index(drop=True))
        _write_meta(tmp, catalog, layers, load_reports, sums, report, fp)
        os.replace(tmp, store)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    prog.step(f"wrote {store} ({store.stat().st_size / 1e6:.1f} MB, {len(layers)} layers)")
    return BuildResult(
        store=store, counts=report["counts"], report=report, seconds=time.perf_counter() - prog.t0, fingerprint=fp
    )


def _gb_parents(layers: dict[str, gpd.GeoDataFrame], metric: str, tol: float):
    """geoBoundaries VNM units have no parent codes: name the district / province holding a point
    inside each commune (and the province of each district), when those layers are present."""
    import shapely

    for child, parent, out in (
        ("communes_gb", "districts_gb", "district_name"),
        ("communes_gb", "provinces_gb", "province_name"),
        ("districts_gb", "provinces_gb", "province_name"),
    ):
        if child not in layers or parent not in layers:
            continue
        c, p = layers[child], layers[parent]
        pts = shapely.point_on_surface(to_metric(c, metric))
        idx, _ = _nearest(to_metric(p, metric), pts, tol)
        names = p["name"].to_numpy()
        c[out] = pd.Series([names[i] if i >= 0 else None for i in idx], index=c.index, dtype=object)


def np_length(geoms) -> np.ndarray:
    import shapely

    return shapely.length(np.asarray(geoms, dtype=object))


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Nullable pandas dtypes -> numpy dtypes GDAL understands (NaN / object None for missing)."""
    df = df.copy()
    for col in df.columns:
        if col == "geometry":
            continue
        dt = df[col].dtype
        if isinstance(dt, pd.Float64Dtype):
            df[col] = df[col].astype("float64")
        elif isinstance(dt, pd.Int64Dtype):
            df[col] = df[col].astype("float64") if df[col].isna().any() else df[col].astype("int64")
    return df


def _write_layer(path: Path, layer_id: str, gdf: gpd.GeoDataFrame, gtype: str):
    pyogrio.write_dataframe(
        _plain(gdf),
        path,
        layer=layer_id,
        driver="GPKG",
        geometry_type=gtype,
        promote_to_multi=gtype != "Point",
        layer_options={"SPATIAL_INDEX": "YES"},
    )


def _write_table(path: Path, name: str, df: pd.DataFrame):
    if len(df.columns) == 0:
        return
    pyogrio.write_dataframe(_plain(df), path, layer=name, driver="GPKG")


def _write_meta(path: Path, catalog: Catalog, layers, load_reports, sums, report, fp):
    rows = []
    for lyr in catalog.layers:
        if lyr.id not in layers:
            continue
        src = lyr.source
        rows.append(
            {
                "layer_id": lyr.id,
                "title_vi": lyr.vi,
                "title_en": lyr.en,
                "kind": lyr.kind,
                "geometry_type": lyr.geometry,
                "key_field": lyr.key or "",
                "vintage": lyr.vintage or 0,
                "source_file": src.file if src else "",
                "licence": src.licence if src else "derived",
                "attribution": src.attribution if src else "derived by geoborder from the layers above",
                "source_vintage": src.vintage if src else "",
                "source_sha256": sums.get(src.file, "") if src else "",
                "feature_count": int(len(layers[lyr.id])),
                "repaired": int(load_reports[lyr.id].repaired) if lyr.id in load_reports else 0,
                "built_at": report["built_at"],
            }
        )
    _write_table(path, META_LAYERS, pd.DataFrame(rows))
    _write_table(path, META_SOURCES, pd.DataFrame([{"file": k, "sha256": v} for k, v in sorted(sums.items())]))
    meta = {
        "fingerprint": fp,
        "built_at": report["built_at"],
        "pack": report["pack"],
        "geoborder_version": __version__,
        "catalog_sha256": catalog.checksum,
        "report": json.dumps(report, ensure_ascii=False, sort_keys=True),
    }
    _write_table(path, META_BUILD, pd.DataFrame([{"key": k, "value": v} for k, v in meta.items()]))


def format_report(report: dict) -> str:
    """The build report as text for the terminal."""
    lines = ["Build report", "  features per layer:"]
    for k, v in report["counts"].items():
        lines.append(f"    {k:24s} {v:>7,}")
    for k, f in report.get("absent", {}).items():
        lines.append(f"  {k}: optional source {f} not in the pack, layer left out")
    if report["repaired"]:
        lines.append(
            "  geometries repaired (make_valid): " + ", ".join(f"{k} {v}" for k, v in report["repaired"].items())
        )
    for k, notes in report["load_notes"].items():
        for n in notes:
            lines.append(f"  {k}: {n}")
    for n in report["derive_notes"]:
        lines.append(f"  {n}")
    m = report["measures"]
    for vintage in (2025, 2009, "gb"):
        d = m.get(f"piece_to_commune_m_{vintage}")
        if d:
            lines.append(
                f"  border piece -> nearest {vintage} commune distance (m): "
                + ", ".join(f"{k} {v}" for k, v in d.items())
            )
    err = m.get("gates_derivation_error_km")
    if err:
        vals = sorted(err.values())
        lines.append(
            f"  gate derivation checked on {len(vals)} gates with a published position: "
            f"median {vals[len(vals) // 2]:.1f} km, max {vals[-1]:.1f} km off"
        )
    if report["unplaced"]:
        lines.append(f"  not placed ({len(report['unplaced'])}):")
        for u in report["unplaced"]:
            lines.append(f"    {u['layer']} {u['id']}: {u['reason']}")
    return "\n".join(lines)
