"""The tools of a map page around the map: the indicator and year switchers, the commune search,
the table of the communes on the map, the downloads, and the page's address that keeps the view.

The table and the search read /maps/table.json (the same rows as the downloads) when first used,
so the page itself still carries no commune names or geometry. The address (?lat=&lon=&zoom=
&layers=) is updated as the map moves and layers are switched, so a copied link opens the same view.
"""

from __future__ import annotations

import json

from .map_style import esc

TEXT = {
    "vi": {
        "indicator": "Chỉ tiêu",
        "year": "Năm",
        "search": "Tìm xã",
        "search_ph": "Tên xã, ví dụ: muong leo",
        "no_match": "Không tìm thấy xã nào trong vùng bản đồ.",
        "table": "Bảng số liệu",
        "table_filter": "Lọc theo tên",
        "rank": "Hạng",
        "commune": "Xã",
        "district": "Huyện",
        "province": "Tỉnh",
        "value": "Giá trị",
        "class": "Lớp",
        "border_km": "Biên giới (km)",
        "faces": "Giáp với",
        "close": "Đóng",
        "loading": "Đang tải…",
        "download": "Tải về",
        "no_data_mark": "chưa có số liệu",
        "panel": "Bảng điều khiển",
        "more": "Thêm ▾",
        "shown": "{n} / {total} xã",
        "sort": "Bấm để sắp xếp",
        "from": "Thay đổi từ năm",
        "from_none": "— (bản đồ một năm)",
        "from_one_year": "chỉ có số liệu một năm",
        "measure": "Thước đo",
        "difference": "hiệu số",
        "percent": "% thay đổi",
        "compare": "So sánh: hai bản đồ cạnh nhau",
        "change": "Thay đổi",
        "area": "Vùng",
        "provinces": "Tỉnh",
        "saved_areas": "Khu vực đã lưu",
    },
    "en": {
        "indicator": "Indicator",
        "year": "Year",
        "search": "Find a commune",
        "search_ph": "Commune name, e.g. muong leo",
        "no_match": "No commune of the map's area has this name.",
        "table": "Table of figures",
        "table_filter": "Filter by name",
        "rank": "Rank",
        "commune": "Commune",
        "district": "District",
        "province": "Province",
        "value": "Value",
        "class": "Class",
        "border_km": "Border (km)",
        "faces": "Faces",
        "close": "Close",
        "loading": "Loading…",
        "download": "Download",
        "no_data_mark": "no data",
        "panel": "Map controls",
        "more": "More ▾",
        "shown": "{n} of {total} communes",
        "sort": "Click to sort",
        "from": "Change since",
        "from_none": "— (map of one year)",
        "from_one_year": "values for one year only",
        "measure": "Measure",
        "difference": "difference",
        "percent": "% change",
        "compare": "Compare: two maps side by side",
        "change": "Change",
        "area": "Area",
        "provinces": "Provinces",
        "saved_areas": "Saved areas",
    },
}


def switchers_html(choices: list[dict], indicator: str, year: int, lang: str) -> str:
    """The indicator switcher (indicators without values on these units at the end, marked and
    disabled) and the year switcher of the current indicator."""
    t = TEXT[lang]
    opts = []
    years: list[int] = []
    for c in choices:
        mark = "" if c["years"] else f" — {t['no_data_mark']}"
        sel = " selected" if c["name"] == indicator else ""
        dis = " disabled" if not c["years"] and c["name"] != indicator else ""
        opts.append(f'<option value="{esc(c["name"])}"{sel}{dis}>{esc(c["title"])}{esc(mark)}</option>')
        if c["name"] == indicator:
            years = c["years"]
    if year not in years:
        years = sorted({*years, year})
    yopts = "".join(
        f'<option value="{y}"{" selected" if y == year else ""}>{y}</option>' for y in sorted(years, reverse=True)
    )
    return f"""
 <div class="gb-switch">
  <label for="gb-indicator">{esc(t["indicator"])}</label>
  <select id="gb-indicator">{"".join(opts)}</select>
  <label for="gb-year">{esc(t["year"])}</label>
  <select id="gb-year"{" disabled" if len(years) < 2 else ""}>{yopts}</select>
 </div>"""


