"""The pack files made of OpenStreetMap: border_lines_osm, roads_national, places_geonames,
gates_curated.csv and markers_published.csv (placed with the geoBoundaries units)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoborder.core.files import sha256_file
from geoborder.core.text import _ascii
from geoborder.sources.fetch.geoboundaries import Layers
from geoborder.sources.fetch.manifest import Manifest, PackFile
from geoborder.sources.fetch.options import (
    GATE_MAX_KM,
    ISO2,
    MARKER_MAX_KM,
    OSM_ATTRIBUTION,
    OSM_LICENCE,
    PARTNER_MAX_KM,
    PARTNERS,
    PLACE_KINDS,
    ROAD_CLASSES,
    WGS84,
    FetchOptions,
)
from geoborder.sources.fetch.osm import OsmData
from geoborder.sources.fetch.spatial import Units, concat_units, osm_name, to_metric, write_csv, write_geojson

GATE_COLUMNS = [
    "name_vi",
    "name_ascii",
    "partner_gate",
    "partner_country_iso3",
    "partner_admin1",
    "partner_admin2",
    "class",
    "vn_province",
    "vn_district",
    "vn_commune",
    "lat",
    "lon",
    "coord_source",
    "fact_source",
    "confidence",
    "notes",
]
MARKER_COLUMNS = [
    "marker",
    "border",
    "vn_province",
    "vn_district",
    "vn_commune",
    "lat",
    "lon",
    "source",
    "confidence",
    "notes",
]


def write_osm_files(
    pack: Path, osm: OsmData, gb: Layers, sources: list[tuple[str, str, str]], opts: FetchOptions, man: Manifest, emit
):
    """border_lines_osm, roads_national, places_geonames, gates_curated.csv, markers_published.csv."""
    w = _OsmFiles(pack, osm, gb, sources, man, emit)
    w.border_lines()
    w.roads(opts)
    w.places()
    w.gates()
    w.markers()


class _OsmFiles:
    """One fetch's OSM objects, the geoBoundaries units that place them, and the manifest."""

    def __init__(self, pack: Path, osm: OsmData, gb: Layers, sources: list[tuple[str, str, str]], man: Manifest, emit):
        self.pack, self.osm, self.man, self.emit = pack, osm, man, emit
        self.urls = [u for _, u, _ in sources]
        self.date = max(d for _, _, d in sources)
        self.attribution = f"{OSM_ATTRIBUTION}, extracts {', '.join(n for n, _, _ in sources)}"
        self.partner1 = Units(concat_units([gb[(i, 1)] for i in PARTNERS if (i, 1) in gb]))
        self.partner2 = Units(concat_units([gb[(i, 2)] for i in PARTNERS if (i, 2) in gb]))
        self.vn = {lvl: Units(concat_units([gb[("VNM", lvl)]]) if ("VNM", lvl) in gb else None) for lvl in (1, 2, 3)}
        self.border_m = np.array([], dtype=object)
        self.border_pair: list[str] = []

    def record(self, file, what, rows, notes=()):
        self.man.put(
            PackFile(
                file=file,
                what=what,
                source="OpenStreetMap",
                urls=self.urls,
                licence=OSM_LICENCE,
                attribution=self.attribution,
                date=self.date,
                sha256=sha256_file(self.pack / file),
                rows=rows,
                notes=list(notes),
            )
        )
        self.emit(f"  wrote {file} ({rows} features)")

    def missing(self, file: str, layer: str, why: str):
        self.man.missing.append({"file": file, "layers": [layer], "why": why})

    # ---- border lines

    def border_lines(self):
        """Ways of VN's admin_level=2 relation shared with a partner's, or, when the partner's
        relation is not in the extracts, ways within PARTNER_MAX_KM of a partner unit."""
        rows, notes = [], []
        for wid, w in self.osm.border_ways.items():
            if "VNM" not in w["countries"] or w["tags"].get("maritime") == "yes":
                continue
            shared = sorted(w["countries"] & set(PARTNERS))
            line = shapely.linestrings(w["coords"])
            if shared:
                partner, how = shared[0], "relation"
            else:
                idx, _ = self.partner1.nearest(
                    to_metric([shapely.line_interpolate_point(line, 0.5, normalized=True)]), PARTNER_MAX_KM * 1000
                )
                if idx[0] < 0:
                    continue  # coastline or a way of VN's outline away from any land neighbour
                partner, how = self.partner1.gdf["_iso3"].iat[idx[0]], "nearest partner unit"
            rows.append({"way": wid, "partner": partner, "how": how, "geometry": line})
        if not rows:
            self.missing(
                "border_lines_osm.geojson",
                "border_lines",
                "no admin_level=2 boundary way of Vietnam found in the OSM extracts",
            )
            return
        df = pd.DataFrame(rows)
        out = []
        for partner, grp in df.groupby("partner"):
            merged = shapely.line_merge(shapely.multilinestrings(list(grp["geometry"])))
            out.append(
                {
                    "pair": f"VNM-{partner}",
                    "osm_ways": len(grp),
                    "assigned_by": ", ".join(sorted(set(grp["how"]))),
                    "geometry": merged,
                }
            )
        g = gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
        write_geojson(g, self.pack / "border_lines_osm.geojson")
        lacking = sorted({"VNM-LAO", "VNM-CHN", "VNM-KHM"} - set(g["pair"]))
        if lacking:
            notes.append(f"no line for {lacking} in the extracts fetched")
        if "VNM" not in self.osm.countries_found:
            notes.append("Vietnam's admin_level=2 relation was not in the extracts")
        self.record(
            "border_lines_osm.geojson",
            "Vietnam's land boundary per partner country (ways of the admin_level=2 relations)",
            len(g),
            notes,
        )
        self.border_m = to_metric(g.geometry.values)
        self.border_pair = list(g["pair"])

    def near_border(self, pts_m):
        """Distance (m) of each point to the nearest border line, and that line's pair."""
        if not len(self.border_m) or not len(pts_m):
            return np.full(len(pts_m), np.inf), [None] * len(pts_m)
        tree = shapely.STRtree(self.border_m)
        (pi, li), d = tree.query_nearest(pts_m, return_distance=True, all_matches=False)
        dist = np.full(len(pts_m), np.inf)
        pair = [None] * len(pts_m)
        dist[pi] = d
        for p, l_ in zip(pi, li):
            pair[p] = self.border_pair[l_]
        return dist, pair

    def vn_units(self, pts_m):
        """The geoBoundaries Vietnamese province, district and commune holding each point."""
        out = {}
        for lvl, col in ((1, "vn_province"), (2, "vn_district"), (3, "vn_commune")):
            u = self.vn[lvl]
            if u is None:
                out[col] = [None] * len(pts_m)
                continue
            idx, _ = u.nearest(pts_m, 5000)
            out[col] = u.value(idx, "shapeName")
        return out

    # ---- roads and places

    def roads(self, opts: FetchOptions):
        road_rows = []
        for r in self.osm.roads:
            t = r["tags"]
            if r["rail"]:
                kind, cls = "Đường sắt", "Đường sắt"
            else:
                base = t["highway"][:-5] if t["highway"].endswith("_link") else t["highway"]
                kind, cls = ROAD_CLASSES.get(base, (f"Đường khác ({base})", "Khác"))
            road_rows.append(
                {
                    "gid": r["id"],
                    "ten": osm_name(t) or t.get("ref"),
                    "loai_duong": kind,
                    "cap_duong": cls,
                    "ref": t.get("ref"),
                    "osm_highway": t.get("highway") or "",
                    "osm_id": f"way/{r['id']}",
                    "geometry": shapely.linestrings(r["coords"]),
                }
            )
        if not road_rows:
            self.missing("roads_national.geojson", "roads", "no road in the extracts")
            return
        g = gpd.GeoDataFrame(road_rows, geometry="geometry", crs=WGS84).sort_values("gid", kind="stable")
        g["chieu_dai"] = np.round(shapely.length(to_metric(g.geometry.values)), 1)
        write_geojson(g, self.pack / "roads_national.geojson")
        self.record(
            "roads_national.geojson",
            "roads (highway=" + "|".join(opts.road_classes) + ") and railways",
            len(g),
            [
                "loai_duong / cap_duong: OSM highway class read with the Vietnamese convention "
                "trunk = quốc lộ, primary = đường tỉnh, secondary = đường huyện; osm_highway keeps the tag",
                "gid is the OSM way id",
            ],
        )

    def places(self):
        places = self.osm.places
        if not places:
            self.missing("places_geonames.geojson", "places", "no named place node")
            return
        pts = shapely.points([(p["lon"], p["lat"]) for p in places])
        idx_vn, _ = self.vn[1].nearest(to_metric(pts), 1.0) if self.vn[1] else (np.full(len(pts), -1), None)
        idx_p, _ = self.partner1.nearest(to_metric(pts), 1.0)
        rows = []
        for k, p in enumerate(places):
            t = p["tags"]
            if idx_vn[k] >= 0:
                cc = "VN"
            elif idx_p[k] >= 0:
                cc = ISO2[self.partner1.gdf["_iso3"].iat[idx_p[k]]]
            else:
                cc = ISO2[p["extract"]]
            name = osm_name(t)
            pop = t.get("population", "")
            rows.append(
                {
                    "geonameid": f"osm:node/{p['id']}",
                    "name": name,
                    "asciiname": t.get("name:en") or _ascii(name).title(),
                    "fcode": t["place"],
                    "cc": cc,
                    "population": int(pop) if str(pop).isdigit() else None,
                    "geometry": shapely.points(p["lon"], p["lat"]),
                }
            )
        g = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84).drop_duplicates("geonameid")
        write_geojson(g, self.pack / "places_geonames.geojson")
        self.record(
            "places_geonames.geojson",
            "settlements (place=" + "|".join(PLACE_KINDS) + ", named nodes)",
            len(g),
            [
                "not GeoNames: geonameid holds the OSM node id, fcode the place=* value, cc the country "
                "whose unit holds the point; population only where OSM has one; no elevation (dem)"
            ],
        )

    # ---- gates and markers

    def gates(self):
        """border_control on the Vietnamese side, near the land border."""
        gates = self.osm.gates
        if not gates:
            self.missing(
                "gates_curated.csv",
                "gates",
                "no barrier=border_control in the extracts; the curated list (classes, partner gates) has no open source",
            )
            return
        pts_m = to_metric(shapely.points([(x["lon"], x["lat"]) for x in gates]))
        dist, pair = self.near_border(pts_m)
        inside_vn, _ = self.vn[1].nearest(pts_m, 200.0) if self.vn[1] else (np.zeros(len(pts_m)), None)
        # without Vietnam's units the side of the border cannot be told: every point near it is kept
        keep = [
            k
            for k in range(len(gates))
            if (not len(self.border_m) or dist[k] <= GATE_MAX_KM * 1000) and inside_vn[k] >= 0
        ]
        p1, _ = self.partner1.nearest(pts_m, 30_000)
        p2, _ = self.partner2.nearest(pts_m, 30_000)
        units = self.vn_units(pts_m)
        rows = [self._gate_row(gates[k], pair[k], p1[k], p2[k], {c: v[k] for c, v in units.items()}) for k in keep]
        df = pd.DataFrame(rows, columns=GATE_COLUMNS)
        write_csv(df, self.pack / "gates_curated.csv")
        self.record(
            "gates_curated.csv",
            f"border gates: barrier=border_control on the Vietnamese side within {GATE_MAX_KM:g} km of the land border",
            len(df),
            [
                f"not the curated list: no gate class (international / main / secondary), no partner gate name; "
                f"{len(gates) - len(keep)} border_control points dropped (partner side, or farther than "
                f"{GATE_MAX_KM:g} km from the border)",
                "vn_province / vn_district / vn_commune: geoBoundaries VNM units (pre-2025 names) holding the point",
            ],
        )

    def _gate_row(self, x: dict, pair: str | None, p1: int, p2: int, units: dict) -> dict:
        t = x["tags"]
        ref = f"{x['type']}/{x['id']}"
        name = osm_name(t) or f"(không tên) OSM {ref}"
        partner = (pair or "").split("-")[-1] or (
            self.partner1.gdf["_iso3"].iat[p1] if p1 >= 0 and self.partner1.gdf is not None else ""
        )
        return {
            "name_vi": name,
            "name_ascii": _ascii(name),
            "partner_gate": None,
            "partner_country_iso3": partner,
            "partner_admin1": self.partner1.value([p1], "shapeName")[0],
            "partner_admin2": self.partner2.value([p2], "shapeName")[0],
            "class": "unknown (OpenStreetMap barrier=border_control; the class is not in OSM)",
            **units,
            "lat": round(x["lat"], 7),
            "lon": round(x["lon"], 7),
            "coord_source": f"OpenStreetMap {ref}",
            "fact_source": f"OpenStreetMap {ref}",
            "confidence": "osm",
            "notes": "; ".join(f"{a}={b}" for a, b in sorted(t.items()) if a not in ("barrier", "name", "name:vi"))[
                :300
            ],
        }

    def markers(self):
        markers = self.osm.markers
        if not markers:
            self.missing(
                "markers_published.csv", "markers", "no boundary=marker / historic=boundary_stone in the extracts"
            )
            return
        pts_m = to_metric(shapely.points([(x["lon"], x["lat"]) for x in markers]))
        dist, pair = self.near_border(pts_m)
        keep = [k for k in range(len(markers)) if not len(self.border_m) or dist[k] <= MARKER_MAX_KM * 1000]
        units = self.vn_units(pts_m)
        rows = []
        for k in keep:
            x = markers[k]
            t = x["tags"]
            border = f"VN-{ISO2[pair[k].split('-')[1]]}" if pair[k] and pair[k].split("-")[1] in ISO2 else ""
            rows.append(
                {
                    "marker": t.get("ref") or t.get("name") or f"OSM node/{x['id']}",
                    "border": border,
                    "vn_province": units["vn_province"][k],
                    "vn_district": units["vn_district"][k],
                    "vn_commune": units["vn_commune"][k],
                    "lat": round(x["lat"], 7),
                    "lon": round(x["lon"], 7),
                    "source": f"OpenStreetMap node/{x['id']}",
                    "confidence": "osm",
                    "notes": "; ".join(f"{a}={b}" for a, b in sorted(t.items()) if a != "ref")[:300],
                }
            )
        df = pd.DataFrame(rows, columns=MARKER_COLUMNS)
        write_csv(df, self.pack / "markers_published.csv")
        self.record(
            "markers_published.csv",
            f"border markers: boundary=marker / historic=boundary_stone within {MARKER_MAX_KM:g} km of the land border",
            len(df),
            ["marker: the OSM ref (else name, else node id); border: the nearest border line's pair"],
        )
