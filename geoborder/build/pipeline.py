"""`geoborder build`: a source pack -> one GeoPackage (the embedded store).

The steps, in order: read every source layer (load), derive the border layers (border), place
gates and markers (places), keep the points without a position in their own tables, put every
layer in catalog order and schema, and write the store (write): to a temporary file beside the
target renamed over it only when everything succeeded, so a failed build leaves the previous
store untouched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoborder import __version__
from geoborder.build.border import border_communes, border_segments, cut_border, facing_summary, partner_layers
from geoborder.build.fingerprint import fingerprint, is_stale, stored_fingerprint
from geoborder.build.geom import nearest, to_metric
from geoborder.build.load import EmptyLayerFile, LoadReport, load_source_layer
from geoborder.build.places import place_points
from geoborder.build.report import DeriveReport, format_report
from geoborder.build.terrain import commune_terrain, dem_copy_path, read_dem, write_dem_copy
from geoborder.build.villages import place_villages
from geoborder.build.write import write_store
from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import BuildError

__all__ = ["BuildResult", "build", "check_pack", "fingerprint", "format_report", "is_stale", "stored_fingerprint"]

# (commune layer, fields of the segments from the commune, fields of the border communes) per
# vintage label; the first segment field is the key
VINTAGES: dict[int | str, tuple[str, dict[str, str], list[str]]] = {
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


# --------------------------------------------------------------------------- steps


def _load_sources(pack: Path, catalog: Catalog, prog: _Progress):
    """Every source layer of the pack: (layers, load reports, optional layers absent -> file)."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    load_reports: dict[str, LoadReport] = {}
    absent: dict[str, str] = {}
    for lyr in catalog.layers:
        if lyr.kind != "source":
            continue
        src = lyr.source
        assert src is not None  # a source layer
        if lyr.optional and not (pack / src.file).exists():
            prog.emit(f"          {lyr.id}: optional source {src.file} absent, skipped")
            absent[lyr.id] = src.file
            continue
        try:
            gdf, rep = load_source_layer(pack, lyr, catalog)
        except EmptyLayerFile:
            if not lyr.optional:
                raise
            prog.emit(f"          {lyr.id}: optional source {src.file} has no features, skipped")
            absent[lyr.id] = f"{src.file} (no features)"
            continue
        layers[lyr.id] = gdf
        load_reports[lyr.id] = rep
        extra = f", {rep.repaired} geometries repaired" if rep.repaired else ""
        prog.step(f"read {lyr.id}: {len(gdf)} features{extra}")
    return layers, load_reports, absent


def _derive_border(layers: dict, cfg, drep: DeriveReport, prog: _Progress) -> None:
    """border_segments_<v> and border_communes_<v> of every commune layer there is."""
    metric, tol = cfg["metric_crs"], float(cfg["assign_tolerance_m"])
    lines = layers["border_lines"]
    lines["length_km"] = np.round(shapely.length(np.asarray(to_metric(lines, metric), dtype=object)) / 1000, 3)
    pieces = cut_border(lines, metric, float(cfg["segment_step_m"]))
    partners, districts = partner_layers(layers)
    for vintage, (cid, cfields, bfields) in VINTAGES.items():
        if cid not in layers or (vintage == "gb" and "communes_2009" in layers):
            continue
        key = next(iter(cfields))
        seg = border_segments(pieces, layers[cid], partners, districts, metric, tol, cfields, drep, vintage, key=key)
        layers[f"border_segments_{vintage}"] = seg
        layers[f"border_communes_{vintage}"] = border_communes(
            seg, layers[cid], bfields, float(cfg["border_commune_min_km"]), drep, vintage, key=key
        )
        drep.measures[f"facing_{vintage}"] = facing_summary(seg, float(cfg["border_commune_min_km"]))
        prog.step(
            f"derived border_segments_{vintage} ({len(seg)}) and border_communes_{vintage} "
            f"({len(layers[f'border_communes_{vintage}'])})"
        )
    skipped = [
        f"border_segments_{v}, border_communes_{v}"
        for v, (cid, _, _) in VINTAGES.items()
        if f"border_segments_{v}" not in layers and not (v == "gb" and "communes_2009" in layers)
    ]
    if skipped:
        drep.notes.append("not derived (their commune layer is not in the pack): " + "; ".join(skipped))
    if "communes_2009" not in layers:
        drep.notes.append(
            "no coded pre-2025 communes (communes_2009): gates and markers keep only the "
            "positions their source publishes; none is derived"
        )