def area_html(areas: list[tuple[str, str, str]], current: str, lang: str) -> str:
    """The area switcher: (key, label, group) of each area the map can show, group "" (the
    national areas), "province" or "saved" (the saved named areas: issue 17); `current`: the key
    of the area shown."""
    t = TEXT[lang]
    groups: dict[str, list[str]] = {"": [], "province": [], "saved": []}
    for key, text, group in areas:
        sel = " selected" if key == current else ""
        groups[group].append(f'<option value="{esc(key)}"{sel}>{esc(text)}</option>')
    opts = "".join(groups[""])
    for group, title in (("province", t["provinces"]), ("saved", t["saved_areas"])):
        if groups[group]:
            opts += f'<optgroup label="{esc(title)}" data-group="{group}">{"".join(groups[group])}</optgroup>'
    return f"""
 <div class="gb-switch gb-area">
  <label for="gb-area">{esc(t["area"])}</label>
  <select id="gb-area">{opts}</select>
 </div>"""


def compare_html(
    choices: list[dict], indicator: str, year: int, change: tuple[int, int, str] | None, lang: str, compare_url: str
) -> str:
    """Compare: a change map since an earlier year (difference or % change), and the link to two
    maps side by side."""
    t = TEXT[lang]
    years = next((c["years"] for c in choices if c["name"] == indicator), [])
    earlier = sorted((y for y in years if y < year), reverse=True)
    base = change[0] if change else None
    measure = change[2] if change else "difference"
    opts = f'<option value="">{esc(t["from_none"])}</option>' + "".join(
        f'<option value="{y}"{" selected" if y == base else ""}>{y}</option>' for y in earlier
    )
    title = "" if earlier else f' title="{esc(t["from_one_year"])}"'
    mopts = "".join(
        f'<option value="{m}"{" selected" if m == measure else ""}>{esc(t[m])}</option>'
        for m in ("difference", "percent")
    )
    link = f'<a id="gb-compare" href="{esc(compare_url)}">{esc(t["compare"])}</a>' if compare_url else ""
    return f"""
 <div class="gb-switch gb-compare">
  <label for="gb-from">{esc(t["from"])}</label>
  <select id="gb-from"{" disabled" if not earlier else ""}{title}>{opts}</select>
  <label for="gb-measure">{esc(t["measure"])}</label>
  <select id="gb-measure"{"" if change else " disabled"}>{mopts}</select>
 </div>
 <div class="gb-links">{link}</div>"""


def search_html(lang: str) -> str:
    t = TEXT[lang]
    return f"""
 <div class="gb-search" role="search">
  <label for="gb-search">{esc(t["search"])}</label>
  <input id="gb-search" type="search" autocomplete="off" placeholder="{esc(t["search_ph"])}"
   role="combobox" aria-expanded="false" aria-controls="gb-results" aria-autocomplete="list">
  <ul id="gb-results" role="listbox" hidden></ul>
 </div>"""


def table_html(lang: str, change: tuple[int, int, str] | None = None) -> str:
    """The table of the communes on the map; a change map's shows both years' values too."""
    t = TEXT[lang]
    heading = dict(t)
    cols = [("rank", "n"), ("commune", "s"), ("district", "s")]
    if change:
        heading.update({"value_from": str(change[0]), "value_to": str(change[1]), "value": t["change"]})
        cols += [("value_from", "n"), ("value_to", "n")]
    cols += [("value", "n"), ("class", "n"), ("border_km", "n"), ("faces", "s")]
    heads = "".join(
        f'<th scope="col" data-key="{k}" data-type="{ty}" aria-sort="none"><button type="button" title="{esc(t["sort"])}">'
        f"{esc(heading[k])}</button></th>"
        for k, ty in cols
    )
    return f"""
<div id="gb-table-box" class="gb-box" role="region" aria-label="{esc(t["table"])}" hidden>
 <div class="gb-table-head">
  <span class="gb-title">{esc(t["table"])}</span>
  <input id="gb-table-filter" type="search" placeholder="{esc(t["table_filter"])}" aria-label="{esc(t["table_filter"])}">
  <span id="gb-table-count" class="gb-sub"></span>
  <button type="button" id="gb-table-close">{esc(t["close"])}</button>
 </div>
 <div class="gb-table-scroll"><table id="gb-table"><thead><tr>{heads}</tr></thead><tbody></tbody></table></div>
</div>"""


