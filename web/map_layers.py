"""The context layers of a map page, around the choropleth: partner provinces, styled map tiles
(roads, settlements, commune seats), the border line and the border gates.

Only small layers are inline GeoJSON, simplified and clipped to the map's surroundings; the
larger ones are PNG map tiles of the service (geoborder.tiles.render).
"""

from __future__ import annotations

import json
import math
import tomllib
from functools import cache

import branca.element
import folium
import jinja2
import numpy as np
import shapely

from geoborder.build.partner_names import PARTNER_NAMES_PATH, partner_vi_names
from geoborder.core.cache import LRU
from geoborder.core.errors import NotFound
from geoborder.core.tilegrid import MAX_ZOOM
from geoborder.maps.choropleth import Choropleth

from .map_labels import label
from .map_style import (
    BORDER_COLOR,
    GATE_COLORS,
    GATE_OUTLINE,
    GATE_RING,
    LAKE_FILL,
    PARTNER_COLOR,
    PARTNER_FILL,
    RIVER_COLOR,
    TEXT,
    esc,
)


class _Literal:
    """What jinja2 makes of a source without any tag: the text itself, newlines as "\\n" and one
    trailing newline dropped (jinja2's defaults), rendered without compiling anything."""

    __slots__ = ("text",)

    def __init__(self, source: str):
        text = source.replace("\r\n", "\n").replace("\r", "\n")
        self.text = text[:-1] if text.endswith("\n") else text

    def render(self, *args, **kwargs) -> str:
        return self.text


def _element_template(source, *args, **kwargs):
    """branca's Element compiles its text as a jinja2 template, and folium wraps every rendered
    script (each layer's inline GeoJSON, each gate's marker, tooltip and popup) in one: ~500
    compilations, 0.3-0.6 s of a first compare page. A text without a jinja2 tag is the same text
    rendered, so it is kept as it is; any other goes to jinja2 as before."""
    if not args and not kwargs and isinstance(source, str) and not any(t in source for t in ("{{", "{%", "{#")):
        return _Literal(source)
    return jinja2.Template(source, *args, **kwargs)


branca.element.Template = _element_template  # type: ignore[attr-defined,assignment]  # branca's Element(template=...)


# layer, TEXT key, shown at first: drawn by the service as PNG map tiles
TILE_LAYERS = (("roads", "roads", True), ("places", "places", False), ("commune_seats_2025", "seats", False))


