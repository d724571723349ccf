"""Derived layers: the border cut by commune and partner unit, border communes, gate and marker
placement. Every measure is taken in the catalog's metric CRS (VN-2000 / UTM 48N), never in
degrees; results are returned in EPSG:4326.

The sources do not share vertices (the OSM border line lies ~50 m to ~1 km from the commune
edges), so the line is not clipped by polygons (that would lose the pieces that fall just outside
Vietnam's polygons). It is cut into short pieces, and each piece goes to the nearest commune and
the nearest partner unit within a tolerance; the distances are measured and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geoborder.core.crs import reproject
from geoborder.core.text import fold

WGS84 = "EPSG:4326"

# Which partner layer gives the "partner unit" of each border pair, and its code/name fields.
PARTNER_UNITS = {
    "LAO": ("lao_provinces", "iso_code", "name"),
    "CHN": ("china_provinces", "code", "name_en"),
    "KHM": ("countries", "code", "name_en"),
}


@dataclass
class DeriveReport:
    notes: list[str] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)
    measures: dict = field(default_factory=dict)


def to_metric(gdf: gpd.GeoDataFrame, metric_crs: str) -> np.ndarray:
    return reproject(gdf.geometry.values, WGS84, metric_crs)


def to_wgs84(geoms, metric_crs: str) -> np.ndarray:
    return reproject(np.asarray(geoms, dtype=object), metric_crs, WGS84)


# --------------------------------------------------------------------------- border pieces


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


def _nearest(tree_geoms: np.ndarray, points: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon holding or nearest to each point (-1 beyond tol), and the distance.

    Point-in-polygon first (prepared geometries, cheap); for the points outside every polygon,
    the nearest of the polygons' boundaries cut into short pieces, so that one distance is never
    computed against a whole province outline.
    """
    tree_geoms = np.asarray(tree_geoms, dtype=object)
    idx = np.full(len(points), -1, dtype=np.int64)
    d = np.full(len(points), np.nan)
    if not len(points) or not len(tree_geoms):
        return idx, d
    # the polygons are the query side so that GEOS prepares them (each once)
    dst, src = STRtree(points).query(tree_geoms, predicate="intersects")
    order = np.lexsort((dst, src))  # lowest polygon index wins on a shared edge: deterministic
    src, dst = src[order], dst[order]
    first = np.unique(src, return_index=True)[1]
    idx[src[first]] = dst[first]
    d[src[first]] = 0.0
    rest = np.flatnonzero(idx < 0)
    if len(rest):
        rings, owner = shapely.get_parts(shapely.boundary(tree_geoms), return_index=True)
        coords, cidx = shapely.get_coordinates(rings, return_index=True)
        same = cidx[:-1] == cidx[1:]
        edges = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        edge_owner = owner[cidx[:-1][same]]
        (s2, e2), dist = STRtree(edges).query_nearest(
            points[rest], max_distance=tol, return_distance=True, all_matches=False
        )
        idx[rest[s2]] = edge_owner[e2]
        d[rest[s2]] = dist
    return idx, d


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
    cgeom = to_metric(communes, metric_crs)
    cidx, cdist = _nearest(cgeom, pieces.mid, tol)
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

    # partner unit (and Lao district) of each piece
    unit_code = np.full(len(pieces.mid), None, dtype=object)
    unit_name = np.full(len(pieces.mid), None, dtype=object)
    for iso3, units in partners.items():
        sel = np.flatnonzero(pieces.partner_iso3 == iso3)
        if not len(sel):
            continue
        _, code_f, name_f = PARTNER_UNITS[iso3]
        uidx, _ = _nearest(to_metric(units, metric_crs), pieces.mid[sel], tol)
        good = uidx >= 0
        unit_code[sel[good]] = units[code_f].to_numpy()[uidx[good]]
        unit_name[sel[good]] = units[name_f].to_numpy()[uidx[good]]
    dist_code = np.full(len(pieces.mid), None, dtype=object)
    dist_name = np.full(len(pieces.mid), None, dtype=object)
    if lao_districts is not None:
        sel = np.flatnonzero(pieces.partner_iso3 == "LAO")
        didx, _ = _nearest(to_metric(lao_districts, metric_crs), pieces.mid[sel], tol)
        good = didx >= 0
        dist_code[sel[good]] = lao_districts["shape_id"].to_numpy()[didx[good]]
        dist_name[sel[good]] = lao_districts["name"].to_numpy()[didx[good]]

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
    if not rows:
        cols = [
            "segment_id",
            *commune_fields,
            "partner_iso3",
            "partner_unit_code",
            "partner_unit_name",
            "partner_district_code",
            "partner_district_name",
            "length_km",
        ]
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    out = gpd.GeoDataFrame(rows, geometry=list(to_wgs84(_as_multi_lines(geoms), metric_crs)), crs=WGS84)
    return out


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


# --------------------------------------------------------------------------- place matching


