"""The planners' map pages: a Folium choropleth fed by tiles, and the map picker's data.

The page carries no commune geometry: the choropleth is a PNG tile layer (geoborder.tiles.render),
clicks and hovers ask the lookup endpoint, roads / settlements / commune seats are styled map
tiles. Only small layers are inline: the border line, the partner provinces (both simplified
and clipped to the map's surroundings) and the located gates. Leaflet and jQuery are served by
the app (web/assets.py); nothing is loaded from the internet unless the OSM basemap is asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from geoborder.core.cache import LRU
from geoborder.core.tilegrid import MAX_ZOOM
from geoborder.indicators.catalog import DATA_YEAR
from geoborder.indicators.saved_areas import saved_areas_revision
from geoborder.maps import change as X
from geoborder.maps import choropleth as C
from geoborder.maps.areas import AREAS, area_choices

from .assets import map_css, map_js
from .map_labels import CSS as LABELS_CSS
from .map_labels import labels_js
from .map_layers import add_context_layers, layer_titles
from .map_style import BORDER_COLOR, GATE_COLORS, TEXT, esc
from .map_tools import CSS as TOOLS_CSS
from .map_tools import TEXT as TOOLS_TEXT
from .map_tools import area_html, compare_html, search_html, switchers_html, table_html, tools_js


@dataclass(frozen=True)
class MapUrls:
    """The URLs a map page uses, made by the router (the library knows no routes)."""

    tiles: str  # choropleth PNG tile template with {z}/{x}/{y}
    lookup: str  # lookup URL with the map's parameters; the page adds &lon=&lat=
    data: str  # GeoJSON download of exactly this map
    picker: str
    other_lang: str
    layer_tiles: str  # map-tile template of a context layer, with {layer} and {z}/{x}/{y}
    vendor: str  # prefix of the served JS/CSS
    export: str | None = None  # the printable sheet of this map (/maps/{indicator}/export) without format
    csv: str = ""  # CSV download of exactly this map
    xlsx: str = ""  # XLSX download of exactly this map
    table: str = ""  # the rows of the page's table and commune search (JSON)
    item: str = ""  # one commune's feature (GeoJSON), with {code}: the search's highlight
    hillshade: str = ""  # hillshade tile template with {z}/{x}/{y} (the terrain under the choropleth)
    villages: str = ""  # the villages' items (GeoJSON) without bbox: the page adds &bbox= of the view
    compare: str = ""  # the side-by-side page of this map (/maps/{indicator}/compare)
    page_base: str = "/maps/"  # a map page is page_base + indicator + ?query
    query: tuple = ()  # the page's own query (vintage, area, classes, k, year, lang, basemap) as pairs


def _legend_html(ch: C.Choropleth, lang: str, urls: MapUrls, choices: tuple = (), areas: tuple = ()) -> str:
    t = TEXT[lang]
    tt = TOOLS_TEXT[lang]
    rows = "".join(
        f'<div class="gb-row"><span class="gb-sw" style="background:{e["color"]}"></span>'
        f'<span class="gb-lab">{esc(e["label"])}</span><span class="gb-n">{e["count"]}</span></div>'
        for e in ch.legend(lang)
        if e["class"] >= 0 or e["count"] > 0
    )
    gates = "".join(
        f'<div class="gb-row gb-gates"><span class="gb-dot" style="background:{c}"></span>{esc(t["gate_class"][k])}</div>'
        for k, c in GATE_COLORS.items()
    )
    units = t["units_2025"] if ch.spec.vintage == 2025 else t["units_2009"]
    method = C.LABELS[lang]["method"][ch.spec.method]
    return f"""
<div id="gb-legend" class="gb-box" role="region" aria-label="legend">
 <div class="gb-title">{esc(ch.info.title(lang))}</div>
 <div class="gb-sub">{esc(t["unit"])}: {esc(ch.info.unit(lang))} · {esc(_years_text(ch, lang))}</div>{_note_html(ch, lang)}
 <div class="gb-sub">{esc(t["classes"])}: {esc(method)}, {esc(ch.k_text(lang))}</div>
 {rows}
 <div class="gb-sep"></div>
 <div class="gb-row"><span class="gb-line" style="background:{BORDER_COLOR}"></span>{esc(t["border"])}</div>
 {gates}
