"""The context layers of a map page, around the choropleth: partner provinces, styled map tiles
(roads, settlements, commune seats), the border line and the border gates.

Only small layers are inline GeoJSON, simplified and clipped to the map's surroundings; the
larger ones are PNG map tiles of the service (geoborder.tiles.render).
"""

from __future__ import annotations

import json

import folium
import numpy as np
import shapely

from geoborder.core.errors import NotFound
from geoborder.core.tilegrid import MAX_ZOOM
from geoborder.maps.choropleth import Choropleth

from .map_style import BORDER_COLOR, GATE_COLORS, PARTNER_COLOR, TEXT, esc

# layer, TEXT key, shown at first: drawn by the service as PNG map tiles
TILE_LAYERS = (("roads", "roads", True), ("places", "places", False), ("commune_seats_2025", "seats", False))


def _rounded(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    g = shapely.simplify(geoms, tolerance, preserve_topology=True)
    return shapely.set_precision(g, 1e-4)


def _clip_box(bounds, pad: float):
    return shapely.box(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)


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
LAYER_KEYS = ("values", "partners", "roads", "places", "seats", "border", "gates")
DEFAULT_LAYERS = frozenset({"values", "partners", "roads", "border", "gates"})
_TILE_KEYS = {"roads": "roads", "places": "places", "commune_seats_2025": "seats"}


def _on(key: str, shown: frozenset | None) -> bool:
    return key in (DEFAULT_LAYERS if shown is None else shown)


def _partner_provinces(store, box, tol: float, lang: str, show: bool = True) -> folium.FeatureGroup:
    """Lao and Chinese provinces near the map: simplified, clipped, labelled."""
    partners = folium.FeatureGroup(name=TEXT[lang]["partners"], show=show)
    for layer_id, name_col in (
        ("lao_provinces", "name"),
        ("china_provinces", "name_vi" if lang == "vi" else "name_en"),
    ):
        gdf = _frame_or_none(store, layer_id)
        if gdf is None:
            continue
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        keep = shapely.intersects(geoms, box)
        if not keep.any():
            continue
        clipped = _rounded(shapely.intersection(geoms[keep], box), tol * 2)
        names = [str(n) for n in gdf[name_col].to_numpy()[keep]]
        fc = _feature_collection(clipped, [{"name": n} for n in names])
        folium.GeoJson(
            fc,
            style_function=lambda f: {
                "color": PARTNER_COLOR,
                "weight": 1,
                "fill": True,
                "fillColor": "#f0f0f0",
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
            name=layer_id,
        ).add_to(partners)
        for g, n in zip(clipped, names):
            if g is None or g.is_empty:
                continue
            p = g.representative_point()
            folium.Marker(
                [p.y, p.x],
                icon=folium.DivIcon(
                    html=f'<div class="gb-partner-label">{esc(n)}</div>', icon_size=(120, 18), icon_anchor=(60, 9)
                ),
            ).add_to(partners)
    return partners


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


def _border_line(store, m: folium.Map, box, tol: float, lang: str, show: bool = True) -> None:
    """The border line: simplified, clipped."""
    bl = _frame_or_none(store, "border_lines")
    if bl is None or not len(bl):
        return
    geoms = np.asarray(bl.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    if not keep.any():
        return
    clipped = _rounded(shapely.intersection(geoms[keep], box), tol / 3)
    fc = _feature_collection(clipped, [{"pair": str(p)} for p in bl["pair"].to_numpy()[keep]])
    # a white casing under the red line: the line stands out on every palette, also along
    # YlOrRd's dark red top classes where red alone vanishes
    fg = folium.FeatureGroup(name=TEXT[lang]["border"], show=show)
    folium.GeoJson(
        fc, style_function=lambda f: {"color": "#ffffff", "weight": 6, "opacity": 0.95}, interactive=False
    ).add_to(fg)
    folium.GeoJson(
        fc,
        style_function=lambda f: {"color": BORDER_COLOR, "weight": 3, "opacity": 1.0},
        tooltip=folium.GeoJsonTooltip(["pair"], labels=False),
    ).add_to(fg)
    fg.add_to(m)


def _gates(store, m: folium.Map, box, lang: str, show: bool = True) -> None:
    """The located border gates near the map, coloured by class."""
    gates = _frame_or_none(store, "gates")
    if gates is None or not len(gates):
        return
    t = TEXT[lang]
    fg = folium.FeatureGroup(name=t["gates"], show=show)
    located = gates[gates.geometry.notna()]
    located = located[shapely.intersects(np.asarray(located.geometry.values, dtype=object), box)]
    for _, g in located.iterrows():
        cls = str(g.get("gate_class") or "secondary")
        label = f"{g['name_vi']} — {t['gate_class'].get(cls, cls)}"
        partner = g.get("partner_gate")
        popup = f"<b>{esc(g['name_vi'])}</b><br>{esc(t['gate_class'].get(cls, cls))}"
        if partner:
            popup += f"<br>↔ {esc(partner)}"
        folium.CircleMarker(
            [g.geometry.y, g.geometry.x],
            radius=7 if cls == "international" else 5,
            color="#000",
            weight=1,
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
    out = {"partners": t["partners"], "border": t["border"], "gates": t["gates"]}
    out.update({_TILE_KEYS[layer_id]: t[key] for layer_id, key, _ in TILE_LAYERS})
    return out


def add_context_layers(
    store, ch: Choropleth, m: folium.Map, lang: str, layer_tiles: str, shown: frozenset | None = None
) -> None:
    """Every context layer of the map of `ch`; `layer_tiles`: the map-tile URL template with {layer};
    `shown`: the layer keys shown at first (None: DEFAULT_LAYERS)."""
    national = ch.spec.area in ("all", "border", "border_communes")
    pad = 0.6 if not national else 1.0
    tol = 0.01 if national else 0.003
    box = _clip_box(ch.bounds, pad)
    _partner_provinces(store, box, tol, lang, _on("partners", shown)).add_to(m)
    _map_tiles(m, lang, layer_tiles, shown)
    _border_line(store, m, box, tol, lang, _on("border", shown))
    _gates(store, m, box, lang, _on("gates", shown))