CSS = """
<style>
 .gb-switch { display: grid; grid-template-columns: auto 1fr; gap: 3px 6px; align-items: center; margin: 4px 0; }
 .gb-switch label, .gb-search label { font-size: 12px; color: #444; }
 .gb-switch select { font: inherit; font-size: 12px; max-width: 270px; }
 .gb-search { position: relative; margin: 4px 0; display: flex; gap: 6px; align-items: center; }
 .gb-search input { font: inherit; font-size: 13px; flex: 1; min-width: 0; padding: 2px 4px; }
 #gb-results { position: absolute; left: 0; right: 0; top: 100%; z-index: 1100; margin: 0; padding: 0;
   list-style: none; background: #fff; border: 1px solid #888; max-height: 220px; overflow: auto; }
 #gb-results li { padding: 3px 6px; cursor: pointer; }
 #gb-results li[aria-selected="true"], #gb-results li:hover { background: #dbe7fb; }
 #gb-results li small { color: #555; }
 #gb-table-box { left: 10px; bottom: 24px; width: min(760px, calc(100vw - 40px)); max-height: 46vh;
   display: flex; flex-direction: column; }
 #gb-table-box[hidden] { display: none; }
 .gb-table-head { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 4px; }
 .gb-table-head input { font: inherit; font-size: 12px; }
 .gb-table-scroll { overflow: auto; }
 #gb-table { border-collapse: collapse; font-size: 12px; width: 100%; }
 #gb-table th { position: sticky; top: 0; background: #f4f4f4; text-align: left; }
 #gb-table th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 2px 4px; cursor: pointer; color: #222; }
 #gb-table th[aria-sort="ascending"] button::after { content: " ▲"; }
 #gb-table th[aria-sort="descending"] button::after { content: " ▼"; }
 #gb-table td { padding: 2px 4px; border-bottom: 1px solid #e4e4e4; }
 #gb-table td.n { text-align: right; font-variant-numeric: tabular-nums; }
 #gb-table tr { cursor: pointer; }
 #gb-table tr:hover td, #gb-table tr:focus td { background: #eef4ff; }
 #gb-table .gb-sw { display: inline-block; width: 12px; height: 10px; border: 1px solid #888; vertical-align: middle; margin-right: 4px; }
 .gb-links button { font: inherit; color: #0b57d0; background: none; border: 0; padding: 0; cursor: pointer; text-decoration: underline; }
 #gb-panel-toggle { display: none; float: right; font: inherit; font-size: 12px; margin-left: 6px; }
 /* a phone or a projector: compact panels, the attribution one short line, nothing over the links */
 @media (max-width: 820px), (max-height: 700px) {
   #gb-panel { left: 50px; right: auto; width: calc(100vw - 110px); max-width: 460px; padding: 6px 8px; font-size: 12px; box-sizing: border-box; }
   #gb-panel-toggle { display: inline-block; }
   #gb-panel:not(.gb-open) .gb-switch, #gb-panel:not(.gb-open) #gb-hover,
   #gb-panel:not(.gb-open) .gb-export, #gb-panel:not(.gb-open) .gb-sub { display: none; }
   #gb-legend { right: 6px; bottom: 22px; max-width: 210px; padding: 5px 7px; font-size: 11px; }
   #gb-legend .gb-title { font-size: 12px; }
   #gb-legend:not(.gb-open) .gb-gates { display: none; }
   .leaflet-control-attribution { font-size: 9px; max-width: calc(100vw - 90px); white-space: nowrap;
     overflow: hidden; text-overflow: ellipsis; }
   .leaflet-control-attribution:hover, .leaflet-control-attribution:focus-within { white-space: normal; }
   #gb-table-box { left: 6px; bottom: 22px; max-height: 52vh; }
 }
</style>"""