def _rounded(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    g = shapely.simplify(geoms, tolerance, preserve_topology=True)
    return shapely.set_precision(g, 1e-4)


_GRID = 0.1  # the clip box's corners, in degrees: maps of nearly the same bounds share one box


def _clip_box(bounds, pad: float):
    """The map's surroundings: its bounds padded by `pad`, widened to the 0.1° grid, so the two
    maps of a compare page (Sơn La 303 and 14) and pages of nearly the same bounds share one box
    and so the context layers held for it (`_held`)."""
    west, south = (math.floor((v - pad) / _GRID) * _GRID for v in bounds[:2])
    east, north = (math.ceil((v + pad) / _GRID) * _GRID for v in bounds[2:])
    return shapely.box(west, south, east, north)


# what the context layers of a map page are made of (simplified shapes, labels, gate rows), held
# per (store, data version, box, tolerance, language ...): computed once per data version for all
# the maps of those surroundings (a page, both maps of a compare page, its other language's page)
def _json_size(value) -> int:
    """The size a held value counts: the length of its JSON (the geometries as GeoJSON already);
    the per-feature simplified shapes (`_simplified`) are bounded by the layers themselves."""
    if isinstance(value, dict) and value and not isinstance(next(iter(value)), str):
        return 0
    return len(json.dumps(value, default=str))


_DATA = LRU(384, max_bytes=16 * 2**20, sizeof=_json_size)  # ~10 entries, ~30 kB of JSON a page


def _held(store, key: tuple, make):
    return _DATA.get_or_make((id(store), store.version, *key), make)


def _simplified(store, layer_id: str, geoms: np.ndarray, which: np.ndarray, tol: float) -> np.ndarray:
    """`geoms[which]` simplified at `tol` (as `_rounded`): each feature simplified once per data
    version and tolerance, whatever the map (the whole Chinese provinces are the page's costliest
    shapes)."""
    done: dict = _held(store, ("simplified", layer_id, tol), dict)
    idx = np.flatnonzero(which)
    todo = [i for i in idx if i not in done]
    if todo:
        done.update(zip(todo, _rounded(geoms[todo], tol)))
    out = np.empty(len(idx), dtype=object)
    out[:] = [done[i] for i in idx]
    return out


def _feature_collection(geoms, props: list[dict]) -> dict:
    feats = []
    for g, p in zip(geoms, props):
        if g is None or g.is_empty:
            continue
        feats.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def _frame_or_none(store, layer_id: str):
    """The layer, or None when the store does not hold it (a store built from a partial pack)."""
    try:
        return store.frame(layer_id)
    except NotFound:
        return None


# the keys of the page's layers in its address (?layers=), shown at first when not given
LAYER_KEYS = (
    "terrain",
    "values",
    "provinces",
    "partners",
    "rivers",
    "roads",
    "places",
    "seats",
    "border",
    "gates",
    "labels",
)
DEFAULT_LAYERS = frozenset({"values", "provinces", "partners", "rivers", "roads", "border", "gates", "labels"})
_TILE_KEYS = {"roads": "roads", "places": "places", "commune_seats_2025": "seats"}


def _on(key: str, shown: frozenset | None) -> bool:
    return key in (DEFAULT_LAYERS if shown is None else shown)


# partner layers: (layer, code column, Vietnamese name source, English name column, kind)
_PARTNER_LAYERS = (
    ("lao_provinces", "iso_code", "province", "name", "partner"),
    ("china_provinces", "code", "name_vi", "name_en", "partner"),
    ("khm_provinces", "iso_code", "name_vi", "name", "partner"),
    ("lao_districts", "name", "district", "name", "district"),
    ("cn_counties", "adcode", "name_vi", "name_en", "district"),
)


@cache
def _lao_district_vi() -> dict[str, str]:
    """Lao district name in the store -> its Vietnamese name (layers/partner_names.toml: `vi`, else
    the border facts' spelling)."""
    with open(PARTNER_NAMES_PATH, "rb") as fh:
        doc = tomllib.load(fh)
    out = {}
    for e in doc.get("district", []):
        vi = next((a[0] for a in e.get("aliases", []) if len(a) > 1 and a[1] == "vi"), None)
        vi = vi or next((a[0] for a in e.get("aliases", []) if len(a) > 1 and a[1] == "facts"), None)
        if e.get("name") and vi:
            out[str(e["name"])] = vi
    return out


def _text(v) -> str | None:
    s = None if v is None else str(v).strip()
    return s if s and s.lower() not in ("nan", "none") else None


def partner_names(gdf, code_col: str, vi_source: str, en_col: str, lang: str) -> list[str]:
    """The names of a partner layer's units in the page's language: on a Vietnamese page the
    Vietnamese spelling of layers/partner_names.toml (Hủa Phăn, Phông Xa Lỳ, Mã Quan) where it
    has one, else the store's name; on an English page the English (romanised) name."""
    en = [_text(v) for v in (gdf[en_col] if en_col in gdf else [None] * len(gdf))]
    fallback = [_text(v) for v in (gdf["name"] if "name" in gdf else [None] * len(gdf))]
    base = [a or b or "" for a, b in zip(en, fallback)]
    if lang != "vi":
        return base
    if vi_source in gdf.columns:
        vi = [_text(v) for v in gdf[vi_source]]
    else:
        names = _lao_district_vi() if vi_source == "district" else partner_vi_names(vi_source)
        vi = [names.get(str(c)) for c in gdf[code_col]]
    return [a or b for a, b in zip(vi, base)]


def _label_point(g, box):
    """Where a unit's name goes: inside the part of it near the map (the polygon itself is not clipped)."""
    x0, y0, x1, y1 = box.bounds
    gx0, gy0, gx1, gy1 = g.bounds
    # a unit inside the box is its own part near the map (no cut of a whole province's outline)
    part = g if x0 <= gx0 and y0 <= gy0 and gx1 <= x1 and gy1 <= y1 else shapely.intersection(g, box)
    if part is None or part.is_empty:
        return None
    if part.geom_type in ("MultiPolygon", "GeometryCollection"):
        polys = [p for p in getattr(part, "geoms", [part]) if p.geom_type == "Polygon"]
        if not polys:
            return None
        part = max(polys, key=lambda p: p.area)
    return part.representative_point()


def _partner_data(store, box, tol: float, lang: str, detail: bool) -> tuple[list, list]:
    """(layer id, district?, GeoJSON) of each partner layer near the map and the labels (with the
    countries'), held per data version and surroundings."""

    def make():
        layers: list[tuple[str, bool, dict]] = []
        labels: list[list] = []
        for layer_id, code_col, vi_source, en_col, kind in _PARTNER_LAYERS:
            gdf = _frame_or_none(store, layer_id)
            district = kind == "district"
            if gdf is None or not len(gdf) or (district and not detail):
                continue
            geoms = np.asarray(gdf.geometry.values, dtype=object)
            keep = shapely.intersects(geoms, box)
            if not keep.any():
                continue
            shapes = _simplified(store, layer_id, geoms, keep, tol * (3 if district else 2))
            names = partner_names(gdf[keep], code_col, vi_source, en_col, lang)
            layers.append(
                (layer_id, district, _feature_collection(shapes, [{"name": n, "layer": layer_id} for n in names]))
            )
            # the name inside the part of the simplified shape near the map (within the tolerance
            # of the unit's own, and far cheaper to cut)
            for g, s, n in zip(geoms[keep], shapes, names):
                p = _label_point(s, box) if n else None
                if p is not None:
                    labels.append(label(n, p.x, p.y, kind, rank=shapely.area(g)))
        labels.extend(_country_labels(store, box, lang))
        return layers, labels

    return _held(store, ("partners", box.bounds, tol, lang, detail), make)


def _partner_units(store, box, tol: float, lang: str, show: bool = True, detail: bool = True):
    """Lao, Chinese and Cambodian provinces near the map, and the Lao districts and Chinese counties
    along the border: whole units (simplified, not clipped to the map's box), named in the page's
    language; the countries named at low zooms. `detail`: with the districts (a province's map;
    the national maps open too far out to show them)."""
    partners = folium.FeatureGroup(name=TEXT[lang]["partners"], show=show)
    layers, labels = _partner_data(store, box, tol, lang, detail)
    for layer_id, district, fc in layers:
        style = (
            {"color": PARTNER_COLOR, "weight": 0.6, "dashArray": "3 3", "fill": False, "opacity": 0.7}
            if district
            else {"color": PARTNER_COLOR, "weight": 1, "fill": True, "fillColor": PARTNER_FILL, "fillOpacity": 0.6}
        )
        folium.GeoJson(
            fc,
            style_function=lambda f, style=style: style,
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
            name=layer_id,
            interactive=not district,
        ).add_to(partners)
    return partners, list(labels)


_COARSE = 0.02  # the shapes the countries' names are placed on (shown at zooms 4-8)


def _china(store, box):
    """China's provinces near the map as one shape (where its name goes): only those the box
    touches, clipped to it simplified (the union of them all costs 0.3-0.5 s)."""
    china = _frame_or_none(store, "china_provinces")
    if china is None or not len(china):
        return None
    geoms = np.asarray(china.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    if not keep.any():
        return None
    return shapely.union_all(shapely.intersection(_simplified(store, "china_provinces", geoms, keep, _COARSE), box))


def _country_labels(store, box, lang: str) -> list[list]:
    """The neighbouring countries' names (Lào, Trung Quốc, Campuchia) at low zooms."""
    out = []
    countries = _frame_or_none(store, "countries")
    name_col = "name_vi" if lang == "vi" else "name_en"
    if countries is not None:
        geoms = np.asarray(countries.geometry.values, dtype=object)
        near = shapely.intersects(geoms, box)
        shapes = _simplified(store, "countries", geoms, near, _COARSE)
        for g, iso3, n in zip(shapes, countries["iso3"].to_numpy()[near], countries[name_col].to_numpy()[near]):
            if str(iso3) == "VNM" or not _text(n):
                continue
            p = _label_point(g, box)
            if p is not None:
                out.append(label(str(n), p.x, p.y, "country"))
    china = _china(store, box)
    if china is not None:
        p = _label_point(china, box)
        if p is not None:
            out.append(label("Trung Quốc" if lang == "vi" else "China", p.x, p.y, "country"))
    return out


def _provinces(store, ch: Choropleth, m: folium.Map, box, tol: float, lang: str, layer_tiles: str, show: bool):
    """The Vietnamese provinces (of the map's vintage) around the map outlined and named, and on the
    border-communes map Vietnam's outline."""
    layer_id = f"provinces_{ch.spec.vintage}"
    gdf = _frame_or_none(store, layer_id)
    fg = folium.FeatureGroup(name=TEXT[lang]["provinces"], show=show)
    labels: list[list] = []
    if gdf is not None and len(gdf):
        folium.TileLayer(
            tiles=layer_tiles.replace("{layer}", layer_id),
            name=layer_id,
            overlay=True,
            control=False,
            opacity=0.7,
            attr="geoborder",
            max_zoom=MAX_ZOOM,
            max_native_zoom=MAX_ZOOM,
        ).add_to(fg)

        def make():
            out = []
            geoms = np.asarray(gdf.geometry.values, dtype=object)
            keep = shapely.intersects(geoms, box)
            for g, n in zip(geoms[keep], gdf["name"].to_numpy()[keep]):
                p = _label_point(g, box)
                if p is not None and _text(n):
                    out.append(label(str(n), p.x, p.y, "province", rank=shapely.area(g)))
            return out

        labels = list(_held(store, ("provinces", layer_id, box.bounds), make))
    if ch.spec.area == "border_communes":
        countries = _frame_or_none(store, "countries")
        if countries is not None:
            vn = countries[countries["iso3"].astype(str) == "VNM"]
            if len(vn):

                def outline():
                    shapes = _rounded(shapely.boundary(np.asarray(vn.geometry.values, dtype=object)), tol * 2)
                    return _feature_collection(shapes, [{"name": "VNM"}] * len(shapes))

                folium.GeoJson(
                    _held(store, ("vietnam_outline", tol), outline),
                    style_function=lambda f: {"color": "#3d3d3d", "weight": 1.4, "opacity": 0.9, "fill": False},
                    interactive=False,
                    name="vietnam_outline",
                ).add_to(fg)
    fg.add_to(m)
    return fg, labels


def _river_data(store, box, tol: float, detail: bool) -> tuple[list, list]:
    """(layer id, GeoJSON) of the lakes and rivers near the map, clipped, and their labels; held
    per data version and surroundings."""

    def make():
        layers: list[tuple[str, dict]] = []
        labels: list[list] = []
        lakes = _frame_or_none(store, "lakes_ne10m")
        if lakes is not None and len(lakes):
            geoms = np.asarray(lakes.geometry.values, dtype=object)
            keep = shapely.intersects(geoms, box)
            if keep.any():
                shapes = _rounded(shapely.intersection(geoms[keep], box), tol)
                names = [_text(n) or "" for n in lakes["name"].to_numpy()[keep]]
                layers.append(("lakes_ne10m", _feature_collection(shapes, [{"name": n} for n in names])))
                for g, n in zip(shapes, names):
                    if n and g is not None and not g.is_empty:
                        p = g.representative_point()
                        labels.append(label(n, p.x, p.y, "river", rank=1))
        for layer_id in ("rivers_wdbii", "rivers_ne10m"):
            rivers = _frame_or_none(store, layer_id)
            if rivers is None or not len(rivers):
                continue
            geoms = np.asarray(rivers.geometry.values, dtype=object)
            keep = shapely.intersects(geoms, box)
            if not detail and "wdbii_level" in rivers:
                keep &= rivers["wdbii_level"].to_numpy() <= 2
            if not keep.any():
                continue
            shapes = _rounded(shapely.intersection(geoms[keep], box), tol)
            names = [
                _text(n) or ""
                for n in (rivers["name"].to_numpy()[keep] if "name" in rivers else [""] * int(keep.sum()))
            ]
            layers.append((layer_id, _feature_collection(shapes, [{"name": n} for n in names])))
            for g, n in zip(shapes, names):
                if n and g is not None and not g.is_empty:
                    p = shapely.line_interpolate_point(
                        shapely.line_merge(g) if g.geom_type == "MultiLineString" else g, 0.5, normalized=True
                    )
                    if p is not None and not p.is_empty:
                        labels.append(label(n, p.x, p.y, "river", rank=shapely.length(g)))
        return layers, labels

    return _held(store, ("rivers", box.bounds, tol, detail), make)


_RIVER_WEIGHT = {"rivers_wdbii": 0.9, "rivers_ne10m": 1.6}


def _rivers(store, m: folium.Map, box, tol: float, lang: str, show: bool, detail: bool = True):
    """Rivers (WDB II, the named Natural Earth rivers) and lakes, clipped to the map's
    surroundings; the named rivers labelled. `detail`: with WDB II's minor rivers and canals
    (a province's map)."""
    fg = folium.FeatureGroup(name=TEXT[lang]["rivers"], show=show)
    layers, labels = _river_data(store, box, tol, detail)
    for layer_id, fc in layers:
        if layer_id == "lakes_ne10m":
            style = {"color": RIVER_COLOR, "weight": 0.8, "fillColor": LAKE_FILL, "fillOpacity": 1}
        else:
            style = {"color": RIVER_COLOR, "weight": _RIVER_WEIGHT[layer_id], "opacity": 0.85}
        folium.GeoJson(fc, style_function=lambda f, style=style: style, interactive=False, name=layer_id).add_to(fg)
    fg.add_to(m)
    return fg, list(labels)


_TOWN_KIND = {"PPLC": "city", "PPLA": "city", "PPLA2": "town"}


def _towns(store, box, detail: bool = True) -> list[list]:
    """Towns and cities (GeoNames) near the map: capitals and provincial towns first; `detail`:
    with the district towns and smaller places (a province's map; a national page stays small)."""
    places = _frame_or_none(store, "places")
    if places is None or not len(places):
        return []
    return list(_held(store, ("towns", box.bounds, detail), lambda: _town_labels(places, box, detail)))


def _town_labels(places, box, detail: bool) -> list[list]:
    geoms = np.asarray(places.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    out = []
    pops = places["population"].fillna(0).to_numpy() if "population" in places else np.zeros(len(places))
    codes = places["fcode"].to_numpy() if "fcode" in places else np.full(len(places), "")
    for g, n, code, pop in zip(geoms[keep], places["name"].to_numpy()[keep], codes[keep], pops[keep]):
        if _text(n):
            kind = _TOWN_KIND.get(str(code), "place")
            if kind != "city" and not detail:
                continue
            out.append(label(str(n), g.x, g.y, kind, rank=np.log10(max(float(pop), 1.0))))
    return out


def _map_tiles(m: folium.Map, lang: str, layer_tiles: str, shown: frozenset | None = None) -> None:
    for layer_id, key, _show in TILE_LAYERS:
        folium.TileLayer(
            tiles=layer_tiles.replace("{layer}", layer_id),
            name=TEXT[lang][key],
            overlay=True,
            control=True,
            show=_on(_TILE_KEYS[layer_id], shown),
            attr="geoborder",
            max_zoom=MAX_ZOOM,
            max_native_zoom=MAX_ZOOM,
        ).add_to(m)


def _border_line(store, m: folium.Map, box, tol: float, lang: str, show: bool = True) -> tuple[str, str] | None:
    """The border line: simplified, clipped."""
    bl = _frame_or_none(store, "border_lines")
    if bl is None or not len(bl):
        return None

    def make():
        geoms = np.asarray(bl.geometry.values, dtype=object)
        keep = shapely.intersects(geoms, box)
        if not keep.any():
            return None
        # each line simplified once per data version (whatever the box), then cut to the box
        clipped = shapely.intersection(_simplified(store, "border_lines", geoms, keep, tol / 3), box)
        return _feature_collection(clipped, [{"pair": str(p)} for p in bl["pair"].to_numpy()[keep]])

    fc = _held(store, ("border_line", box.bounds, tol), make)
    if fc is None:
        return None
    # a white casing under the red line: the line stands out on every palette, also along
    # YlOrRd's dark red top classes where red alone vanishes. The page draws the casing from the
    # line's own data (web/map_labels.py), so the line is in the page once.
    fg = folium.FeatureGroup(name=TEXT[lang]["border"], show=show)
    line = folium.GeoJson(
        fc,
        style_function=lambda f: {"color": BORDER_COLOR, "weight": 3, "opacity": 1.0},
        tooltip=folium.GeoJsonTooltip(["pair"], labels=False),
    )
    line.add_to(fg)
    fg.add_to(m)
    return line.get_name(), fg.get_name()


def _gates(store, m: folium.Map, box, lang: str, show: bool = True) -> None:
    """The located border gates near the map, coloured by class."""
    gates = _frame_or_none(store, "gates")
    if gates is None or not len(gates):
        return
    t = TEXT[lang]
    fg = folium.FeatureGroup(name=t["gates"], show=show)

    def rows():
        located = gates[gates.geometry.notna()]
        located = located[shapely.intersects(np.asarray(located.geometry.values, dtype=object), box)]
        n = len(located)
        classes = located["gate_class"].to_numpy() if "gate_class" in located else [None] * n
        partners = located["partner_gate"].to_numpy() if "partner_gate" in located else [None] * n
        return [
            (g.x, g.y, str(c or "secondary"), name, None if _text(p) is None else p)
            for g, c, name, p in zip(located.geometry.values, classes, located["name_vi"].to_numpy(), partners)
        ]

    for x, y, cls, name, partner in _held(store, ("gates", box.bounds), rows):
        label = f"{name} — {t['gate_class'].get(cls, cls)}"
        popup = f"<b>{esc(name)}</b><br>{esc(t['gate_class'].get(cls, cls))}"
        if partner:
            popup += f"<br>↔ {esc(partner)}"
        radius = 7 if cls == "international" else 5
        # a white ring around the black outline: the gate stands out on the lightest class (black
        # on pale yellow) and on the darkest (white on dark red) alike
        folium.CircleMarker(
            [y, x], radius=radius + 1.5, color=GATE_RING, weight=2.5, fill=False, interactive=False
        ).add_to(fg)
        folium.CircleMarker(
            [y, x],
            radius=radius,
            color=GATE_OUTLINE,
            weight=1.2,
            fill=True,
            fill_color=GATE_COLORS.get(cls, "#999"),
            fill_opacity=1,
            tooltip=label,
            bubbling_mouse_events=False,
            popup=folium.Popup(popup, max_width=260),
        ).add_to(fg)
    fg.add_to(m)


def layer_titles(lang: str) -> dict[str, str]:
    """The layer control's title of each layer key (the page maps the control's events to keys)."""
    t = TEXT[lang]
    out = {k: t[k] for k in ("terrain", "provinces", "partners", "rivers", "border", "gates", "labels")}
    out.update({_TILE_KEYS[layer_id]: t[key] for layer_id, key, _ in TILE_LAYERS})
    return out


def add_context_layers(
    store, ch: Choropleth, m: folium.Map, lang: str, layer_tiles: str, shown: frozenset | None = None
) -> tuple[list[dict], dict[str, str]]:
    """Every context layer of the map of `ch`; `layer_tiles`: the map-tile URL template with {layer};
    `shown`: the layer keys shown at first (None: DEFAULT_LAYERS). Returns the labels of the layers
    (web/map_labels.py) and the JS name of the layer of each layer key that has labels."""
    national = ch.spec.area in ("all", "border", "border_communes")
    pad = 0.6 if not national else 1.0
    tol = 0.01 if national else 0.003
    box = _clip_box(ch.bounds, pad)
    provinces, labels = _provinces(store, ch, m, box, tol, lang, layer_tiles, _on("provinces", shown))
    partners, partner_labels = _partner_units(store, box, tol, lang, _on("partners", shown), detail=not national)
    partners.add_to(m)
    labels += partner_labels
    rivers, river_labels = _rivers(
        store, m, box, tol * (1 if not national else 2), lang, _on("rivers", shown), not national
    )
    labels += river_labels
    _map_tiles(m, lang, layer_tiles, shown)
    border = _border_line(store, m, box, tol, lang, _on("border", shown))
    _gates(store, m, box, lang, _on("gates", shown))
    names = folium.FeatureGroup(name=TEXT[lang]["labels"], show=_on("labels", shown))
    names.add_to(m)
    labels += _towns(store, box, detail=not national)
    owners = {"provinces": provinces.get_name(), "partners": partners.get_name(), "rivers": rivers.get_name()}
    owners["labels"] = names.get_name()
    if border:
        owners["border_line"], owners["border"] = border
    return labels, owners
