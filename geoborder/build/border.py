"""Derived border layers: the border line cut by commune and partner unit, and border communes.

The sources do not share vertices (the OSM border line lies ~50 m to ~1 km from the commune
edges), so the line is not clipped by polygons (that would lose the pieces that fall just outside
Vietnam's polygons). It is cut into short pieces, and each piece goes to the nearest commune and
the nearest partner unit within a tolerance; the distances are measured and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoborder.build.geom import WGS84, nearest, to_metric, to_wgs84
from geoborder.build.report import DeriveReport

# Which partner layer gives the "partner unit" of each border pair, and its code/name fields.
PARTNER_UNITS = {
    "LAO": ("lao_provinces", "iso_code", "name"),
    "CHN": ("china_provinces", "code", "name_en"),
    "KHM": ("khm_provinces", "iso_code", "name"),
}
# A pack without the Cambodian provinces (optional): Cambodia as a whole, from the country layer.
PARTNER_FALLBACK = {"KHM": ("countries", "code", "name_en", "KH")}
# The district-level partner units: (layer, code, name, its province's code, its province's name).
PARTNER_DISTRICTS = {
    "LAO": ("lao_districts", "shape_id", "name", "province_iso", "province_name"),
    "CHN": ("cn_counties", "adcode", "name", "province_code", "province_name"),
}


@dataclass
class PartnerLayer:
    """One partner layer and the names of its fields (a district-level layer also names the
    fields that give its province)."""

    units: gpd.GeoDataFrame
    code: str
    name: str
    parent_code: str | None = None
    parent_name: str | None = None


def partner_layers(layers: dict) -> tuple[dict[str, PartnerLayer], dict[str, PartnerLayer]]:
    """(partner units, district-level partner units) per partner country, from the layers the
    pack has: Cambodian provinces when present, else Cambodia; Lao districts and Chinese counties
    when present."""
    units, districts = {}, {}
    for iso3, (lid, code, name) in PARTNER_UNITS.items():
        if lid in layers:
            units[iso3] = PartnerLayer(layers[lid], code, name)
        elif iso3 in PARTNER_FALLBACK and PARTNER_FALLBACK[iso3][0] in layers:
            flid, fcode, fname, value = PARTNER_FALLBACK[iso3]
            sel = layers[flid][layers[flid][fcode] == value].reset_index(drop=True)
            units[iso3] = PartnerLayer(sel, fcode, fname)
    for iso3, (lid, code, name, pcode, pname) in PARTNER_DISTRICTS.items():
        if lid in layers:
            districts[iso3] = PartnerLayer(layers[lid], code, name, pcode, pname)
    return units, districts


SEGMENT_COLUMNS = (
    "partner_iso3",
    "partner_unit_code",
    "partner_unit_name",
    "partner_district_code",
    "partner_district_name",
    "length_km",
)


@dataclass
class Pieces:
    """The border line cut into short straight pieces (metric CRS)."""

    lines: np.ndarray  # shapely LineStrings
    mid: np.ndarray  # shapely Points
    length_m: np.ndarray
    partner_iso3: np.ndarray


def cut_border(lines: gpd.GeoDataFrame, metric_crs: str, step_m: float) -> Pieces:
    geoms = shapely.segmentize(to_metric(lines, metric_crs), step_m)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    same = cidx[:-1] == cidx[1:]
    a, b = coords[:-1][same], coords[1:][same]
    part_of = cidx[:-1][same]
    segs = shapely.linestrings(np.stack([a, b], axis=1))
    mid = shapely.points((a + b) / 2.0)
    length = np.hypot(*(b - a).T)
    partner = lines["partner_iso3"].to_numpy()[owner[part_of]]
    return Pieces(segs, mid, length, partner)


def _commune_of_pieces(pieces: Pieces, cgeom: np.ndarray, tol: float, rep: DeriveReport, vintage) -> np.ndarray:
    """The commune (row, -1 for none) of each piece; the distances go into the report."""
    cidx, cdist = nearest(cgeom, pieces.mid, tol)
    ok = cidx >= 0
    rep.measures[f"pieces_{vintage}"] = int(len(pieces.mid))
    rep.measures[f"piece_to_commune_m_{vintage}"] = {
        q: round(float(np.nanpercentile(cdist, p)), 1) for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
    }
    unassigned_km = float(pieces.length_m[~ok].sum()) / 1000
    rep.measures[f"unassigned_km_{vintage}"] = round(unassigned_km, 3)
    if unassigned_km:
        rep.notes.append(
            f"{vintage}: {unassigned_km:.1f} km of border line lie farther than "
            f"{tol:.0f} m from any commune and belong to none"
        )
    return cidx


def partner_of_pieces(
    pieces: Pieces, partners: dict[str, PartnerLayer], districts: dict[str, PartnerLayer], metric_crs: str, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(unit code, unit name, district code, district name) of the partner side of each piece.

    Each piece gets the nearest partner unit (a Lao or Chinese province, a Cambodian province or
    Cambodia). Where there is a district-level layer (Lao districts, Chinese counties) the
    district decides the province: a piece takes the nearest district, and the province that
    district belongs to. The layers are simplified separately, so near a meeting of provinces
    the nearest province and the nearest district disagreed (8 Lao segments, 3.45 km, e.g.
    Mường Lèo "Luang Prabang / Xon" with Xon in Houaphan). The district is the finer unit and
    carries its province, so taking the province from it makes the pair agree by construction
    without moving a piece to a farther district (choosing the district among the nearest
    province's would). A piece beyond `tol` of every district keeps the nearest province.
    """
    n = len(pieces.mid)
    unit_code, unit_name, dist_code, dist_name = (np.full(n, None, dtype=object) for _ in range(4))
    for iso3, p in partners.items():
        sel = np.flatnonzero(pieces.partner_iso3 == iso3)
        if not len(sel):
            continue
        uidx, _ = nearest(to_metric(p.units, metric_crs), pieces.mid[sel], tol)
        good = uidx >= 0
        unit_code[sel[good]] = p.units[p.code].to_numpy()[uidx[good]]
        unit_name[sel[good]] = p.units[p.name].to_numpy()[uidx[good]]
    for iso3, d in districts.items():
        sel = np.flatnonzero(pieces.partner_iso3 == iso3)
        if not len(sel) or not len(d.units):
            continue
        didx, _ = nearest(to_metric(d.units, metric_crs), pieces.mid[sel], tol)
        good = didx >= 0
        at = sel[good]
        dist_code[at] = d.units[d.code].to_numpy()[didx[good]]
        dist_name[at] = d.units[d.name].to_numpy()[didx[good]]
        prov_code = d.units[d.parent_code].to_numpy()[didx[good]]
        prov_name = d.units[d.parent_name].to_numpy()[didx[good]]
        names = {}
        if iso3 in partners:
            p = partners[iso3]
            names = dict(zip(p.units[p.code], p.units[p.name]))
        unit_code[at] = prov_code
        unit_name[at] = [names.get(c, nm) for c, nm in zip(prov_code, prov_name)]
    return unit_code, unit_name, dist_code, dist_name


