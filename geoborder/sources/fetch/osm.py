"""OpenStreetMap extracts (ODbL) as PBF: download, and the objects kept, read with pyosmium."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geoborder.sources.fetch.download import Downloader
from geoborder.sources.fetch.options import ISO3, OSM_EXTRACTS, PLACE_KINDS, FetchOptions


def extract_url(opts: FetchOptions, iso3: str) -> str:
    return f"{opts.osm_url.rstrip('/')}/{OSM_EXTRACTS[iso3]}"


def fetch_extract(dl: Downloader, opts: FetchOptions, iso3: str) -> tuple[Path, dict, str]:
    """The country's extract in the cache, its index record and its URL. Raises FetchError."""
    name = f"OpenStreetMap {iso3} extract"
    url = extract_url(opts, iso3)
    md5 = None
    try:  # extract servers publish <file>.md5; when they do, the download is checked against it
        import requests

        r = dl.session.get(url + ".md5", timeout=dl.timeout)
        if r.status_code == 200 and re.match(r"^[0-9a-f]{32}\b", r.text.strip()):
            md5 = r.text.split()[0]
    except requests.RequestException:
        pass
    path, rec = dl.fetch(url, source=name, expected_md5=md5)
    return path, rec, url


@dataclass
class OsmData:
    roads: list[dict] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    gates: list[dict] = field(default_factory=list)
    markers: list[dict] = field(default_factory=list)
    border_ways: dict[int, dict] = field(default_factory=dict)  # way id -> {coords, countries, tags}
    countries_found: set = field(default_factory=set)
    seen: set = field(default_factory=set)  # ("n" | "w", id): extracts overlap near borders


def read_osm(path: Path, extract_iso3: str, opts: FetchOptions, data: OsmData | None = None) -> OsmData:
    """Roads, places, gates, markers and admin_level=2 boundary ways of one OSM file (pyosmium)."""
    import osmium

    data = data or OsmData()
    way_country = _admin2_ways(path, data)
    classes = set(opts.road_classes)
    for obj in osmium.FileProcessor(str(path)).with_locations():
        t = obj.tags
        if isinstance(obj, osmium.osm.Node):
            if not len(t):
                continue  # most nodes: only a location for the ways
            key = ("n", obj.id)
        elif isinstance(obj, osmium.osm.Way):
            key = ("w", obj.id)
        else:
            continue
        if key in data.seen:  # extracts overlap near borders: keep one copy
            if key[0] == "w" and obj.id in way_country and obj.id in data.border_ways:
                data.border_ways[obj.id]["countries"] |= way_country[obj.id]
            continue
        if obj.is_node():
            _take_node(obj, key, extract_iso3, data)
        else:
            _take_way(obj, key, classes, opts.with_railways, way_country, data)
    return data


def _admin2_ways(path: Path, data: OsmData) -> dict[int, set]:
    """Way id -> the ISO3 codes of the admin_level=2 relations (of the countries we know) it is a
    member of; the countries found go to data.countries_found."""
    import osmium

    way_country: dict[int, set] = {}
    for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION):
        assert isinstance(rel, osmium.osm.Relation)  # the processor reads relations only
        t = rel.tags
        if t.get("boundary") != "administrative" or t.get("admin_level") != "2":
            continue
        iso2 = t.get("ISO3166-1") or t.get("ISO3166-1:alpha2") or ""
        if iso2 not in ISO3:
            continue
        data.countries_found.add(ISO3[iso2])
        for m in rel.members:
            if m.type == "w" and m.role in ("outer", "", "inner"):
                way_country.setdefault(m.ref, set()).add(ISO3[iso2])
    return way_country


def _take_node(obj, key, extract_iso3: str, data: OsmData) -> None:
    """A named place, a border_control or a boundary marker node; any other node is left out."""
    t = obj.tags
    place = t.get("place") in PLACE_KINDS and bool(t.get("name") or t.get("name:vi"))
    gate = t.get("barrier") == "border_control"
    marker = t.get("boundary") == "marker" or t.get("historic") == "boundary_stone"
    if not (place or gate or marker):
        return
    data.seen.add(key)  # only the nodes kept
    lon, lat = obj.location.lon, obj.location.lat
    tags = dict(t)
    if place:
        data.places.append({"id": obj.id, "lon": lon, "lat": lat, "tags": tags, "extract": extract_iso3})
    if gate:
        data.gates.append({"id": obj.id, "type": "node", "lon": lon, "lat": lat, "tags": tags})
    if marker:
        data.markers.append({"id": obj.id, "lon": lon, "lat": lat, "tags": tags})


def _coords_of(w):
    pts = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
    return pts if len(pts) >= 2 else None


def _take_way(obj, key, classes: set, with_railways: bool, way_country: dict[int, set], data: OsmData) -> None:
    """A road of the classes kept (or a railway), a boundary way, or a border_control area."""
    t = obj.tags
    hw = t.get("highway")
    base = hw[:-5] if hw and hw.endswith("_link") else hw
    is_rail = with_railways and t.get("railway") == "rail"
    is_road = bool(hw and ("all" in classes or base in classes))
    if is_road or is_rail or obj.id in way_country or t.get("barrier") == "border_control":
        data.seen.add(key)  # only the ways kept, not every building
    if is_road or is_rail:
        c = _coords_of(obj)
        if c:
            data.roads.append({"id": obj.id, "coords": c, "tags": dict(t), "rail": is_rail and not hw})
    if obj.id in way_country:
        c = _coords_of(obj)
        if c:
            data.border_ways[obj.id] = {"coords": c, "countries": set(way_country[obj.id]), "tags": dict(t)}
    if t.get("barrier") == "border_control":
        c = _coords_of(obj)
        if c:
            x, y = np.mean(np.array(c), axis=0)
            data.gates.append({"id": obj.id, "type": "way", "lon": float(x), "lat": float(y), "tags": dict(t)})
