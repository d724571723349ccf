"""Writing the built layers and the meta tables into a GeoPackage, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geoborder import __version__
from geoborder.build.provenance import pack_provenance
from geoborder.core.catalog import Catalog
from geoborder.core.tables import META_BUILD, META_LAYERS, META_SOURCES


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Nullable pandas dtypes -> dtypes GDAL understands.

    Float64 becomes float64 (NaN for missing). Int64 stays Int64: pyogrio writes it as an
    INTEGER column with NULL for missing, so a whole number is never stored as a REAL."""
    df = df.copy()
    for col in df.columns:
        if col == "geometry":
            continue
        dt = df[col].dtype
        if isinstance(dt, pd.Float64Dtype):
            df[col] = df[col].astype("float64")
        elif isinstance(dt, pd.Int64Dtype) and not df[col].isna().any():
            df[col] = df[col].astype("int64")
        elif isinstance(dt, pd.BooleanDtype) and not df[col].isna().any():
            df[col] = df[col].astype("bool")
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


DERIVED_ATTRIBUTION = "derived by geoborder from the layers above"


def _layer_rows(catalog: Catalog, layers, load_reports, sums, built_at: str, provenance=None) -> list[dict]:
    provenance = provenance or {}
    rows = []
    for lyr in catalog.layers:
        if lyr.id not in layers:
            continue
        src = lyr.source
        said = provenance.get(src.file, {}) if src else {}  # the pack's manifest, over the catalog
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
                "licence": said.get("licence", src.licence) if src else "derived",
                "attribution": said.get("attribution", src.attribution) if src else DERIVED_ATTRIBUTION,
                "source_vintage": said.get("source_vintage", src.vintage) if src else "",
                "source_sha256": sums.get(src.file, "") if src else "",
                "feature_count": int(len(layers[lyr.id])),
                "repaired": int(load_reports[lyr.id].repaired) if lyr.id in load_reports else 0,
                "built_at": built_at,
            }
        )
    return rows


def _write_meta(path: Path, catalog: Catalog, layers, load_reports, sums, report, fp):
    said = pack_provenance(Path(report["pack"]), sums) if report.get("pack") else {}
    rows = _layer_rows(catalog, layers, load_reports, sums, report["built_at"], said)
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


def write_store(store: Path, catalog: Catalog, layers, unplaced, load_reports, sums, report, fp) -> None:
    """Write every layer, the unplaced tables and the meta tables to a temporary file beside
    `store`, renamed over it only when everything succeeded."""
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
            if name is not None and name in unplaced:
                _write_table(tmp, name, unplaced[name].sort_values(lyr.key, kind="stable").reset_index(drop=True))
        _write_meta(tmp, catalog, layers, load_reports, sums, report, fp)
        os.replace(tmp, store)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