def _segment_rows(df: pd.DataFrame, communes: gpd.GeoDataFrame, commune_fields: dict[str, str], key: str):
    """One row (and its merged line) per (commune, partner country, unit, district)."""
    rows, geoms = [], []
    keys = ["c", "iso3", "ucode", "dcode"]
    for (c, iso3, ucode, dcode), g in df.fillna({"ucode": "", "dcode": ""}).groupby(keys, sort=True):
        geoms.append(shapely.line_merge(shapely.multilinestrings(g["geom"].to_list())))
        crow = communes.iloc[int(c)]
        row = {out: crow[src] for out, src in commune_fields.items()}
        row.update(
            {
                "partner_iso3": iso3,
                "partner_unit_code": ucode or None,
                "partner_unit_name": g["uname"].iloc[0],
                "partner_district_code": dcode or None,
                "partner_district_name": g["dname"].iloc[0],
                "length_km": round(float(g["len"].sum()) / 1000, 4),
            }
        )
        row["segment_id"] = "-".join(str(x) for x in (row[key], iso3, ucode, dcode) if x)
        rows.append(row)
    return rows, geoms


def border_segments(
    pieces: Pieces,
    communes: gpd.GeoDataFrame,
    partners: dict[str, PartnerLayer],
    districts: dict[str, PartnerLayer],
    metric_crs: str,
    tol: float,
    commune_fields: dict[str, str],
    rep: DeriveReport,
    vintage: int | str,
    key: str = "commune_code",
) -> gpd.GeoDataFrame:
    """The border cut by commune and partner unit; one row per (commune, partner unit, district).

    `key` is the output field that identifies the commune (a GSO code, or a geoBoundaries id for
    communes without codes); `vintage` labels the measures and notes (2025, 2009, "gb")."""
    cidx = _commune_of_pieces(pieces, to_metric(communes, metric_crs), tol, rep, vintage)
    ok = cidx >= 0
    unit_code, unit_name, dist_code, dist_name = partner_of_pieces(pieces, partners, districts, metric_crs, tol)
    df = pd.DataFrame(
        {
            "c": cidx[ok],
            "iso3": pieces.partner_iso3[ok],
            "ucode": unit_code[ok],
            "uname": unit_name[ok],
            "dcode": dist_code[ok],
            "dname": dist_name[ok],
            "len": pieces.length_m[ok],
        }
    )
    df["geom"] = pieces.lines[ok]
    rows, geoms = _segment_rows(df, communes, commune_fields, key)
    if not rows:
        cols = ["segment_id", *commune_fields, *SEGMENT_COLUMNS]
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    return gpd.GeoDataFrame(rows, geometry=list(to_wgs84(_as_multi_lines(geoms), metric_crs)), crs=WGS84)


