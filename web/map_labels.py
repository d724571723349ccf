"""The names on a map page, drawn by the browser without internet: countries, provinces (Vietnamese
and partner), partner districts, towns, rivers, the communes of the map and, from zoom 12, villages.

Each label is a point with a text, a kind (its style), the zooms it is shown at, a priority and
the layer it belongs to (a label shows only while its layer is on). On every `moveend`/`zoomend`
the page adds the labels of the view and hides each one whose box overlaps a label of higher
priority, so no two visible names collide. Commune names come from the page's table rows
(/maps/table.json, read when first needed); villages are asked for the view from
/collections/villages/items?bbox= (zoom 11 tiles, each asked once), never all at once.
"""

from __future__ import annotations

import json

# kind -> (first zoom, last zoom or None, priority, the layer key it belongs to); a higher
# priority wins a collision
KINDS = {
    "country": (4, 8, 100, "partners"),
    "province": (6, None, 90, "provinces"),
    "partner": (6, None, 80, "partners"),
    "city": (6, None, 70, "labels"),
    "commune": (10, None, 60, "labels"),
    "river": (8, None, 50, "rivers"),
    "district": (9, None, 40, "partners"),
    "town": (8, None, 30, "labels"),
    "place": (10, None, 20, "labels"),
    "village": (12, None, 10, "labels"),
}
COMMUNE_ZOOM = KINDS["commune"][0]
VILLAGE_ZOOM = KINDS["village"][0]


def label(text: str, lon: float, lat: float, kind: str, rank: float = 0.0) -> list:
    """One label, [text, lon, lat, kind, rank]: `rank` (0-9.99) orders the labels of one kind
    (larger first). What the kind says (zooms, priority, layer) is in KINDS."""
    if kind not in KINDS:
        raise ValueError(f"label kind {kind!r}")
    return [str(text), round(float(lon), 5), round(float(lat), 5), kind, round(max(0.0, min(float(rank), 9.99)), 2)]


CSS = """
<style>
 .leaflet-gb-labels-pane { pointer-events: none; }
 .gb-label-anchor { width: 0; height: 0; }
 .gb-label { position: absolute; left: 0; top: 0; transform: translate(-50%, -50%); white-space: nowrap;
   font: 12px/1.15 system-ui, sans-serif; color: #1a1a1a; pointer-events: none;
   text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
 .gb-label-hidden .gb-label { visibility: hidden; }
 .gb-label-country { font-size: 14px; font-weight: 600; letter-spacing: 0.12em; text-transform: uppercase; color: #3a3a3a; }
 .gb-label-province { font-size: 13px; font-weight: 600; color: #262626; }
 .gb-label-partner { font-size: 12px; font-style: italic; color: #333; }
 .gb-label-district { font-size: 11px; font-style: italic; color: #444; }
 .gb-label-city { font-size: 12px; font-weight: 600; }
 .gb-label-town, .gb-label-place { font-size: 11px; }
 .gb-label-commune { font-size: 11px; color: #111; }
 .gb-label-river { font-size: 11px; font-style: italic; color: #1f5f99; }
 .gb-label-village { font-size: 10px; color: #333; }
</style>"""

