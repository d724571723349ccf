"""What `geoborder fetch` reads: the sources, the OSM tags kept, and the options of one fetch."""

from __future__ import annotations

from dataclasses import dataclass

WGS84 = "EPSG:4326"
METRIC = "EPSG:3405"

GB_LEVELS: tuple[tuple[str, int], ...] = (
    ("VNM", 1),
    ("VNM", 2),
    ("VNM", 3),
    ("LAO", 1),
    ("LAO", 2),
    ("CHN", 1),
    ("CHN", 2),
    ("CHN", 3),
    ("KHM", 1),
    ("KHM", 2),
)
# OSM extracts by country (Geofabrik names). China's (~1.3 GB) is not fetched by default: the
# Vietnamese extract holds both sides of the VN-CN line near it.
OSM_EXTRACTS = {
    "VNM": "vietnam-latest.osm.pbf",
    "LAO": "laos-latest.osm.pbf",
    "KHM": "cambodia-latest.osm.pbf",
    "CHN": "china-latest.osm.pbf",
}
DEFAULT_OSM = ("VNM", "LAO", "KHM")
ISO2 = {"VNM": "VN", "LAO": "LA", "CHN": "CN", "KHM": "KH"}
ISO3 = {v: k for k, v in ISO2.items()}
PARTNERS = ("LAO", "CHN", "KHM")

OSM_LICENCE = "ODbL 1.0"
OSM_ATTRIBUTION = "(c) OpenStreetMap contributors"

# highway=* -> (loai_duong, cap_duong). Vietnamese OSM practice: trunk = quốc lộ, primary = đường
# tỉnh, secondary = đường huyện (wiki.openstreetmap.org/wiki/Vi:Vietnam/Highway tagging).
ROAD_CLASSES = {
    "motorway": ("Đường cao tốc", "Quốc Gia"),
    "trunk": ("Quốc lộ", "Quốc Gia"),
    "primary": ("Đường tỉnh", "Cấp Tỉnh"),
    "secondary": ("Đường huyện", "Cấp Huyện"),
    "tertiary": ("Đường xã", "Cấp Xã"),
    "unclassified": ("Đường địa phương", "Khác"),
}
PLACE_KINDS = ("city", "town", "village", "hamlet", "isolated_dwelling")
GATE_MAX_KM = 10.0  # a border_control node farther than this from the land border is not a gate
MARKER_MAX_KM = 2.0  # a boundary stone farther than this from the border is not a border marker
# Copernicus DEM GLO-30: public COG tiles of 1°x1° on AWS (no account needed)
COPERNICUS_DEM_URL = "https://copernicus-dem-30m.s3.amazonaws.com"
PARTNER_MAX_KM = 2.0  # a VN boundary way within this of a partner unit borders that partner


@dataclass
class FetchOptions:
    geoboundaries_url: str
    osm_url: str
    levels: tuple[tuple[str, int], ...] = GB_LEVELS
    osm_extracts: tuple[str, ...] = DEFAULT_OSM
    simplified: bool = True
    road_classes: tuple[str, ...] = tuple(ROAD_CLASSES)
    with_railways: bool = True
    dem: bool = False  # fetch --dem: Copernicus GLO-30 tiles over the border provinces
    dem_url: str = COPERNICUS_DEM_URL
    dem_bbox: tuple[float, float, float, float] | None = None  # lon/lat; default: the border provinces'