def _as_multi_lines(geoms):
    return [g if g.geom_type == "MultiLineString" else shapely.multilinestrings([g]) for g in geoms]


def border_communes(
    segments: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    fields: list[str],
    min_km: float,
    rep: DeriveReport,
    vintage: int | str,
    key: str = "commune_code",
) -> gpd.GeoDataFrame:
    """Communes with at least `min_km` of border, with the partner units they face."""
    rows = []
    for code, g in segments.groupby(key, sort=True):
        total = float(g["length_km"].sum())
        per_unit = g.groupby(["partner_unit_code", "partner_unit_name"], sort=True)["length_km"].sum()
        rows.append(
            {
                key: code,
                "border_length_km": round(total, 3),
                "partner_countries": ",".join(sorted(set(g["partner_iso3"]))),
                "partner_units": "; ".join(f"{c} {n}" for (c, n), _ in per_unit.items()),
                "partner_lengths": json.dumps(
                    {c: round(float(v), 3) for (c, _), v in per_unit.items()}, ensure_ascii=False, sort_keys=True
                ),
            }
        )
    agg = pd.DataFrame(rows, columns=[key, "border_length_km", "partner_countries", "partner_units", "partner_lengths"])
    short = agg[agg["border_length_km"] < min_km]
    if len(short):
        rep.notes.append(
            f"{vintage}: {len(short)} communes get less than {min_km} km of line (corner contacts from "
            f"misalignment) and are not counted as border communes: "
            + ", ".join(f"{c} ({km:.2f} km)" for c, km in zip(short[key], short["border_length_km"]))
        )
    agg = agg[agg["border_length_km"] >= min_km]
    base = communes[[f for f in fields if f in communes.columns] + ["geometry"]]
    out = base.merge(agg, on=key, how="inner").sort_values(key).reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def facing_summary(segments: gpd.GeoDataFrame, min_km: float) -> dict:
    """Which partner units face Vietnam and which Vietnamese provinces face each country, from one
    vintage's segments. A unit counts when at least `min_km` of line faces it (shorter contacts
    are corners of misaligned layers, listed apart)."""
    out: dict = {}
    if not len(segments):
        return out
    for iso3, g in segments.groupby("partner_iso3", sort=True):
        units = g.groupby(["partner_unit_code", "partner_unit_name"], sort=True)["length_km"].sum()
        prov = g.groupby("province_name", sort=True)["length_km"].sum()
        entry = {
            "partner_units": {f"{c} {n}": round(float(v), 1) for (c, n), v in units.items() if v >= min_km},
            "partner_units_corner_only": sorted(f"{c} {n}" for (c, n), v in units.items() if v < min_km),
            "vn_provinces": {str(p): round(float(v), 1) for p, v in prov.items() if v >= min_km},
            "vn_provinces_corner_only": sorted(str(p) for p, v in prov.items() if v < min_km),
        }
        d = g.dropna(subset=["partner_district_code"])
        if len(d):
            dist = d.groupby(["partner_district_code", "partner_district_name"], sort=True)["length_km"].sum()
            entry["partner_districts"] = {f"{c} {n}": round(float(v), 1) for (c, n), v in dist.items() if v >= min_km}
            entry["partner_districts_corner_only"] = sorted(f"{c} {n}" for (c, n), v in dist.items() if v < min_km)
        out[str(iso3)] = entry
    return out