JS = """
(function () {
  var map = %(map)s;
  var S = %(state)s, T = %(text)s;
  var overlays = (typeof %(control)s_layers !== 'undefined') ? %(control)s_layers.overlays : {};
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function fold(s) {
    return String(s || '').normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').replace(/[đĐ]/g, 'd')
      .toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  }

  // ---------------------------------------------------------------- the address keeps the view
  var shown = {};
  Object.keys(overlays).forEach(function (title) {
    var key = S.layer_keys[title]; if (key) shown[key] = map.hasLayer(overlays[title]);
  });
  function viewQuery(extra) {
    var q = new URLSearchParams(S.query);
    var c = map.getCenter();
    q.set('lat', c.lat.toFixed(5)); q.set('lon', c.lng.toFixed(5)); q.set('zoom', String(map.getZoom()));
    q.set('layers', Object.keys(shown).filter(function (k) { return shown[k]; }).join(','));
    Object.keys(extra || {}).forEach(function (k) { if (extra[k] == null) q.delete(k); else q.set(k, extra[k]); });
    return q;
  }
  function pageUrl(indicator, extra) { return S.page_base + encodeURIComponent(indicator) + '?' + viewQuery(extra).toString(); }
  function remember() {
    history.replaceState(null, '', pageUrl(S.indicator));
    var other = document.getElementById('gb-lang');
    if (other) other.href = pageUrl(S.indicator, {lang: S.other_lang});
  }
  map.on('moveend', remember);
  map.on('overlayadd', function (e) { if (S.layer_keys[e.name]) { shown[S.layer_keys[e.name]] = true; remember(); } });
  map.on('overlayremove', function (e) { if (S.layer_keys[e.name]) { shown[S.layer_keys[e.name]] = false; remember(); } });
  remember();

  // ---------------------------------------------------------------- the switchers
  var ind = document.getElementById('gb-indicator'), yr = document.getElementById('gb-year');
  var fr = document.getElementById('gb-from'), me = document.getElementById('gb-measure');
  function since(y) {  // a change map keeps its first year while it is before the map's year
    var f = fr && fr.value && (!y || +fr.value < +y) ? fr.value : null;
    return {from: f, measure: f ? me.value : null};
  }
  if (ind) ind.addEventListener('change', function () { window.location = pageUrl(ind.value, {year: null, from: null, measure: null}); });
  var ar = document.getElementById('gb-area');  // another area: the map opens on its bounds
  if (ar) ar.addEventListener('change', function () { window.location = pageUrl(S.indicator, {area: ar.value, lat: null, lon: null, zoom: null}); });
  if (yr) yr.addEventListener('change', function () { window.location = pageUrl(S.indicator, Object.assign({year: yr.value}, since(yr.value))); });
  if (fr) fr.addEventListener('change', function () { window.location = pageUrl(S.indicator, since(null)); });
  if (me) me.addEventListener('change', function () { if (fr.value) window.location = pageUrl(S.indicator, since(null)); });

  // ---------------------------------------------------------------- the rows (table, search)
  var rows = null, loading = null;
  function load() {
    if (!loading) loading = fetch(S.table).then(function (r) { return r.json(); }).then(function (d) { rows = d.rows; return rows; });
    return loading;
  }
  window.geoborderLoadRows = load;
  var highlight = null;
  function show(row) {
    var b = row.bbox;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 12, animate: false, padding: [30, 30]});
    if (highlight) { map.removeLayer(highlight); highlight = null; }
    fetch(S.item.replace('{code}', encodeURIComponent(row.code))).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (f) {
        if (!f) return;
        highlight = L.geoJSON(f, {style: {color: '#00e5ff', weight: 4, opacity: 1, fill: false}, interactive: false}).addTo(map);
        highlight.getLayers().forEach(function (l) { if (l.bringToFront) l.bringToFront(); });
        var halo = L.geoJSON(f, {style: {color: '#000', weight: 7, opacity: 0.6, fill: false}, interactive: false});
        highlight.addLayer(halo); halo.bringToBack && halo.bringToBack();
      });
    var pt = L.latLng(row.point[1], row.point[0]);
    map.fire('click', {latlng: pt, gbKeyboard: true});
    window.geoborderHighlighted = row.code;
  }
  window.geoborderShowCommune = function (code) {
    return load().then(function (rs) { var r = rs.find(function (x) { return x.code === code; }); if (r) show(r); return !!r; });
  };

  // search box: without diacritics too ("muong leo"), arrows + Enter, click
  var box = document.getElementById('gb-search'), list = document.getElementById('gb-results'), hits = [], cur = -1;
  function render() {
    list.innerHTML = '';
    if (!hits.length) {
      if (box.value.trim()) { var li = document.createElement('li'); li.textContent = T.no_match; li.setAttribute('aria-disabled', 'true'); list.appendChild(li); }
    }
    hits.forEach(function (r, i) {
      var li = document.createElement('li');
      li.id = 'gb-hit-' + i; li.setAttribute('role', 'option'); li.setAttribute('aria-selected', i === cur ? 'true' : 'false');
      li.innerHTML = esc(r.title) + ' <small>' + esc([r.district, r.province].filter(Boolean).join(', ')) + ' · ' + esc(r.value_text) + '</small>';
      li.addEventListener('mousedown', function (e) { e.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    list.hidden = !box.value.trim();
    box.setAttribute('aria-expanded', list.hidden ? 'false' : 'true');
    if (cur >= 0) box.setAttribute('aria-activedescendant', 'gb-hit-' + cur); else box.removeAttribute('aria-activedescendant');
  }
  function find() {
    var q = fold(box.value);
    load().then(function (rs) {
      if (!q) { hits = []; cur = -1; render(); return; }
      var starts = [], inside = [];
      rs.forEach(function (r) { var k = r.key || fold(r.name); var i = k.indexOf(q); if (i === 0) starts.push(r); else if (i > 0 || fold(r.title).indexOf(q) >= 0) inside.push(r); });
      hits = starts.concat(inside).slice(0, 12); cur = hits.length ? 0 : -1; render();
    });
  }
  function pick(i) { var r = hits[i]; if (!r) return; box.value = r.title; list.hidden = true; box.setAttribute('aria-expanded', 'false'); show(r); }
  if (box) {
    box.addEventListener('focus', load);
    box.addEventListener('input', find);
    box.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown') { cur = Math.min(cur + 1, hits.length - 1); render(); e.preventDefault(); }
      else if (e.key === 'ArrowUp') { cur = Math.max(cur - 1, 0); render(); e.preventDefault(); }
      else if (e.key === 'Enter') { pick(cur < 0 ? 0 : cur); e.preventDefault(); }
      else if (e.key === 'Escape') { list.hidden = true; box.setAttribute('aria-expanded', 'false'); }
    });
    box.addEventListener('blur', function () { setTimeout(function () { list.hidden = true; box.setAttribute('aria-expanded', 'false'); }, 150); });
  }

  // the table: sortable (click or Enter on a heading), filtered by name, a row zooms to its commune
  var tbox = document.getElementById('gb-table-box'), tbody = document.querySelector('#gb-table tbody'),
      filter = document.getElementById('gb-table-filter'), count = document.getElementById('gb-table-count'),
      sortKey = 'rank', sortDir = 1;
  function cell(r, k) {
    if (k === 'commune') return r.title; if (k === 'value') return r.value; if (k === 'class') return r['class'];
    if (k === 'border_km') return r.border_km; return r[k];
  }
  function drawTable() {
    var q = fold(filter.value);
    var list = rows.filter(function (r) { return !q || (r.key || '').indexOf(q) >= 0 || fold(r.title).indexOf(q) >= 0; });
    list.sort(function (a, b) {
      var x = cell(a, sortKey), y = cell(b, sortKey);
      if (x == null && y == null) return 0; if (x == null) return 1; if (y == null) return -1;
      if (typeof x === 'number') return (x - y) * sortDir;
      return String(x).localeCompare(String(y), S.lang) * sortDir;
    });
    tbody.innerHTML = list.map(function (r) {
      var both = S.change ? '<td class="n">' + esc(r.value_from_text) + '</td><td class="n">' + esc(r.value_to_text) + '</td>' : '';
      return '<tr tabindex="0" data-code="' + esc(r.code) + '"><td class="n">' + (r.rank == null ? '' : r.rank) + '</td><td>' + esc(r.title) +
        '</td><td>' + esc(r.district || '') + '</td>' + both + '<td class="n">' + esc(r.value_text) + '</td><td><span class="gb-sw" style="background:' +
        esc(r.color) + '"></span>' + esc(r.class_label) + '</td><td class="n">' + esc(r.border_text || '') + '</td><td>' + esc(r.faces || '') + '</td></tr>';
    }).join('');
    count.textContent = T.shown.replace('{n}', list.length).replace('{total}', rows.length);
    document.querySelectorAll('#gb-table th').forEach(function (th) {
      th.setAttribute('aria-sort', th.dataset.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    });
  }
  function openTable() {
    tbox.hidden = false; count.textContent = T.loading;
    load().then(drawTable);
  }
  var tbtn = document.getElementById('gb-table-open');
  if (tbtn) tbtn.addEventListener('click', function () { if (tbox.hidden) openTable(); else tbox.hidden = true; });
  document.getElementById('gb-table-close').addEventListener('click', function () { tbox.hidden = true; if (tbtn) tbtn.focus(); });
  filter.addEventListener('input', function () { if (rows) drawTable(); });
  document.querySelectorAll('#gb-table th button').forEach(function (b) {
    b.addEventListener('click', function () {
      var k = b.parentNode.dataset.key;
      if (k === sortKey) sortDir = -sortDir; else { sortKey = k; sortDir = (k.indexOf('value') === 0 || k === 'border_km') ? -1 : 1; }
      drawTable();
    });
  });
  function rowPick(e) {
    var tr = e.target.closest('tr[data-code]'); if (!tr) return;
    var r = rows.find(function (x) { return x.code === tr.dataset.code; }); if (r) show(r);
  }
  tbody.addEventListener('click', rowPick);
  tbody.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { rowPick(e); e.preventDefault(); } });
  L.DomEvent.disableClickPropagation(tbox); L.DomEvent.disableScrollPropagation(tbox);
  ['gb-panel', 'gb-legend'].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) { L.DomEvent.disableClickPropagation(el); L.DomEvent.disableScrollPropagation(el); }
  });

  var pt = document.getElementById('gb-panel-toggle'), panel = document.getElementById('gb-panel');
  if (pt) pt.addEventListener('click', function () {
    var open = panel.classList.toggle('gb-open'); pt.setAttribute('aria-expanded', open ? 'true' : 'false');
  });
  // small screens (phone, projector): the layer list starts collapsed and opens from its button
  var ctl = (typeof %(control)s !== 'undefined') ? %(control)s : null;
  var small = window.matchMedia('(max-width: 820px), (max-height: 700px)');
  if (ctl && small.matches) {
    ctl.collapse();
    map.on('click', function () { ctl.collapse(); });
  }
})();
"""


def tools_js(map_name: str, control_name: str, state: dict, lang: str) -> str:
    return JS % {
        "map": map_name,
        "control": control_name,
        "state": json.dumps(state, ensure_ascii=False).replace("</", "<\\/"),
        "text": json.dumps(TEXT[lang], ensure_ascii=False),
    }