JS = """
(function () {
  var map = %(map)s, owners = %(owners)s, U = %(urls)s, K = %(kinds)s;
  function entry(a) { var k = K[a[3]]; return {t: a[0], x: a[1], y: a[2], k: a[3], z: k[0], Z: k[1], p: k[2] + a[4], o: k[3]}; }
  var all = %(labels)s.map(entry);
  var pane = map.getPane('gb-labels') || map.createPane('gb-labels');
  pane.style.zIndex = 450; pane.style.pointerEvents = 'none';
  var layer = L.layerGroup().addTo(map);
  if (owners.border_line && owners.border) {
    // the border line's white casing, from the line's own data
    var casing = L.geoJSON(owners.border_line.toGeoJSON(), {style: {color: '%(casing)s', weight: 6, opacity: 0.95}, interactive: false});
    owners.border.addLayer(casing);
    function onTop() { if (map.hasLayer(casing)) { casing.bringToFront(); owners.border_line.bringToFront(); } }
    onTop(); map.on('overlayadd', onTop);
  }
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function ownerOn(o) { return owners[o] ? map.hasLayer(owners[o]) : false; }
  function marker(e) {
    if (!e.m) {
      e.m = L.marker([e.y, e.x], {
        icon: L.divIcon({className: 'gb-label-anchor', iconSize: null,
          html: '<span class="gb-label gb-label-' + e.k + '">' + esc(e.t) + '</span>'}),
        pane: 'gb-labels', interactive: false, keyboard: false
      });
    }
    return e.m;
  }
  function update() {
    var z = map.getZoom(), b = map.getBounds().pad(0.05), want = [];
    all.forEach(function (e) {
      var on = z >= e.z && (e.Z == null || z <= e.Z) && ownerOn(e.o) && b.contains([e.y, e.x]);
      if (on) want.push(e); else if (e.m && layer.hasLayer(e.m)) layer.removeLayer(e.m);
    });
    want.sort(function (a, c) { return c.p - a.p; });
    want.forEach(function (e) { var m = marker(e); if (!layer.hasLayer(m)) layer.addLayer(m); });
    // one layout for all the boxes, then the greedy pass: a label overlapping a placed one is hidden
    var rects = want.map(function (e) { return e.m.getElement().firstChild.getBoundingClientRect(); });
    var placed = [];
    want.forEach(function (e, i) {
      var r = rects[i];
      var hit = placed.some(function (q) {
        return r.left < q.right + 3 && r.right > q.left - 3 && r.top < q.bottom + 1 && r.bottom > q.top - 1;
      });
      e.m.getElement().classList.toggle('gb-label-hidden', hit);
      if (!hit) placed.push(r);
    });
  }
  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(update, 30); }

  // the communes of the map: their names from the page's table rows, read when first needed
  var communes = null;
  function loadCommunes() {
    if (communes || map.getZoom() < %(commune_zoom)d || !window.geoborderLoadRows) return;
    communes = window.geoborderLoadRows().then(function (rows) {
      rows.forEach(function (r) {
        if (r.point) all.push(entry([r.name, r.point[0], r.point[1], 'commune', 0]));
      });
      update();
    });
  }
  // villages from zoom 12: the view's zoom-11 tiles, each asked once
  var asked = {}, N = 2048;
  function tx(lon) { return Math.floor((lon + 180) / 360 * N); }
  function ty(lat) { var r = lat * Math.PI / 180; return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * N); }
  function lonOf(x) { return x / N * 360 - 180; }
  function latOf(y) { var n = Math.PI - 2 * Math.PI * y / N; return 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))); }
  function loadVillages() {
    if (!U.villages || map.getZoom() < %(village_zoom)d || !ownerOn('labels')) return;
    var b = map.getBounds();
    for (var x = tx(b.getWest()); x <= tx(b.getEast()); x++) {
      for (var y = ty(b.getNorth()); y <= ty(b.getSouth()); y++) {
        var key = x + '/' + y;
        if (asked[key]) continue;
        asked[key] = true;
        var bbox = [lonOf(x), latOf(y + 1), lonOf(x + 1), latOf(y)].map(function (v) { return v.toFixed(5); }).join(',');
        fetch(U.villages + '&bbox=' + bbox).then(function (r) { return r.ok ? r.json() : null; }).then(function (fc) {
          if (!fc || !fc.features) return;
          fc.features.forEach(function (f) {
            var c = f.geometry && f.geometry.coordinates, n = f.properties && f.properties.name;
            if (c && n) all.push(entry([n, c[0], c[1], 'village', 0]));
          });
          later();
        });
      }
    }
  }
  function moved() { loadCommunes(); loadVillages(); update(); }
  map.on('zoomend moveend overlayadd overlayremove', moved);
  window.geoborderLabels = {update: update, all: all};
  moved();
})();
"""


def labels_js(map_name: str, labels: list[list], owners: dict[str, str], villages_url: str) -> str:
    """The page script of the labels; `owners`: layer key -> the JS name of its layer."""
    owner_js = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in owners.items()) + "}"
    return JS % {
        "map": map_name,
        "labels": json.dumps(labels, ensure_ascii=False).replace("</", "<\\/"),
        "owners": owner_js,
        "urls": json.dumps({"villages": villages_url}),
        "kinds": json.dumps(KINDS),
        "casing": "#ffffff",
        "commune_zoom": COMMUNE_ZOOM,
        "village_zoom": VILLAGE_ZOOM,
    }