</div>
<div id="gb-panel" class="gb-box" role="region" aria-label="{esc(tt["panel"])}">
 <div class="gb-title"><button type="button" id="gb-panel-toggle" aria-expanded="false" aria-controls="gb-panel">{esc(tt["more"])}</button>{esc(ch.area.title(lang))}</div>
 <div class="gb-sub">{esc(t["units"])}: {esc(units)} · {int(ch.area.mask.sum())} {esc(t["communes"])}</div>
 {switchers_html(list(choices), ch.spec.indicator, ch.year, lang) if choices else ""}
 {area_html(list(areas), ch.area.key, lang) if areas else ""}
 {compare_html(list(choices), ch.spec.indicator, ch.year, X.change_of(ch), lang, urls.compare) if choices else ""}
 {search_html(lang)}
 <div id="gb-hover" class="gb-sub" aria-live="polite">{esc(t["hover"])}</div>
 <div class="gb-links"><button type="button" id="gb-table-open" aria-controls="gb-table-box">{esc(tt["table"])}</button> ·
  <a id="gb-download" href="{esc(urls.data)}" download>{esc(t["download"])}</a> ·
  <a id="gb-download-csv" href="{esc(urls.csv)}" download>CSV</a> ·
  <a id="gb-download-xlsx" href="{esc(urls.xlsx)}" download>XLSX</a><br>
  <a id="gb-picker" href="{esc(urls.picker)}">{esc(t["picker"])}</a> ·
  <a id="gb-lang" href="{esc(urls.other_lang)}">{esc(t["other_lang"])}</a></div>
 {_export_html(urls, lang)}