def _place_gates_and_markers(layers: dict, cfg, drep: DeriveReport, prog: _Progress) -> None:
    common = dict(
        communes_2009=layers.get("communes_2009"),
        communes_2025=layers.get("communes_2025"),
        seats_2025=layers.get("commune_seats_2025"),
        segments_2009=layers.get("border_segments_2009"),
        communes_gb=layers.get("communes_gb"),
        metric_crs=cfg["metric_crs"],
        tol=float(cfg["assign_tolerance_m"]),
        rep=drep,
    )
    layers["gates"] = place_points(layers["gates"], derive_missing=True, label="gates", id_field="gate_id", **common)
    layers["markers"] = place_points(
        layers["markers"], derive_missing=False, label="markers", id_field="marker_id", **common
    )
    m = drep.measures
    prog.step(
        f"placed gates ({m['gates_published']} published, {m['gates_derived']} derived, {m['gates_unplaced']} "
        f"without location) and markers ({m['markers_published']} with position, {m['markers_unplaced']} "
        f"known by place only)"
    )


def _place_villages(layers: dict, cfg, drep: DeriveReport, prog: _Progress) -> None:
    if "villages" not in layers:
        return
    layers["villages"] = place_villages(
        layers["villages"],
        places=layers.get("places"),
        communes={2025: layers.get("communes_2025"), 2009: layers.get("communes_2009")},
        metric_crs=cfg["metric_crs"],
        tol=float(cfg.get("village_commune_tolerance_m", 2000.0)),
        rep=drep,
    )
    v = drep.measures["villages"]
    prog.step(
        f"placed villages ({v['kept']} kept, {v['left_out_abandoned_or_destroyed']} abandoned or destroyed and "
        f"{v['left_out_no_geonameid']} without a GeoNames id left out, {v['matched_to_towns']} towns in places)"
    )


@dataclass
class _DemUsed:
    sid: str
    path: Path
    label: str


def _terrain(
    layers: dict, pack: Path, catalog: Catalog, drep: DeriveReport, prog: _Progress
) -> tuple[dict[str, str], _DemUsed | None]:
    """Elevation fields of the commune layers from the pack's DEM (the first of `[build]
    dem_sources` present in the pack); the default DEM when none is there."""
    cfg = catalog.build
    sids = list(cfg.get("dem_sources") or ([cfg["dem_source"]] if cfg.get("dem_source") else []))
    srcs = [(sid, catalog.sources[sid]) for sid in sids if sid in catalog.sources]
    dem = None
    used: _DemUsed | None = None
    absent: dict[str, str] = {}
    present = [(sid, src) for sid, src in srcs if (pack / src.file).exists()]
    if present:
        sid, src = present[0]
        try:
            dem = read_dem(pack / src.file, src.attribution)
        except Exception as exc:  # rasterio says why: not a raster, truncated ...
            raise BuildError(f"cannot read the DEM: {exc}", file=str(pack / src.file), layer=sid) from exc
        used = _DemUsed(sid, pack / src.file, dem.label)
    elif srcs:
        sid, src = srcs[-1]  # the pack's default DEM
        absent[sid] = src.file
        looked = ", ".join(s.file for _, s in srcs)
        drep.notes.append(f"terrain: no DEM in the pack ({looked}): the elevation fields of the communes are empty")
    high = float(cfg.get("dem_high_m", 1000.0))
    for vintage in (2025, 2009):
        lid = f"communes_{vintage}"
        if lid not in layers:
            continue
        layers[lid], summary = commune_terrain(layers[lid], dem, high, layers.get("villages"), vintage)
        drep.measures[f"terrain_{vintage}"] = summary
    if used is not None:
        prog.step(f"terrain of the communes from {used.path.name} ({used.label})")
    return absent, used