def _clean_place(text) -> str:
    """'Hoành Mô (thôn Đồng Mô)' -> 'Hoành Mô'; 'A Ngo (thôn La Lay) per x' -> 'A Ngo'."""
    if not isinstance(text, str):
        return ""
    import re

    t = re.sub(r"\s*[\(\[].*?[\)\]]", "", text)
    t = re.split(r"\s+(?:per|or)\s+|\s+-\s+|\?", t)[0]
    return t.strip()


def match_commune_2009(communes: gpd.GeoDataFrame, province: str, district, commune) -> tuple[int | None, str]:
    """Row index in communes_2009 of a pre-2025 commune named in free text, with a reason if none."""
    pkey = fold(_clean_place(province))
    in_prov = communes.index[communes["_fprov"] == pkey]
    if not len(in_prov):
        return None, f"province {province!r} not found among pre-2025 provinces"
    ckey = fold(_clean_place(commune))
    if not ckey:
        return None, "the source names no commune"
    cands = [i for i in in_prov if communes.at[i, "_fname"] == ckey]
    if len(cands) > 1:  # "Nậm Cắn" vs "Nậm Càn": the same folded, an exact name decides
        exact = [i for i in cands if communes.at[i, "name"].lower() == _clean_place(commune).lower()]
        cands = exact or cands
    dkey = fold(_clean_place(district))
    if len(cands) > 1 and dkey:
        narrowed = [i for i in cands if communes.at[i, "_fdist"] == dkey]
        cands = narrowed or cands
    if len(cands) == 1:
        return cands[0], ""
    if not cands:
        return None, f"no pre-2025 commune named {_clean_place(commune)!r} in {province}"
    names = ", ".join(f"{communes.at[i, 'name_full']} ({communes.at[i, 'district_name']})" for i in cands)
    return None, f"{_clean_place(commune)!r} is ambiguous in {province}: {names}"


