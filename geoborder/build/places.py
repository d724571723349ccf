"""Gates and markers: place matching (free-text pre-2025 names -> communes), the derived position
of a gate a source gives no coordinates for, and the communes holding every placed point."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

from geoborder.build.geom import WGS84, nearest, to_metric, to_wgs84
from geoborder.build.report import DeriveReport
from geoborder.core.crs import reproject
from geoborder.core.text import fold

NO_CODED_2009 = "no coded pre-2025 communes in this pack"
ONLY_PLACE = "the source gives only the place, not a position"
OUT_FIELDS = ("commune_name_2009", "commune_code_2025", "commune_name_2025", "province_code_2025", "province_name_2025")


def _clean_place(text) -> str:
    """'Hoành Mô (thôn Đồng Mô)' -> 'Hoành Mô'; 'A Ngo (thôn La Lay) per x' -> 'A Ngo'."""
    if not isinstance(text, str):
        return ""
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
    idx, _ = nearest(units_m, points_m, tol)
    return idx


class _Deriver:
    """The position of a point known only by its commune: the point of the commune's border
    segments nearest the commune seat (or a point inside the commune when it has no seat)."""

    def __init__(self, communes_2009, seats_2025, segments_2009, metric_crs: str, derive_missing: bool):
        self.derive_missing = derive_missing
        self.can_derive = communes_2009 is not None and segments_2009 is not None
        if communes_2009 is not None:
            self.c09 = prepare_match_keys(communes_2009)
            self.c09_m = to_metric(communes_2009, metric_crs)
        self.seats_m = to_metric(seats_2025, metric_crs) if seats_2025 is not None else np.array([], dtype=object)
        self.seat_tree = STRtree(self.seats_m)
        if self.can_derive:
            self.seg_m = to_metric(segments_2009, metric_crs) if len(segments_2009) else np.array([], dtype=object)
            self.seg_by_commune = {
                code: np.flatnonzero(segments_2009["commune_code"].to_numpy() == code)
                for code in set(segments_2009["commune_code"])
            }

    def commune_of(self, row) -> tuple[int | None, str, str | None]:
        """(row in communes_2009, reason if none, how it was found if not by its commune name)."""
        c09 = self.c09
        ci, why = match_commune_2009(c09, row["vn_province"], row.get("vn_district"), row.get("vn_commune"))
        if ci is None and not _clean_place(row.get("vn_commune")) and "name_vi" in row.index:
            # no commune given: a commune of the same district named like the gate holds it
            ci2, _ = match_commune_2009(c09, row["vn_province"], row.get("vn_district"), row["name_vi"])
            if ci2 is not None and fold(_clean_place(row.get("vn_district"))) in ("", c09.at[ci2, "_fdist"]):
                return ci2, "", "commune named like the gate"
        return ci, why, None

    def derive_one(self, row) -> tuple[int | None, object, str | None, str | None]:
        """(row in communes_2009, metric point or None, method, reason) for one source row."""
        if not self.can_derive:
            return None, None, None, (NO_CODED_2009 if self.derive_missing else ONLY_PLACE)
        ci, why, how = self.commune_of(row)
        if ci is None:
            return None, None, None, why
        if not self.derive_missing:
            return ci, None, None, ONLY_PLACE
        c09 = self.c09
        code = c09.at[ci, "commune_code"]
        segs = self.seg_by_commune.get(code)
        if segs is None or not len(segs):
            return ci, None, None, f"commune {c09.at[ci, 'name_full']} ({code}) has no border segment"
        poly = self.c09_m[ci]
        inside = self.seat_tree.query(poly, predicate="contains")
        if len(inside):
            seat = self.seats_m[int(sorted(inside)[0])]
            anchor = "the 2025 commune seat inside it"
        else:
            seat = shapely.point_on_surface(poly)
            anchor = "a point inside the commune (no seat in it)"
        line = shapely.union_all(self.seg_m[segs])
        point = shapely.line_interpolate_point(line, shapely.line_locate_point(line, seat))
        prefix = f"{how}; " if how else ""
        return ci, point, f"{prefix}point of the border in commune {c09.at[ci, 'name_full']} nearest {anchor}", None


def _join_placed(geoms_m, code09, communes_2009, c09_m, communes_2025, communes_gb, metric_crs: str, tol: float):
    """The 2025 (and pre-2025) communes holding each placed point; fills code09 in place.

    Returns the output fields (OUT_FIELDS, with commune_name_2009 from geoBoundaries names when
    there are no coded pre-2025 communes) and the placed points in EPSG:4326 (None elsewhere)."""
    n = len(geoms_m)
    out_fields = {k: np.full(n, None, dtype=object) for k in OUT_FIELDS}
    gb_names = np.full(n, None, dtype=object)
    geoms = np.full(n, None, dtype=object)
    placed = np.flatnonzero(~shapely.is_missing(geoms_m))
    if len(placed):
        none = np.full(len(placed), -1)
        pts = geoms_m[placed]
        i09 = none if communes_2009 is None else _join_units(pts, communes_2009, c09_m, tol)
        i25 = (
            none
            if communes_2025 is None
            else _join_units(pts, communes_2025, to_metric(communes_2025, metric_crs), tol)
        )
        if communes_2009 is None and communes_gb is not None:
            igb = _join_units(pts, communes_gb, to_metric(communes_gb, metric_crs), tol)
            gb_names[placed] = [communes_gb["name"].iat[j] if j >= 0 else None for j in igb]
        for k, (j9, j25) in zip(placed, zip(i09, i25)):
            if code09[k] is None and j9 >= 0:
                code09[k] = communes_2009["commune_code"].iat[j9]
            if j25 >= 0:
                for out, src in (("code", "commune_code"), ("name", "name")):
                    out_fields[f"commune_{out}_2025"][k] = communes_2025[src].iat[j25]
                out_fields["province_code_2025"][k] = communes_2025["province_code"].iat[j25]
                out_fields["province_name_2025"][k] = communes_2025["province_name"].iat[j25]
        geoms[placed] = to_wgs84(pts, metric_crs)
    if communes_2009 is not None:
        names09 = dict(zip(communes_2009["commune_code"], communes_2009["name_full"]))
        out_fields["commune_name_2009"] = np.array([names09.get(c) for c in code09], dtype=object)
    else:  # names only (geoBoundaries), no code: better than nothing, and the code stays empty
        out_fields["commune_name_2009"] = gb_names
    return out_fields, geoms


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
    deriver = _Deriver(communes_2009, seats_2025, segments_2009, metric_crs, derive_missing)
    geoms = np.asarray(pts.geometry.values, dtype=object).copy()
    geoms_m = np.full(len(pts), None, dtype=object)
    has = ~shapely.is_missing(geoms)
    if has.any():
        geoms_m[has] = reproject(geoms[has], WGS84, metric_crs)
    quality = np.full(len(pts), None, dtype=object)
    quality[has] = "published"
    method = np.full(len(pts), None, dtype=object)
    method[has] = "coordinates given by the source"
    reason = np.full(len(pts), None, dtype=object)
    code09 = np.full(len(pts), None, dtype=object)

    for i in np.flatnonzero(~has):
        ci, point, how, why = deriver.derive_one(pts.iloc[i])
        if ci is not None:
            code09[i] = deriver.c09.at[ci, "commune_code"]
        if point is None:
            reason[i] = why
            continue
        geoms_m[i], method[i], quality[i] = point, how, "derived"

    if derive_missing and deriver.can_derive:
        # how good is the derivation? Derive the points that have a published coordinate too,
        # as if they had none, and measure how far the derived point falls from the published one
        check = {}
        for i in np.flatnonzero(has):
            _, point, _, _ = deriver.derive_one(pts.iloc[i])
            if point is not None:
                check[str(pts[id_field].iat[i])] = round(float(shapely.distance(point, geoms_m[i])) / 1000, 2)
        rep.measures[f"{label}_derivation_error_km"] = check

    c09_m = deriver.c09_m if communes_2009 is not None else None
    out_fields, placed_geoms = _join_placed(
        geoms_m, code09, communes_2009, c09_m, communes_2025, communes_gb, metric_crs, tol
    )
    placed = ~shapely.is_missing(geoms_m)
    geoms[placed] = placed_geoms[placed]
    pts["commune_code_2009"] = code09
    for k, v in out_fields.items():
        pts[k] = v
    pts["location_quality"] = quality
    pts["location_method"] = method
    pts["unplaced_reason"] = reason
    pts = pts.set_geometry(gpd.GeoSeries(geoms, index=pts.index, crs=WGS84))
    for i in np.flatnonzero(shapely.is_missing(geoms)):
        rep.unplaced.append({"layer": label, "id": pts[id_field].iat[i], "reason": reason[i]})
    rep.measures[f"{label}_published"] = int((quality == "published").sum())
    rep.measures[f"{label}_derived"] = int((quality == "derived").sum())
    rep.measures[f"{label}_unplaced"] = int(shapely.is_missing(geoms).sum())
    return pts
