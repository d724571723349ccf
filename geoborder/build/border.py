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
    "KHM": ("countries", "code", "name_en"),
}

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
    pieces: Pieces,
    partners: dict[str, gpd.GeoDataFrame],
    lao_districts: gpd.GeoDataFrame | None,
    metric_crs: str,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(unit code, unit name, district code, district name) of the partner side of each piece.

    Each piece gets the nearest partner unit (a Lao or Chinese province, Cambodia). On the Lao
    border the district decides the province: a piece takes the nearest Lao district, and the
    province that district belongs to (its `province_iso`). The two layers are simplified
    separately, so near a meeting of provinces the nearest province and the nearest district
    disagreed (8 segments, 3.45 km, e.g. Mường Lèo "Luang Prabang / Xon" with Xon in
    Houaphan). The district is the finer unit and carries its province, so taking the province
    from it makes the pair agree by construction without moving a piece to a farther district
    (choosing the district among the nearest province's would). A piece beyond `tol` of every
    district keeps the nearest province.
    """
    n = len(pieces.mid)
    unit_code, unit_name, dist_code, dist_name = (np.full(n, None, dtype=object) for _ in range(4))
    for iso3, units in partners.items():
        sel = np.flatnonzero(pieces.partner_iso3 == iso3)
        if not len(sel):
            continue
        _, code_f, name_f = PARTNER_UNITS[iso3]
        uidx, _ = nearest(to_metric(units, metric_crs), pieces.mid[sel], tol)
        good = uidx >= 0
        unit_code[sel[good]] = units[code_f].to_numpy()[uidx[good]]
        unit_name[sel[good]] = units[name_f].to_numpy()[uidx[good]]
    if lao_districts is None:
        return unit_code, unit_name, dist_code, dist_name
    sel = np.flatnonzero(pieces.partner_iso3 == "LAO")
    didx, _ = nearest(to_metric(lao_districts, metric_crs), pieces.mid[sel], tol)
    good = didx >= 0
    at = sel[good]
    dist_code[at] = lao_districts["shape_id"].to_numpy()[didx[good]]
    dist_name[at] = lao_districts["name"].to_numpy()[didx[good]]
    prov_iso = lao_districts["province_iso"].to_numpy()[didx[good]]
    prov_name = lao_districts["province_name"].to_numpy()[didx[good]]
    names = {}
    if "LAO" in partners:
        _, code_f, name_f = PARTNER_UNITS["LAO"]
        names = dict(zip(partners["LAO"][code_f], partners["LAO"][name_f]))
    unit_code[at] = prov_iso
    unit_name[at] = [names.get(c, nm) for c, nm in zip(prov_iso, prov_name)]
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
    partners: dict[str, gpd.GeoDataFrame],
    lao_districts: gpd.GeoDataFrame | None,
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
    unit_code, unit_name, dist_code, dist_name = partner_of_pieces(pieces, partners, lao_districts, metric_crs, tol)
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