</div>
{table_html(lang, X.change_of(ch))}"""


def _years_text(ch: C.Choropleth, lang: str) -> str:
    """ "Năm 2024", or for a change map "2017 → 2024"."""
    if isinstance(ch, X.ChangeMap):
        return f"{ch.base_year} → {ch.year}"
    return f"{TEXT[lang]['year']} {ch.year}"


def _note_html(ch: C.Choropleth, lang: str) -> str:
    note = ch.note(lang) if isinstance(ch, X.ChangeMap) else ""
    return f'\n <div class="gb-sub gb-note">{esc(note)}</div>' if note else ""


_EXPORT_TEXT = {
    "vi": ("In, xuất bản đồ", "khổ giấy", ("A4 dọc", "A4 ngang", "A3 dọc", "A3 ngang")),
    "en": ("Print / export", "paper", ("A4 portrait", "A4 landscape", "A3 portrait", "A3 landscape")),
}
_PAPERS = (("A4", "portrait"), ("A4", "landscape"), ("A3", "portrait"), ("A3", "landscape"))


def _export_html(urls: MapUrls, lang: str) -> str:
    """The export buttons: the map as a PDF or PNG sheet (server-side), on the paper chosen."""
    if not urls.export:
        return ""
    label, paper, names = _EXPORT_TEXT[lang]
    opts = "".join(f'<option value="{p}|{o}">{esc(n)}</option>' for (p, o), n in zip(_PAPERS, names))
    base = esc(urls.export)
    return f"""<div class="gb-links gb-export" data-export="{base}">{esc(label)}:
  <a id="gb-export-pdf" href="{base}&amp;format=pdf&amp;paper=A4&amp;orientation=portrait" download>PDF</a> ·
  <a id="gb-export-png" href="{base}&amp;format=png&amp;paper=A4&amp;orientation=portrait" download>PNG</a> ·
  <select id="gb-export-paper" aria-label="{esc(paper)}">{opts}</select></div>"""


_CSS = """
<style>
 .gb-box { position: absolute; z-index: 1000; background: rgba(255,255,255,0.93); padding: 8px 10px;
   border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 13px/1.35 system-ui, sans-serif; color: #222; }
 #gb-legend { right: 10px; bottom: 24px; max-width: 260px; }
 #gb-panel { left: 56px; top: 10px; max-width: 380px; }
 .gb-title { font-weight: 600; font-size: 14px; margin-bottom: 2px; }
 .gb-sub { color: #555; font-size: 12px; margin-bottom: 4px; }
 .gb-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
 .gb-sw { width: 22px; height: 14px; border: 1px solid #888; flex: none; }
 .gb-dot { width: 11px; height: 11px; border-radius: 50%; border: 1px solid #000; flex: none; margin: 0 5px; }
 .gb-line { width: 22px; height: 3px; flex: none; }
 .gb-lab { flex: 1; font-variant-numeric: tabular-nums; }
 .gb-n { color: #595959; font-size: 11px; }
 .gb-sep { border-top: 1px solid #ddd; margin: 5px 0; }
 .gb-links a { color: #0b57d0; }
 .gb-popup table { border-collapse: collapse; } .gb-popup td { padding: 1px 6px 1px 0; vertical-align: top; }
 .gb-popup td:first-child { color: #666; }
 html body .leaflet-container { background: #eef3f7; }  /* after leaflet.css, whatever the order of the links */
 /* browser print of the page: the map and its legend, no controls; swatches printed as shown */
 @media print {
   .leaflet-control-container, .gb-links, #gb-hover { display: none !important; }
   .gb-box { box-shadow: none; border: 1px solid #999; }
   .gb-sw, .gb-dot, .gb-line, .gb-box, .leaflet-container, .leaflet-tile-pane {
     -webkit-print-color-adjust: exact; print-color-adjust: exact; }
   html, body, .folium-map { width: 100% !important; height: 100% !important; }
   @page { margin: 10mm; }
 }
</style>"""

_JS = """
(function () {
  var sel = document.getElementById('gb-export-paper');
  if (sel) {
    sel.addEventListener('change', function () {
      var base = sel.parentNode.getAttribute('data-export'), po = sel.value.split('|');
      ['pdf', 'png'].forEach(function (f) {
        document.getElementById('gb-export-' + f).href = base + '&format=' + f + '&paper=' + po[0] + '&orientation=' + po[1];
      });
    });
  }
  var map = %(map)s;
  var lookup = %(lookup)s;
  window.geoborderMap = map;
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function ask(latlng) {
    return fetch(lookup + '&lon=' + latlng.lng.toFixed(6) + '&lat=' + latlng.lat.toFixed(6))
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function table(d) {
    var rows = d.fields.map(function (f) { return '<tr><td>' + esc(f[0]) + '</td><td>' + esc(f[1]) + '</td></tr>'; });
    return '<div class="gb-popup"><b>' + esc(d.title) + '</b><table>' + rows.join('') + '</table></div>';
  }
  map.on('click', function (e) {
    ask(e.latlng).then(function (d) {
      if (d && d.commune) { L.popup({maxWidth: 320}).setLatLng(e.latlng).setContent(table(d.commune)).openOn(map); }
    });
  });
  var timer = null, hover = document.getElementById('gb-hover'), idle = hover.innerHTML;
  map.on('mousemove', function (e) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      ask(e.latlng).then(function (d) {
        if (!d || !d.commune) { hover.innerHTML = idle; return; }
        var c = d.commune;
        hover.innerHTML = '<b>' + esc(c.title) + '</b> (' + esc(c.province_name) + '): ' + esc(c.value_text) + (c.in_area ? ' · ' + esc(c.year) : '');
      });
    }, 250);
  });
})();
"""


class _Script(MacroElement):
    """Page script that runs after the map and its layers exist (rendered as the map's last child)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

    def __init__(self, js: str):
        super().__init__()
        self._name = "GeoborderScript"
        self.js = js


#: whole map pages held (~250 kB each): at most 128, and at most 16 MB of them (issue 18)
PAGES_MAX_BYTES = 16 * 2**20
_PAGES = LRU(128, max_bytes=PAGES_MAX_BYTES)


_VIEW_JS = """
(function () {
  // the page opens at its final view: the address's view (?lat=&lon=&zoom=) or the area's bounds,
  // set before any layer exists, so no tile of a first zoom is loaded and left on screen
  var map = %(map)s, q = new URLSearchParams(window.location.search);
  var lat = parseFloat(q.get('lat')), lon = parseFloat(q.get('lon')), z = parseInt(q.get('zoom'), 10);
  if (isFinite(lat) && isFinite(lon) && isFinite(z)) map.setView([lat, lon], z, {animate: false});
  else map.fitBounds(%(bounds)s, {animate: false});
  map.attributionControl.setPrefix('Leaflet');
  L.control.scale({imperial: false, metric: true}).addTo(map);
})();
"""


def map_page(
    store,
    ch: C.Choropleth,
    *,
    lang: str,
    urls: MapUrls,
    basemap: str | None = None,
    choices: tuple = (),
    layers: frozenset | None = None,
    areas: tuple = (),
) -> str:
    """The whole HTML page of one choropleth map, built once per (data version, map, language,
    URLs, indicator choices, layers shown, area choices). `choices`: (name, title, years on these
    units) of each indicator for the switcher; `layers`: the layer keys shown at first (None: the
    defaults); `areas`: (key, label, group) of each area for the area switcher (`map_areas`: with
    the saved areas, so a page is made again when one is saved or deleted)."""
    key = (id(store), ch.version, ch.spec, lang, urls, basemap, choices, layers, areas)
    return _PAGES.get_or_make(
        key,
        lambda: _map_page(
            store, ch, lang=lang, urls=urls, basemap=basemap, choices=choices, layers=layers, areas=areas
        ),
    )


def _map_page(
    store,
    ch: C.Choropleth,
    *,
    lang: str,
    urls: MapUrls,
    basemap: str | None = None,
    choices: tuple = (),
    layers: frozenset | None = None,
    areas: tuple = (),
) -> str:
    t = TEXT[lang]
    west, south, east, north = ch.bounds
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=7,
        tiles=None,
        control_scale=False,
        min_zoom=4,
        max_zoom=MAX_ZOOM,
        prefer_canvas=False,
    )
    m.default_js = map_js(urls.vendor)
    m.default_css = map_css(urls.vendor)
    m.add_child(_Script(_VIEW_JS % {"map": m.get_name(), "bounds": json.dumps([[south, west], [north, east]])}))
    root = m.get_root()
    root.title = f"{ch.info.title(lang)} — {ch.area.title(lang)}"
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name=t["osm"], overlay=False, control=True).add_to(m)
    if urls.hillshade:
        # the terrain under the choropleth (and around it), off unless asked for
        folium.TileLayer(
            tiles=urls.hillshade,
            name=t["terrain"],
            overlay=True,
            control=True,
            show=layers is not None and "terrain" in layers,
            attr="DEM",
            max_zoom=MAX_ZOOM,
            max_native_zoom=MAX_ZOOM,
        ).add_to(m)
    sources = "Địa giới" if lang == "vi" else "Boundaries"
    folium.TileLayer(
        tiles=urls.tiles,
        name=ch.info.title(lang),
        overlay=True,
        control=True,
        show=layers is None or "values" in layers,
        opacity=0.75 if basemap else 1.0,
        attr=f"geoborder · {sources}: gis.vn / sapnhap (2025), censusVN2009 (2009); "
        "© OpenStreetMap contributors (border line); geoBoundaries; DCW",
        max_zoom=MAX_ZOOM,
        max_native_zoom=MAX_ZOOM,
    ).add_to(m)
    labels, owners = add_context_layers(store, ch, m, lang, urls.layer_tiles, layers)
    control = folium.LayerControl(collapsed=False)
    control.add_to(m)
    root.header.add_child(Element(f'<meta name="geoborder:data-version" content="{esc(ch.version)}">'))
    root.header.add_child(Element('<link rel="icon" href="data:,">'))
    root.header.add_child(Element(_CSS))
    root.header.add_child(Element(TOOLS_CSS))
    root.header.add_child(Element(LABELS_CSS))
    choice_dicts = tuple({"name": n, "title": ti, "years": list(ys)} for n, ti, ys in choices)
    root.html.add_child(Element(_legend_html(ch, lang, urls, choice_dicts, areas)))
    m.add_child(_Script(_JS % {"map": m.get_name(), "lookup": json.dumps(urls.lookup)}))
    titles = {v: k for k, v in layer_titles(lang).items()}
    titles[ch.info.title(lang)] = "values"
    state = {
        "indicator": ch.spec.indicator,
        "lang": lang,
        "other_lang": "en" if lang == "vi" else "vi",
        "query": dict(urls.query),
        "page_base": urls.page_base,
        "table": urls.table,
        "item": urls.item,
        "layer_keys": titles,
        "change": X.change_of(ch) is not None,
    }
    m.add_child(_Script(tools_js(m.get_name(), control.get_name(), state, lang)))
    has_villages = any(info.id == "villages" for info in store.layers())
    m.add_child(_Script(labels_js(m.get_name(), labels, owners, urls.villages if has_villages else "")))
    html = root.render()
    return html.replace("<html>", f'<html lang="{lang}">', 1)


def indicator_choices(store, indicators_db, vintage: int, lang: str) -> tuple:
    """(name, title, years with values on `vintage` units) of every indicator, those with values
    first (catalog order), for the map page's switcher."""
    out = []
    for ind in C.indicators():
        if ind.source == "computed":
            years = (DATA_YEAR[vintage],)
        elif indicators_db is None:
            years = ()
        else:
            years = tuple(C.db_years(indicators_db, ind.name, vintage))
        out.append((ind.name, f"{ind.title(lang)} ({ind.unit(lang)})", years))
    return tuple(sorted(out, key=lambda c: not c[2]))


_CHOICES = LRU(64)


def _revisions(store, indicators_db) -> tuple:
    """What the picker's and the switcher's choices depend on: the data version, the indicator
    values (years with values) and the saved areas (cheap: no query on SQLite)."""
    if indicators_db is None:
        return (id(store), store.version, None, "")
    return (id(store), store.version, indicators_db.revision(), saved_areas_revision(indicators_db))


def map_areas(store, indicators_db, vintage: int, lang: str) -> tuple[tuple[str, str, str], ...]:
    """(key, label, group) of every area a map of `vintage` can show (geoborder.maps.areas.
    area_choices): group "" for all / border / border_communes, "province" for the provinces
    (a border province marked ★), "saved" for the saved named areas (their key is their name).
    Held per data version and saved-areas revision: a save or a deletion shows at once."""
    key = ("areas", *_revisions(store, indicators_db), vintage, lang)
    return _CHOICES.get_or_make(key, lambda: _map_areas(store, indicators_db, vintage, lang))


def _map_areas(store, indicators_db, vintage: int, lang: str) -> tuple[tuple[str, str, str], ...]:
    border = C.border_province_codes(store, vintage)
    codes = {c for c, _ in C.provinces(store, vintage)}
    out = []
    for key, text in area_choices(store, indicators_db, vintage, lang):
        if key in AREAS:
            out.append((key, text, ""))
        elif key in codes:
            out.append((key, f"{text} ★" if key in border else text, "province"))
        else:
            out.append((key, text, "saved"))
    return tuple(out)


# --------------------------------------------------------------------------- the picker


def picker_context(store, indicators_db, lang: str) -> dict:
    """What the map picker offers: indicators (with whether they have values), provinces per
    vintage, the saved areas; held per data version, indicator revision and saved-areas revision."""
    key = ("picker", *_revisions(store, indicators_db), lang)
    return _CHOICES.get_or_make(key, lambda: _picker_context(store, indicators_db, lang))


def _picker_context(store, indicators_db, lang: str) -> dict:
    layer_ids = {info.id for info in store.layers()}
    vintages = [v for v in C.VINTAGES if {f"communes_{v}", f"border_communes_{v}"} <= layer_ids]
    # a store built from a pack without coded communes (e.g. `geoborder fetch`): say what is missing
    missing = sorted({f"{k}_{v}" for v in C.VINTAGES for k in ("communes", "border_communes")} - layer_ids)
    inds = []
    for ind in C.indicators():
        available = {}
        for v in C.VINTAGES:
            if v not in vintages:
                available[v] = []
            elif ind.source == "computed":
                available[v] = [DATA_YEAR[v]]
            elif indicators_db is None:
                available[v] = []
            else:
                available[v] = C.db_years(indicators_db, ind.name, v)
        inds.append(
            {
                "name": ind.name,
                "title": ind.title(lang),
                "unit": ind.unit(lang),
                "source": ind.source,
                "years": available,
            }
        )
    # indicators without values (on any units) at the end of the list, in catalog order
    inds.sort(key=lambda i: not any(i["years"].values()))
    provinces = {}
    saved: list[str] = []
    for v in vintages:
        border = C.border_province_codes(store, v)
        provinces[v] = [{"code": c, "name": n, "border": c in border} for c, n in C.provinces(store, v)]
        # the saved named areas (issue 17): the same names on both units, after the provinces
        saved = [key for key, _, group in map_areas(store, indicators_db, v, lang) if group == "saved"]
    return {
        "indicators": inds,
        "provinces": provinces,
        "saved_areas": saved,
        "vintages": vintages,
        "methods": list(C.METHODS),
        "method_labels": C.LABELS[lang]["method"],
        "k_range": list(range(C.K_MIN, C.K_MAX + 1)),
        "k_default": C.K_DEFAULT,
        "area_labels": C.LABELS[lang],
        "text": TEXT[lang],
        "missing_layers": missing,
    }