def prepare_match_keys(communes_2009: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    c = communes_2009.copy()
    c["_fprov"] = [fold(v) for v in c["province_name"]]
    c["_fdist"] = [fold(v) for v in c["district_name"]]
    c["_fname"] = [fold(v) for v in c["name"]]
    return c


def _join_units(points_m: np.ndarray, units: gpd.GeoDataFrame, units_m: np.ndarray, tol: float) -> np.ndarray:
    """For each point, the row of the unit containing it, else the nearest within tol (-1 if none)."""
    idx, _ = _nearest(units_m, points_m, tol)
    return idx


NO_CODED_2009 = "no coded pre-2025 communes in this pack"


def place_points(
    pts: gpd.GeoDataFrame,
    *,
    communes_2009: gpd.GeoDataFrame | None,
    communes_2025: gpd.GeoDataFrame | None,
    seats_2025: gpd.GeoDataFrame | None,
    segments_2009: gpd.GeoDataFrame | None,
    metric_crs: str,
    tol: float,
    derive_missing: bool,
    label: str,
    id_field: str,
    rep: DeriveReport,
    communes_gb: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Fill location fields of gates or markers.

    Points with a source coordinate are `published`. Without one (and if derive_missing), the
    location is derived as the point of the commune's border segments nearest its seat, flagged
    `derived`; when that cannot be done the geometry stays empty and `unplaced_reason` says why.
    Every placed point is then joined to the pre-2025 and 2025 communes that hold it.

    Any commune layer may be None (a pack without it, e.g. one from `geoborder fetch`): without
    communes_2009 nothing is derived (the reason says so) and published points are joined to the
    commune layers there are; without it, communes_gb (names only) gives commune_name_2009.
    """
    pts = pts.copy()
    can_derive = communes_2009 is not None and segments_2009 is not None
    if communes_2009 is not None:
        c09 = prepare_match_keys(communes_2009)
        c09_m = to_metric(communes_2009, metric_crs)
    c25_m = to_metric(communes_2025, metric_crs) if communes_2025 is not None else None
    seats_m = to_metric(seats_2025, metric_crs) if seats_2025 is not None else np.array([], dtype=object)
    seat_tree = STRtree(seats_m)
    if can_derive:
        seg_m = to_metric(segments_2009, metric_crs) if len(segments_2009) else np.array([], dtype=object)
        seg_by_commune = {
            code: np.flatnonzero(segments_2009["commune_code"].to_numpy() == code)
            for code in set(segments_2009["commune_code"])
        }

    geoms = np.asarray(pts.geometry.values, dtype=object).copy()
    geoms_m = np.full(len(pts), None, dtype=object)
    has = ~shapely.is_missing(geoms)
    if has.any():
        geoms_m[has] = reproject(geoms[has], WGS84, metric_crs)
    quality = np.where(has, "published", None).astype(object)
    method = np.where(has, "coordinates given by the source", None).astype(object)
    reason = np.full(len(pts), None, dtype=object)
    code09 = np.full(len(pts), None, dtype=object)

    def derive_one(row) -> tuple[int | None, object, str | None, str | None]:
        """(row in communes_2009, metric point or None, method, reason) for one source row."""
        how = None
        if not can_derive:
            return (
                None,
                None,
                None,
                (NO_CODED_2009 if derive_missing else "the source gives only the place, not a position"),
            )
        ci, why = match_commune_2009(c09, row["vn_province"], row.get("vn_district"), row.get("vn_commune"))
        if ci is None and not _clean_place(row.get("vn_commune")) and "name_vi" in row.index:
            # no commune given: a commune of the same district named like the gate holds it
            ci2, _ = match_commune_2009(c09, row["vn_province"], row.get("vn_district"), row["name_vi"])
            if ci2 is not None and fold(_clean_place(row.get("vn_district"))) in ("", c09.at[ci2, "_fdist"]):
                ci, why, how = ci2, "", "commune named like the gate"
        if ci is None:
            return None, None, None, why
        if not derive_missing:
            return ci, None, None, "the source gives only the place, not a position"
        code = c09.at[ci, "commune_code"]
        segs = seg_by_commune.get(code)
        if segs is None or not len(segs):
            return ci, None, None, f"commune {c09.at[ci, 'name_full']} ({code}) has no border segment"
        poly = c09_m[ci]
        inside = seat_tree.query(poly, predicate="contains")
        if len(inside):
            seat = seats_m[int(sorted(inside)[0])]
            anchor = "the 2025 commune seat inside it"
        else:
            seat = shapely.point_on_surface(poly)
            anchor = "a point inside the commune (no seat in it)"
        line = shapely.union_all(seg_m[segs])
        point = shapely.line_interpolate_point(line, shapely.line_locate_point(line, seat))
        prefix = f"{how}; " if how else ""
        return ci, point, f"{prefix}point of the border in commune {c09.at[ci, 'name_full']} nearest {anchor}", None

    for i in np.flatnonzero(~has):
        ci, point, how, why = derive_one(pts.iloc[i])
        if ci is not None:
            code09[i] = c09.at[ci, "commune_code"]
        if point is None:
            reason[i] = why
            continue
        geoms_m[i], method[i], quality[i] = point, how, "derived"

    if derive_missing and can_derive:
        # how good is the derivation? Derive the points that have a published coordinate too,
        # as if they had none, and measure how far the derived point falls from the published one
        check = {}
        for i in np.flatnonzero(has):
            _, point, _, _ = derive_one(pts.iloc[i])
            if point is not None:
                check[str(pts[id_field].iat[i])] = round(float(shapely.distance(point, geoms_m[i])) / 1000, 2)
        rep.measures[f"{label}_derivation_error_km"] = check

    placed = np.flatnonzero(~shapely.is_missing(geoms_m))
    out_fields = {
        k: np.full(len(pts), None, dtype=object)
        for k in (
            "commune_name_2009",
            "commune_code_2025",
            "commune_name_2025",
            "province_code_2025",
            "province_name_2025",
        )
    }
    gb_names = np.full(len(pts), None, dtype=object)
    if len(placed):
        none = np.full(len(placed), -1)
        i09 = _join_units(geoms_m[placed], communes_2009, c09_m, tol) if communes_2009 is not None else none
        i25 = _join_units(geoms_m[placed], communes_2025, c25_m, tol) if communes_2025 is not None else none
        if communes_2009 is None and communes_gb is not None:
            igb = _join_units(geoms_m[placed], communes_gb, to_metric(communes_gb, metric_crs), tol)
            gb_names[placed] = [communes_gb["name"].iat[j] if j >= 0 else None for j in igb]
        for k, (j9, j25) in zip(placed, zip(i09, i25)):
            if code09[k] is None and j9 >= 0:
                code09[k] = communes_2009["commune_code"].iat[j9]
            if j25 >= 0:
                out_fields["commune_code_2025"][k] = communes_2025["commune_code"].iat[j25]
                out_fields["commune_name_2025"][k] = communes_2025["name"].iat[j25]
                out_fields["province_code_2025"][k] = communes_2025["province_code"].iat[j25]
                out_fields["province_name_2025"][k] = communes_2025["province_name"].iat[j25]
        geoms[placed] = to_wgs84(geoms_m[placed], metric_crs)
    if communes_2009 is not None:
        names09 = dict(zip(communes_2009["commune_code"], communes_2009["name_full"]))
        out_fields["commune_name_2009"] = np.array([names09.get(c) for c in code09], dtype=object)
    else:  # names only (geoBoundaries), no code: better than nothing, and the code stays empty
        out_fields["commune_name_2009"] = gb_names
    pts["commune_code_2009"] = code09
    for k, v in out_fields.items():
        pts[k] = v
    pts["location_quality"] = quality
    pts["location_method"] = method
    pts["unplaced_reason"] = reason
    pts = pts.set_geometry(gpd.GeoSeries(geoms, index=pts.index, crs=WGS84))
    for i in np.flatnonzero(shapely.is_missing(geoms)):
        rep.unplaced.append({"layer": label, "id": pts[id_field].iat[i], "reason": reason[i]})
    n_derived = int((quality == "derived").sum())
    rep.measures[f"{label}_published"] = int((quality == "published").sum())
    rep.measures[f"{label}_derived"] = n_derived
    rep.measures[f"{label}_unplaced"] = int(shapely.is_missing(geoms).sum())
    return pts
