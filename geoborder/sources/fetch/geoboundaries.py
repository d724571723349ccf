"""geoBoundaries gbOpen (CC BY 4.0): the API answer, its GeoJSON, and the pack files made of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geoborder.core.errors import FetchError
from geoborder.core.files import sha256_file
from geoborder.sources.fetch.download import Downloader
from geoborder.sources.fetch.manifest import Manifest, PackFile
from geoborder.sources.fetch.options import WGS84, FetchOptions
from geoborder.sources.fetch.spatial import Units, to_metric, write_geojson


@dataclass
class GbLayer:
    iso3: str
    level: int
    gdf: gpd.GeoDataFrame
    meta: dict
    url: str
    sha256: str
    date: str

    @property
    def name(self) -> str:
        return f"geoBoundaries {self.iso3} ADM{self.level}"

    @property
    def licence(self) -> str:
        return self.meta.get("boundaryLicense") or "CC BY 4.0"

    @property
    def attribution(self) -> str:
        src = self.meta.get("boundarySource") or ""
        return f"geoBoundaries gbOpen {self.iso3} ADM{self.level}" + (f" (source: {src})" if src else "")


def fetch_layer(dl: Downloader, opts: FetchOptions, iso3: str, level: int) -> GbLayer:
    """One level of one country: the API answer, then its GeoJSON (the preferred resolution, else
    the other one). Raises FetchError."""
    name = f"geoBoundaries {iso3} ADM{level}"
    api = f"{opts.geoboundaries_url.rstrip('/')}/gbOpen/{iso3}/ADM{level}/"
    meta = dl.get_json(api, source=name)
    if isinstance(meta, list):  # the API answers a list for ALL queries
        meta = meta[0] if meta else {}
    if not isinstance(meta, dict):
        raise FetchError("unexpected API answer (not a JSON object)", source=name, url=api)
    keys = (
        ("simplifiedGeometryGeoJSON", "gjDownloadURL")
        if opts.simplified
        else ("gjDownloadURL", "simplifiedGeometryGeoJSON")
    )
    urls = [meta[k] for k in keys if meta.get(k)]
    if not urls:
        raise FetchError(f"the API answer has neither {' nor '.join(keys)}", source=name, url=api)
    gdf = None
    for n, url in enumerate(urls):  # the preferred file, else the other resolution
        try:
            path, rec = dl.fetch(url, source=name)
            if path.open("rb").read(200).startswith(b"version https://git-lfs"):
                path.unlink()
                dl.index.pop(url, None)
                raise FetchError("the server sent a Git LFS pointer, not the GeoJSON", source=name, url=url)
            try:
                gdf = pyogrio.read_dataframe(path)
            except Exception as exc:
                raise FetchError(f"not a readable GeoJSON: {exc}", source=name, url=url) from exc
            break
        except FetchError as exc:
            if n + 1 == len(urls):
                raise
            dl.emit(f"  {name}: {exc}; trying {keys[n + 1]}")
    assert gdf is not None  # read, or the last failure raised
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    gdf = gdf.to_crs(WGS84)
    for col in ("shapeName", "shapeISO", "shapeID"):
        if col not in gdf.columns:
            raise FetchError(f"the GeoJSON has no {col} property", source=name, url=url)
    return GbLayer(iso3, level, gdf, meta, url, rec["sha256"], rec["fetched_at"])


# --------------------------------------------------------------------------- pack files

Layers = dict[tuple[str, int], GbLayer]

# the levels written as they are (names, ISO codes, geoBoundaries ids). The VNM ones are read by
# the build (layers communes_gb, districts_gb, provinces_gb); the others are extras.
EXTRA_LEVELS = {
    ("VNM", 1): "pre-2025 provinces of Vietnam (no GSO codes)",
    ("VNM", 2): "pre-2025 districts of Vietnam (no GSO codes)",
    ("VNM", 3): "pre-2025 communes of Vietnam (no GSO codes)",
    ("CHN", 2): "Chinese prefectures",
    ("CHN", 3): "Chinese counties (e.g. Maguan, Hekou)",
    ("KHM", 1): "Cambodian provinces",
    ("KHM", 2): "Cambodian districts",
    ("CHN", 1): "Chinese provinces",
}


def write_geoboundaries_files(pack: Path, gb: Layers, man: Manifest, emit):
    """partner_* contract files and the extra geoBoundaries layers."""

    def record(file, what, layers: list[GbLayer], rows, contract=True, notes=()):
        man.put(
            PackFile(
                file=file,
                what=what,
                source="geoBoundaries gbOpen",
                urls=[lyr.url for lyr in layers],
                licence=layers[0].licence,
                attribution="; ".join(lyr.attribution for lyr in layers),
                date=max(lyr.date for lyr in layers),
                sha256=sha256_file(pack / file),
                rows=rows,
                contract=contract,
                notes=list(notes),
            )
        )
        emit(f"  wrote {file} ({rows} features)")

    _lao_files(pack, gb, record)
    _countries_file(pack, gb, record)
    for (iso3, level), what in EXTRA_LEVELS.items():
        lyr = gb.get((iso3, level))
        if lyr is None:
            continue
        file = f"gb_{iso3.lower()}_adm{level}.geojson"
        write_geojson(lyr.gdf[["shapeName", "shapeISO", "shapeID", "geometry"]], pack / file)
        record(file, what, [lyr], len(lyr.gdf), contract=iso3 == "VNM")


def _lao_files(pack: Path, gb: Layers, record):
    """partner_lao_provinces (ADM1) and partner_lao_districts (ADM2, with their province)."""
    lao1 = gb.get(("LAO", 1))
    if lao1 is not None:
        g = lao1.gdf[["shapeISO", "shapeName", "shapeID", "geometry"]]
        write_geojson(g, pack / "partner_lao_provinces.geojson")
        empty = int((g["shapeISO"].fillna("") == "").sum())
        record(
            "partner_lao_provinces.geojson",
            "Lao provinces (ADM1)",
            [lao1],
            len(g),
            notes=[f"{empty} provinces without shapeISO: the build needs it"] if empty else [],
        )
    lao2 = gb.get(("LAO", 2))
    if lao2 is not None and lao1 is not None:
        g = lao2.gdf[["shapeName", "shapeISO", "shapeID", "geometry"]].copy()
        prov = Units(lao1.gdf)
        idx, _ = prov.nearest(to_metric(shapely.point_on_surface(g.geometry.values)), 5000)
        g["prov_iso"] = prov.value(idx, "shapeISO")
        g["prov_name"] = prov.value(idx, "shapeName")
        write_geojson(gpd.GeoDataFrame(g, crs=WGS84), pack / "partner_lao_districts.geojson")
        record(
            "partner_lao_districts.geojson",
            "Lao districts (ADM2) with their province",
            [lao2, lao1],
            len(g),
            notes=["prov_iso / prov_name: the ADM1 unit holding a point inside each district"],
        )


def _countries_file(pack: Path, gb: Layers, record):
    """Countries VN, LA, KH dissolved from ADM1; Yunnan and Guangxi from CHN ADM1."""
    parts, used = [], []
    for iso3, code in (("VNM", "VN"), ("LAO", "LA"), ("KHM", "KH")):
        lyr = gb.get((iso3, 1))
        if lyr is not None:
            parts.append(
                {
                    "code": code,
                    "geometry": shapely.make_valid(
                        shapely.union_all(shapely.make_valid(np.asarray(lyr.gdf.geometry.values, dtype=object)))
                    ),
                }
            )
            used.append(lyr)
    chn = gb.get(("CHN", 1))
    if chn is not None:
        for code, iso_codes, word in (
            ("CN.YN", ("CN-YN", "CN-53"), "yunnan"),
            ("CN.GX", ("CN-GX", "CN-45"), "guangxi"),
        ):
            hit = chn.gdf[
                chn.gdf["shapeISO"].isin(iso_codes) | chn.gdf["shapeName"].fillna("").str.lower().str.contains(word)
            ]
            if len(hit):
                parts.append(
                    {"code": code, "geometry": shapely.union_all(np.asarray(hit.geometry.values, dtype=object))}
                )
        used.append(chn)
    if not parts:
        return
    g = gpd.GeoDataFrame(parts, geometry="geometry", crs=WGS84)
    write_geojson(g, pack / "partner_dcw_countries_and_china_provinces.geojson")
    have = sorted(g["code"])
    notes = [
        "not DCW: country polygons are geoBoundaries ADM1 dissolved; Yunnan and Guangxi are "
        "geoBoundaries CHN ADM1 units"
    ]
    lacking = sorted({"VN", "LA", "KH", "CN.YN", "CN.GX"} - set(have))
    if lacking:
        notes.append(f"lacking {lacking}: the build needs all five codes")
    record(
        "partner_dcw_countries_and_china_provinces.geojson",
        "countries VN, LA, KH and Chinese provinces Yunnan, Guangxi",
        used,
        len(g),
        notes=notes,
    )
