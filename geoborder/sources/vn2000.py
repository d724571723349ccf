"""The CRS of a province's file: declared, given, or told from its coordinates; VN-2000 / TM-3
with each province's central meridian (Circular 973/2001/TT-TCĐC)."""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

from geoborder.core.errors import DataImportError
from geoborder.core.text import fold

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


def feature_bounds(gdf) -> tuple[float, float, float, float] | None:
    """lon0, lat0, lon1, lat1 (or x, y in the file's units) of the non-empty geometries; None for none."""
    g = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if not len(g):
        return None
    x0, y0, x1, y1 = (float(v) for v in g.total_bounds)
    return (x0, y0, x1, y1)


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
    b = feature_bounds(gdf)
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
