"""The map of an answer page: a Folium map of a light copy of the features, coloured by kind,
with the border line for context (Leaflet from web/assets.py: nothing from the internet)."""

from __future__ import annotations

import json
import re

import folium
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template
from markupsafe import Markup

from geoborder.core.errors import NotFound
from web.answer_words import KINDS, POINT_KINDS, _kind_word, kind_of, number

from .assets import map_css, map_js

# --------------------------------------------------------------------------- the map

_VIETNAM = (102.1, 8.4, 109.5, 23.4)
_SIMPLIFY_DEG = 0.0005  # ~50 m: the map is for seeing, the JSON has the full geometry


def _light(geom: dict | None, simplify: bool) -> tuple[object | None, dict | None]:
    """(shapely geometry, GeoJSON of it simplified and rounded for the page)."""
    if not geom:
        return None, None
    g = shapely.geometry.shape(geom)
    if g.is_empty:
        return None, None
    light = shapely.simplify(g, _SIMPLIFY_DEG, preserve_topology=True) if simplify and g.geom_type != "Point" else g
    light = shapely.set_precision(light, 1e-5)
    if light.is_empty:
        light = g
    return g, json.loads(shapely.to_geojson(light))


def _label(fc: dict, p: dict, lang: str) -> str:
    """The tooltip of a feature on the map: its name and main figure."""
    name = p.get("name") or p.get("name_vi") or p.get("commune_code") or ""
    q = (fc.get("query") or {}).get("question")
    for key, unit in (
        ("shared_length_km", "km"),
        ("roadless_settlements", ""),
        ("distance_to_road_m", "m"),
        ("distance_m", "m"),
        ("distance_to_border_m", "m"),
    ):
        if p.get(key) is not None and not (
            q == "commune-profile" and key == "distance_to_road_m" and not p.get("role")
        ):
            return f"{name} · {number(p[key], lang)} {unit}".strip()
    return str(name)


class _Script(MacroElement):
    """Page script that runs after the map and its layers exist (rendered as the map's last child)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

    def __init__(self, js: str):
        super().__init__()
        self._name = "AnswerScript"
        self.js = js


_JS = """
(function () {
  var map = %(map)s, groups = [%(groups)s], index = {};
  groups.forEach(function (g) {
    g.eachLayer(function (l) { if (l.feature && l.feature.properties.k != null) index[l.feature.properties.k] = l; });
  });
  map.fitBounds(%(bounds)s, {animate: false, padding: [12, 12], maxZoom: 13});
  L.control.scale({imperial: false, metric: true}).addTo(map);
  map.attributionControl.setPrefix('Leaflet');
  window.geoborderAnswer = {map: map, layers: index};
})();
"""


def _border_context(store, box) -> dict | None:
    """The border line near the answer (simplified, clipped), for context."""
    try:
        bl = store.frame("border_lines")
    except NotFound:
        return None
    if bl is None or not len(bl):
        return None
    geoms = np.asarray(bl.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    if not keep.any():
        return None
    clipped = shapely.set_precision(
        shapely.simplify(shapely.intersection(geoms[keep], box), 0.001, preserve_topology=True), 1e-5
    )
    feats = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": {}}
        for g in clipped
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats} if feats else None


def _style(kind: str):
    colour = KINDS.get(kind, ("", "", "#555555"))[2]
    if kind in POINT_KINDS:
        return lambda f: {
            "color": "#ffffff",
            "weight": 1,
            "fill": True,
            "fillColor": colour,
            "fillOpacity": 0.9,
            "radius": 5,
        }
    if kind == "shared":
        return lambda f: {"color": colour, "weight": 5, "opacity": 0.95}
    if kind == "road":
        return lambda f: {"color": colour, "weight": 2.5, "opacity": 0.9}
    return lambda f: {"color": colour, "weight": 1.2, "fillColor": colour, "fillOpacity": 0.22}


def map_parts(store, fc: dict, lang: str, vendor: str) -> dict:
    """The Folium map of the answer, in the three parts a page needs: header (Leaflet's JS/CSS,
    the map's style), html (the map's div) and script."""
    feats = fc.get("features") or []
    groups: dict[str, list[dict]] = {}
    shapes = []
    many_points = sum(1 for f in feats if (f.get("geometry") or {}).get("type") == "Point") > 2000
    for i, f in enumerate(feats):
        g, light = _light(f.get("geometry"), simplify=True)
        if g is None:
            continue
        shapes.append(g)
        p = f.get("properties") or {}
        kind = kind_of(fc, f)
        groups.setdefault(kind, []).append(
            {"type": "Feature", "geometry": light, "properties": {"k": str(i), "t": _label(fc, p, lang)}}
        )
    origin = (fc.get("query") or {}).get("origin") or {}
    if origin.get("lon") is not None and origin.get("lat") is not None:
        o = shapely.Point(origin["lon"], origin["lat"])
        shapes.append(o)
        name = origin.get("name") or f"{origin['lat']}, {origin['lon']}"
        groups["origin"] = [
            {"type": "Feature", "geometry": json.loads(shapely.to_geojson(o)), "properties": {"t": str(name)}}
        ]
    if shapes:
        west, south, east, north = shapely.GeometryCollection(shapes).bounds
    else:
        west, south, east, north = _VIETNAM
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=7,
        tiles=None,
        width="100%",
        height="62vh",
        control_scale=False,
        min_zoom=4,
        max_zoom=16,
        prefer_canvas=many_points,
    )
    m.default_js = map_js(vendor)
    m.default_css = map_css(vendor)
    pad = 0.3
    border = _border_context(store, shapely.box(west - pad, south - pad, east + pad, north + pad))
    if border is not None:
        fg = folium.FeatureGroup(name=_kind_word("border", lang))
        folium.GeoJson(
            border,
            style_function=lambda f: {"color": KINDS["border"][2], "weight": 2, "opacity": 0.8},
            interactive=False,
        ).add_to(fg)
        fg.add_to(m)
    order = ["commune", "shared", "road", "settlement", "town", "village", "marker", "seat", "gate", "origin"]
    names = []
    for kind in sorted(groups, key=lambda k: order.index(k) if k in order else len(order)):
        fg = folium.FeatureGroup(name=f"{_kind_word(kind, lang)} ({len(groups[kind])})")
        layer = folium.GeoJson(
            {"type": "FeatureCollection", "features": groups[kind]},
            style_function=_style(kind),
            marker=folium.CircleMarker(radius=5) if kind in POINT_KINDS else None,
            tooltip=folium.GeoJsonTooltip(["t"], labels=False),
            name=kind,
        )
        layer.add_to(fg)
        fg.add_to(m)
        names.append(layer.get_name())
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = [[south, west], [north, east]]
    m.add_child(_Script(_JS % {"map": m.get_name(), "groups": ", ".join(names), "bounds": json.dumps(bounds)}))
    fig = m.get_root()
    fig.render()
    header = fig.header.render()
    # folium's page style (html, body at 100 %, no margin) is for a page that is only a map
    header = re.sub(r"<style>\s*html, body \{.*?\}\s*</style>", "", header, flags=re.S)
    script = fig.script.render().replace("</", "<\\/")  # no data can close the script element
    return {
        "header": Markup(header),
        "html": Markup(fig.html.render()),
        "script": Markup(script),
        "legend": [
            {"kind": k, "label": _kind_word(k, lang), "colour": KINDS.get(k, ("", "", "#555555"))[2], "n": len(v)}
            for k, v in groups.items()
        ]
        + (
            [{"kind": "border", "label": _kind_word("border", lang), "colour": KINDS["border"][2], "n": None}]
            if border
            else []
        ),
    }