def _split_unplaced(layers: dict, catalog: Catalog) -> dict[str, pd.DataFrame]:
    """A point layer holds only what has a position (GIS clients and strict GeoJSON schemas expect
    a geometry); the rest stays in the store as a table, each row with its unplaced_reason."""
    unplaced: dict[str, pd.DataFrame] = {}
    for lyr in catalog.layers:
        if lyr.unplaced_table and lyr.id in layers:
            gdf = layers[lyr.id]
            placed = gdf.geometry.notna()
            layers[lyr.id] = gdf[placed].reset_index(drop=True)
            unplaced[lyr.unplaced_table] = pd.DataFrame(gdf[~placed].drop(columns="geometry")).reset_index(drop=True)
    return unplaced


def _in_catalog_order(layers: dict, catalog: Catalog) -> None:
    """Order and schema exactly as the catalog says: deterministic output."""
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


def _report(pack: Path, layers, unplaced, load_reports, absent, absent_sources, drep: DeriveReport) -> dict:
    report = {
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "pack": str(pack.resolve()),
        "geoborder_version": __version__,
        "counts": {k: int(len(v)) for k, v in layers.items()},
        "absent": absent,
        # sources that are not layers (the DEM) and are absent from the pack
        "absent_sources": absent_sources,
        "repaired": {k: r.repaired for k, r in load_reports.items() if r.repaired},
        "load_notes": {k: r.notes for k, r in load_reports.items() if r.notes},
        # values a source gives that mean "no data" (a census population of 0), per layer and field
        "no_data": {k: r.no_data for k, r in load_reports.items() if r.no_data},
        "derive_notes": drep.notes,
        "measures": drep.measures,
        "unplaced": drep.unplaced,
    }
    for name, table in unplaced.items():
        report["counts"][name] = int(len(table))
    return report


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

    layers, load_reports, absent = _load_sources(pack, catalog, prog)
    drep = DeriveReport()
    _gb_parents(layers, cfg["metric_crs"], float(cfg["assign_tolerance_m"]))
    _derive_border(layers, cfg, drep, prog)
    _place_gates_and_markers(layers, cfg, drep, prog)
    _place_villages(layers, cfg, drep, prog)
    absent_sources, dem_used = _terrain(layers, pack, catalog, drep, prog)
    unplaced = _split_unplaced(layers, catalog)
    _in_catalog_order(layers, catalog)
    report = _report(pack, layers, unplaced, load_reports, absent, absent_sources, drep)
    _write_with_dem(
        store,
        dem_used,
        report,
        fp,
        lambda: write_store(store, catalog, layers, unplaced, load_reports, sums, report, fp),
    )
    prog.step(f"wrote {store} ({store.stat().st_size / 1e6:.1f} MB, {len(layers)} layers)")
    return BuildResult(
        store=store, counts=report["counts"], report=report, seconds=time.perf_counter() - prog.t0, fingerprint=fp
    )


def _write_with_dem(store: Path, dem_used: _DemUsed | None, report: dict, fp: str, write: Callable[[], None]) -> None:
    """The store written by `write`, and the DEM it was built from copied beside it (for the
    hillshade tiles; the report's `dem` says which); a stale copy of an earlier build removed."""
    copy = dem_copy_path(store)
    tmp = None
    if dem_used is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
        try:
            tmp = write_dem_copy(dem_used.path, store, fp, dem_used.label)
        except Exception as exc:
            raise BuildError(f"cannot copy the DEM beside the store: {exc}", file=str(dem_used.path)) from exc
        report["dem"] = {
            "source": dem_used.sid,
            "file": dem_used.path.name,
            "label": dem_used.label,
            "copy": str(copy.resolve()),
        }
    try:
        write()
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    if tmp is not None:
        os.replace(tmp, copy)
    else:
        copy.unlink(missing_ok=True)


def _gb_parents(layers: dict[str, gpd.GeoDataFrame], metric: str, tol: float):
    """geoBoundaries VNM units have no parent codes: name the district / province holding a point
    inside each commune (and the province of each district), when those layers are present."""
    for child, parent, out in (
        ("communes_gb", "districts_gb", "district_name"),
        ("communes_gb", "provinces_gb", "province_name"),
        ("districts_gb", "provinces_gb", "province_name"),
    ):
        if child not in layers or parent not in layers:
            continue
        c, p = layers[child], layers[parent]
        pts = shapely.point_on_surface(to_metric(c, metric))
        idx, _ = nearest(to_metric(p, metric), pts, tol)
        names = p["name"].to_numpy()
        c[out] = pd.Series([names[i] if i >= 0 else None for i in idx], index=c.index, dtype=object)
