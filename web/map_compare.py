"""Two maps side by side (issue 15): one indicator in two years, or on the pre-2025 (2009) and the
2025 units, with linked pan and zoom.

Each side is an ordinary map of the service (the same PNG choropleth tiles, context layers,
lookup popups) with its own title and legend. The two Leaflet maps follow each other with a few
lines of the page's own script (no Leaflet.Sync from a CDN): moving one sets the other's view,
a flag keeps the second move from coming back. Side by side on a wide screen, stacked on a
phone. The page opens at its final view (the address's lat/lon/zoom or both areas' bounds), set
before any layer exists, and keeps the view in its address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter
from geoborder.core.tilegrid import MAX_ZOOM
from geoborder.indicators.catalog import DATA_YEAR
from geoborder.maps import choropleth as C
from geoborder.maps.shared import SharedMap

from .assets import map_css, map_js
from .map_layers import add_context_layers
from .map_style import BORDER_COLOR, TEXT, esc

NATIONAL = ("all", "border", "border_communes")
SHOWN = frozenset({"values", "provinces", "partners", "border", "gates"})

WORDS = {
    "vi": {
        "title": "So sánh hai bản đồ",
        "linked": "Hai bản đồ di chuyển, thu phóng cùng nhau.",
        "shared": "Một thang phân lớp cho cả hai năm.",
        "own": "Mỗi bản đồ một thang phân lớp.",
        "back": "Về bản đồ",
        "picker": "Chọn bản đồ khác",
        "other_lang": "English",
    },
    "en": {
        "title": "Two maps compared",
        "linked": "The two maps pan and zoom together.",
        "shared": "One set of classes for both years.",
        "own": "Each map has its own classes.",
        "back": "Back to the map",
        "picker": "Pick another map",
        "other_lang": "Tiếng Việt",
    },
}


@dataclass(frozen=True, eq=False)
class Side:
    """One map of the page and its URLs (made by the router)."""

    ch: C.Choropleth
    tiles: str  # choropleth tile template with {z}/{x}/{y}
    lookup: str  # the lookup URL of this map; the page adds &lon=&lat=
    page: str  # this map's own page


def other_side(store, indicators_db, spec: C.MapSpec, year: int, vintage: int | None, area: str | None) -> C.MapSpec:
    """The map compared with `spec` (the map of `year`): what was asked, else by default the
    latest earlier year with values on the same units (or a later one), or else the other unit
    vintage; its area is the same (a province: the province of the same name)."""
    info = C.indicator(spec.indicator)
    if vintage is None:
        years = [y for y in _years(indicators_db, info, spec.vintage) if y != year]
        vintage = spec.vintage if years else next(v for v in C.VINTAGES if v != spec.vintage)
    if vintage not in C.VINTAGES:
        raise InvalidParameter(f"with_vintage: unit vintage must be one of {', '.join(map(str, C.VINTAGES))}")
    if area is None:
        area = spec.area if vintage == spec.vintage else same_area(store, spec.area, spec.vintage, vintage)
    other_year = None
    if vintage == spec.vintage:
        years = [y for y in _years(indicators_db, info, vintage) if y != year]
        earlier = [y for y in years if y < year]
        other_year = (earlier or years or [year])[-1 if earlier else 0]
    return C.MapSpec(spec.indicator, vintage, area, other_year, spec.method, spec.k)


def _years(indicators_db, info: C.IndicatorInfo, vintage: int) -> list[int]:
    if info.source == "computed":
        return [DATA_YEAR[vintage]]
    return C.db_years(indicators_db, info.name, vintage) if indicators_db is not None else []


def same_area(store, area: str, vintage: int, other: int) -> str:
    """`area` of `vintage` on the `other` units: the same key for a national area or a saved area,
    the province of the same name for a province code."""
    if area in NATIONAL:
        return area
    names = dict(C.provinces(store, vintage))
    if area not in names:
        return area  # a saved area (by name): the same name on both units
    by_name = {n: c for c, n in C.provinces(store, other)}
    if names[area] not in by_name:
        raise InvalidParameter(
            f"with_area: {names[area]} ({area}) has no province of the same name on the {other} units; "
            f"give with_area, a province code of the {other} units (list: /maps)"
        )
    return by_name[names[area]]


def ordered(a: Side, b: Side) -> tuple[Side, Side]:
    """The older map on the left (above on a phone): pre-2025 units first, then the earlier year."""
    return (a, b) if (a.ch.spec.vintage != 2025, -a.ch.year) >= (b.ch.spec.vintage != 2025, -b.ch.year) else (b, a)


class _Script(MacroElement):
    _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

    def __init__(self, js: str):
        super().__init__()
        self._name = "GeoborderScript"
        self.js = js


_PAGES = LRU(32, max_bytes=8 * 2**20)  # ~0.9 MB of HTML a page; in the shared budget (core/cache.py)


def compare_page(
    store, left: Side, right: Side, *, lang: str, vendor: str, layer_tiles: str, other_lang: str, picker: str
) -> str:
    """The whole HTML page, built once per (data version, the two maps, language, URLs)."""
    urls = tuple((s.tiles, s.lookup, s.page) for s in (left, right))
    key = (id(store), left.ch.version, left.ch.spec, right.ch.spec, urls, lang, vendor, layer_tiles, other_lang, picker)
    return _PAGES.get_or_make(
        key,
        lambda: _page(
            store, left, right, lang=lang, vendor=vendor, layer_tiles=layer_tiles, other_lang=other_lang, picker=picker
        ),
    )


def _units(ch: C.Choropleth, lang: str) -> str:
    return TEXT[lang]["units_2025"] if ch.spec.vintage == 2025 else TEXT[lang]["units_2009"]


def _title_html(side: Side, lang: str, n: int) -> str:
    ch = side.ch
    return (
        f'<div class="gb-cmp-title"><b>{esc(ch.info.title(lang))}</b> · {ch.year}<br>'
        f"{esc(ch.area.title(lang))} · {esc(_units(ch, lang))} · "
        f'<a href="{esc(side.page)}" id="gb-cmp-page-{n}">{esc(WORDS[lang]["back"])}</a></div>'
    )


def _legend_html(ch: C.Choropleth, lang: str) -> str:
    t = TEXT[lang]
    rows = "".join(
        f'<div class="gb-row"><span class="gb-sw" style="background:{e["color"]}"></span>'
        f'<span class="gb-lab">{esc(e["label"])}</span><span class="gb-n">{e["count"]}</span></div>'
        for e in ch.legend(lang)
        if e["class"] >= 0 or e["count"] > 0
    )
    method = C.LABELS[lang]["method"][ch.spec.method]
    return (
        f'<div class="gb-cmp-legend"><div class="gb-sub">{esc(t["unit"])}: {esc(ch.info.unit(lang))} · '
        f"{esc(method)}, {esc(ch.k_text(lang))}</div>{rows}"
        f'<div class="gb-row"><span class="gb-line" style="background:{BORDER_COLOR}"></span>{esc(t["border"])}</div></div>'
    )


_CSS = """
<style>
 html, body { margin: 0; height: 100%; font: 13px/1.35 system-ui, sans-serif; color: #222; }
 #gb-cmp-head { position: absolute; left: 0; right: 0; top: 0; height: 40px; box-sizing: border-box; padding: 4px 10px;
   display: flex; gap: 12px; align-items: center; flex-wrap: wrap; background: #f4f6f8; border-bottom: 1px solid #ccc; overflow: hidden; }
 #gb-cmp-head { flex-wrap: nowrap; }
 #gb-cmp-head h1 { font-size: 15px; margin: 0; flex: none; white-space: nowrap; }
 #gb-cmp-head a { color: #0b57d0; white-space: nowrap; }
 #gb-cmp-head .gb-sub { color: #555; font-size: 12px; flex: 1; min-width: 0; margin: 0; white-space: nowrap;
   overflow: hidden; text-overflow: ellipsis; }
 #gb-cmp-head .gb-cmp-links { flex: none; }
 ##M1#, ##M2# { position: absolute !important; top: 40px !important; bottom: 0; height: auto !important; width: 50% !important; }
 ##M1# { left: 0 !important; border-right: 2px solid #fff; box-sizing: border-box; }
 ##M2# { left: 50% !important; }
 @media (max-width: 700px) {
   #gb-cmp-head { height: 56px; padding: 3px 8px; gap: 2px 10px; flex-wrap: wrap; align-content: center; }
   #gb-cmp-head h1 { white-space: normal; flex: 1 1 100%; }
   .leaflet-control-attribution { font-size: 9px; max-width: calc(100vw - 90px); white-space: nowrap;
     overflow: hidden; text-overflow: ellipsis; }
   #gb-cmp-head h1 { font-size: 13px; } #gb-cmp-head .gb-sub { display: none; }
   ##M1#, ##M2# { width: 100% !important; left: 0 !important; height: calc((100% - 56px) / 2) !important; }
   ##M1# { top: 56px !important; border-right: 0; border-bottom: 2px solid #fff; }
   ##M2# { top: calc(56px + (100% - 56px) / 2) !important; }
   .gb-cmp-legend { max-width: 150px; font-size: 10px; } .gb-cmp-title { font-size: 11px; max-width: 230px; }
 }
 html body .leaflet-container { background: #eef3f7; }
 .gb-cmp-title, .gb-cmp-legend { background: rgba(255,255,255,0.93); padding: 5px 8px; border-radius: 6px;
   box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, sans-serif; color: #222; max-width: 300px; }
 .gb-cmp-title a { color: #0b57d0; white-space: nowrap; }
 .gb-cmp-legend { max-width: 220px; }
 .gb-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
 .gb-sw { width: 20px; height: 12px; border: 1px solid #888; flex: none; }
 .gb-line { width: 20px; height: 3px; flex: none; }
 .gb-lab { flex: 1; font-variant-numeric: tabular-nums; }
 .gb-n { color: #595959; font-size: 11px; }
 .gb-sub { color: #555; font-size: 11px; margin-bottom: 3px; }
 .gb-popup table { border-collapse: collapse; } .gb-popup td { padding: 1px 6px 1px 0; vertical-align: top; }
 .gb-popup td:first-child { color: #666; }
</style>"""

# each map: its own first script sets the final view before any layer exists (the first map: the
# address's view or both areas' bounds; the second: the first map's view)
_VIEW_FIRST = """
(function () {
  var map = %(map)s, q = new URLSearchParams(window.location.search);
  var lat = parseFloat(q.get('lat')), lon = parseFloat(q.get('lon')), z = parseInt(q.get('zoom'), 10);
  if (isFinite(lat) && isFinite(lon) && isFinite(z)) map.setView([lat, lon], z, {animate: false});
  else map.fitBounds(%(bounds)s, {animate: false});
  map.attributionControl.setPrefix('Leaflet');
})();
"""
_VIEW_SECOND = """
(function () {
  var map = %(map)s, first = %(first)s;
  map.setView(first.getCenter(), first.getZoom(), {animate: false});
  map.attributionControl.setPrefix('Leaflet');
})();
"""

_SIDE_JS = """
(function () {
  var map = %(map)s, lookup = %(lookup)s;
  function box(html, pos) {
    var C = L.Control.extend({onAdd: function () {
      var d = L.DomUtil.create('div'); d.innerHTML = html;
      L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d); return d; }});
    new C({position: pos}).addTo(map);
  }
  box(%(title)s, 'topright');
  box(%(legend)s, 'bottomright');
  L.control.scale({imperial: false, metric: true}).addTo(map);
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  map.on('click', function (e) {
    fetch(lookup + '&lon=' + e.latlng.lng.toFixed(6) + '&lat=' + e.latlng.lat.toFixed(6))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d || !d.commune) return;
        var rows = d.commune.fields.map(function (f) { return '<tr><td>' + esc(f[0]) + '</td><td>' + esc(f[1]) + '</td></tr>'; });
        L.popup({maxWidth: 300}).setLatLng(e.latlng)
          .setContent('<div class="gb-popup"><b>' + esc(d.commune.title) + '</b><table>' + rows.join('') + '</table></div>').openOn(map);
      });
  });
})();
"""

# the two maps follow each other: moving one sets the other's view; `busy` stops the echo
_SYNC_JS = """
(function () {
  var a = %(m1)s, b = %(m2)s, busy = false;
  window.geoborderMaps = [a, b];
  function follow(src, dst) {
    return function () {
      if (busy) return;
      busy = true;
      dst.setView(src.getCenter(), src.getZoom(), {animate: false});
      busy = false;
    };
  }
  a.on('move zoomend', follow(a, b));
  b.on('move zoomend', follow(b, a));
  var other = document.getElementById('gb-cmp-lang');
  function remember() {
    var q = new URLSearchParams(window.location.search), c = a.getCenter();
    q.set('lat', c.lat.toFixed(5)); q.set('lon', c.lng.toFixed(5)); q.set('zoom', String(a.getZoom()));
    history.replaceState(null, '', window.location.pathname + '?' + q.toString());
    if (other) { var o = new URLSearchParams(q); o.set('lang', %(other)s); other.href = window.location.pathname + '?' + o.toString(); }
  }
  a.on('moveend', remember); b.on('moveend', remember);
  remember();
})();
"""


class _Sync(MacroElement):
    """The script of the page, after both maps exist."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

    def __init__(self, js: str):
        super().__init__()
        self._name = "GeoborderSync"
        self.js = js


def _map(store, side: Side, lang: str, vendor: str, layer_tiles: str) -> folium.Map:
    west, south, east, north = side.ch.bounds
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=7,
        tiles=None,
        control_scale=False,
        min_zoom=4,
        max_zoom=MAX_ZOOM,
        position="absolute",
    )
    m.default_js = map_js(vendor)
    m.default_css = map_css(vendor)
    return m


def _page(
    store, left: Side, right: Side, *, lang: str, vendor: str, layer_tiles: str, other_lang: str, picker: str
) -> str:
    w = WORDS[lang]
    fig = Figure()
    maps = []
    for side in (left, right):
        m = _map(store, side, lang, vendor, layer_tiles)
        fig.add_child(m)
        maps.append(m)
    m1, m2 = maps
    boxes = [s.ch.bounds for s in (left, right)]
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    m1.add_child(_Script(_VIEW_FIRST % {"map": m1.get_name(), "bounds": json.dumps([[south, west], [north, east]])}))
    m2.add_child(_Script(_VIEW_SECOND % {"map": m2.get_name(), "first": m1.get_name()}))
    for n, (side, m) in enumerate(((left, m1), (right, m2)), start=1):
        folium.TileLayer(
            tiles=side.tiles,
            name=side.ch.info.title(lang),
            overlay=True,
            control=False,
            attr="geoborder · gis.vn / sapnhap (2025), censusVN2009 (2009); © OpenStreetMap contributors; geoBoundaries",
            max_zoom=MAX_ZOOM,
            max_native_zoom=MAX_ZOOM,
        ).add_to(m)
        add_context_layers(store, side.ch, m, lang, layer_tiles, SHOWN)
        m.add_child(
            _Script(
                _SIDE_JS
                % {
                    "map": m.get_name(),
                    "lookup": json.dumps(side.lookup),
                    "title": json.dumps(_title_html(side, lang, n), ensure_ascii=False).replace("</", "<\\/"),
                    "legend": json.dumps(_legend_html(side.ch, lang), ensure_ascii=False).replace("</", "<\\/"),
                }
            )
        )
    fig.add_child(_Sync(_SYNC_JS % {"m1": m1.get_name(), "m2": m2.get_name(), "other": json.dumps(other_lang)}))
    fig.title = f"{w['title']}: {left.ch.info.title(lang)} ({left.ch.year} · {right.ch.year})"
    fig.header.add_child(Element('<link rel="icon" href="data:,">'))
    fig.header.add_child(Element('<meta name="viewport" content="width=device-width, initial-scale=1">'))
    fig.header.add_child(Element(_CSS.replace("#M1#", m1.get_name()).replace("#M2#", m2.get_name())))
    scale = "shared" if isinstance(left.ch, SharedMap) and isinstance(right.ch, SharedMap) else "own"
    head = (
        f'<div id="gb-cmp-head"><h1>{esc(w["title"])}: {esc(left.ch.info.title(lang))}</h1>'
        f'<span class="gb-sub" id="gb-cmp-about">{esc(w[scale])} {esc(w["linked"])} · {left.ch.year} '
        f"({esc(_units(left.ch, lang))}) · {right.ch.year} ({esc(_units(right.ch, lang))})</span>"
        f'<span class="gb-cmp-links"><a id="gb-cmp-picker" href="{esc(picker)}">{esc(w["picker"])}</a> · '
        f'<a id="gb-cmp-lang" href="#">{esc(w["other_lang"])}</a></span></div>'
    )
    fig.html.add_child(Element(head), index=0)
    html = fig.render()
    return html.replace("<html>", f'<html lang="{lang}">', 1)
