"""Vector tiles on PostGIS (issue 8): ST_AsMVT gives the tiles the GeoPackage store gives.

The same real store is served from the GeoPackage (`client`, in-memory mapbox-vector-tile encoder)
and from PostGIS (`published_url`, geoborder/tiles_sql.py): for a spread of tiles (Sơn La communes
from zoom 5 to 12, the 2009 communes, points, lines, large polygons at low zoom) both decode to the
same features (same fid, same properties) with geometries equal within a fraction of a pixel; an
empty tile is a 204 on both; the PostGIS tiles never touch the frames; hostile ids and z/x/y are 4xx
and reach no SQL. Also (GeoPackage only): a multipolygon whose small parts collapse on the tile grid
keeps its other parts (the in-memory encoder used to drop the whole feature).
"""

from __future__ import annotations

import mapbox_vector_tile
import pandas as pd
import pytest
import shapely
from pg_fixtures import HOSTILE
from shapely.geometry import shape

from geoborder.core import tilegrid as G
from geoborder.core.errors import NotFound
from geoborder.store.postgis import tiles as tiles_sql
from geoborder.tiles import render as T

PX = G.MVT_EXTENT / G.TILE_SIZE  # tile units in one pixel (16)

# (layer, z, x, y): Sơn La (central tile of tests/api/test_tiles.py at zoom 9, and around it), the
# north-west border, all of the north at low zoom, points, lines, and countries / provinces
TILES = [
    ("communes_2025", 12, 3226, 1795),
    ("communes_2025", 9, 403, 224),
    ("communes_2025", 7, 100, 56),
    ("communes_2025", 5, 25, 14),
    ("communes_2009", 9, 403, 224),
    ("border_communes_2025", 8, 201, 112),
    ("gates", 7, 100, 56),
    ("gates", 6, 51, 28),
    ("places", 8, 201, 112),
    ("commune_seats_2025", 9, 403, 224),
    ("border_lines", 7, 100, 56),
    ("border_lines", 9, 402, 224),
    ("roads", 10, 806, 449),
    ("provinces_2025", 4, 12, 7),
    ("countries", 3, 6, 3),
]


def _url(layer: str, z, x, y) -> str:
    return f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{x}/{y}"


def _features(r, layer: str) -> dict[int, dict]:
    if r.status_code == 204:
        return {}
    assert r.status_code == 200 and r.headers["content-type"] == G.MVT, (r.status_code, r.text[:300])
    tile = mapbox_vector_tile.decode(r.content)
    assert set(tile) == {layer}
    assert tile[layer]["extent"] == G.MVT_EXTENT
    feats = tile[layer]["features"]
    ids = [f["id"] for f in feats]
    assert len(ids) == len(set(ids)), "one feature per fid"
    return {f["id"]: f for f in feats}


def _same_shape(a, b) -> None:
    """Two decoded geometries (tile units) differ by less than a pixel."""
    ga, gb = shape(a), shape(b)
    assert ga.geom_type.removeprefix("Multi") == gb.geom_type.removeprefix("Multi")
    if ga.geom_type.endswith("Point"):
        assert ga.hausdorff_distance(gb) <= 1.5  # the same grid, rounding aside
        return
    ga, gb = shapely.make_valid(ga), shapely.make_valid(gb)
    if ga.geom_type.endswith("Polygon"):
        # the area between the two outlines, per unit of outline: their mean distance
        assert ga.symmetric_difference(gb).area / max(ga.length, 1.0) < 1.0
        if ga.area > 4 * PX * PX:
            assert abs(ga.area - gb.area) / ga.area < 0.02
            assert ga.centroid.distance(gb.centroid) < PX / 2
    else:
        assert ga.hausdorff_distance(gb) < 2 * PX
        assert abs(ga.length - gb.length) / max(ga.length, 1.0) < 0.05


@pytest.mark.parametrize("layer, z, x, y", TILES)
def test_postgis_tile_has_the_features_of_the_geopackage_tile(client, pclient, real_store, layer, z, x, y):
    want = _features(client.get(_url(layer, z, x, y)), layer)
    got = _features(pclient.get(_url(layer, z, x, y)), layer)
    assert want, "the chosen tiles all have data"
    assert set(got) == set(want)
    # the features are those of the layer that intersect the tile (fid = the GeoPackage fid)
    frame = real_store.frame(layer)
    frame = frame[frame.geometry.notna()]
    hit = frame[frame.intersects(shapely.box(*G.tile_lonlat_bounds(z, x, y)))]
    assert set(got) == {int(i) for i in hit.index}
    for fid, f in want.items():
        assert got[fid]["properties"] == f["properties"], fid
        assert got[fid]["type"] == f["type"], fid
        _same_shape(f["geometry"], got[fid]["geometry"])


@pytest.mark.parametrize(
    "layer, z, x, y, column, value",
    [
        ("countries", 3, 6, 3, "code", "VN"),  # hundreds of islets, most collapse at zoom 3
        ("communes_2025", 5, 25, 14, "commune_code", "06688"),  # Hạ Long, with the islands of the bay
    ],
)
def test_geopackage_tiles_keep_features_whose_small_parts_collapse(client, real_store, layer, z, x, y, column, value):
    """The in-memory encoder once dropped a whole multipolygon when one of its parts collapsed on
    the tile grid (Việt Nam was missing from the zoom-3 countries tile); ST_AsMVT never did."""
    feats = _features(client.get(_url(layer, z, x, y)), layer)
    frame = real_store.frame(layer)
    fid = int(frame.index[frame[column] == value][0])
    assert fid in feats and feats[fid]["properties"][column] == value
    assert shape(feats[fid]["geometry"]).geom_type == "MultiPolygon"


def test_son_la_properties_are_typed_and_nulls_left_out(pclient, real_store):
    feats = _features(pclient.get(_url("communes_2025", 9, 403, 224)), "communes_2025")
    frame = real_store.frame("communes_2025")
    son_la = [f for f in feats.values() if f["properties"]["province_code"] == "14"]
    assert len(son_la) > 20
    for f in son_la:
        row = frame.loc[f["id"]]
        p = f["properties"]
        assert p["commune_code"] == row["commune_code"] and p["province_name"] == "Sơn La"
        assert isinstance(p["population"], int) and p["population"] == int(row["population"])
        assert isinstance(p["area_km2"], float) and p["area_km2"] == pytest.approx(float(row["area_km2"]))
        assert set(p) == {c for c in frame.columns if c != "geometry" and pd.notna(row[c])}


def test_empty_tiles_are_204_on_postgis(client, pclient, pstore, monkeypatch):
    calls = []
    fetch = pstore.fetch
    monkeypatch.setattr(pstore, "fetch", lambda *a, **k: calls.append(a) or fetch(*a, **k))
    T.clear_cache()
    # the Arctic: outside every layer's extent, answered without a query
    r = pclient.get(_url("communes_2025", 9, 0, 0))
    assert r.status_code == 204 and r.content == b"" and r.headers["etag"]
    assert calls == []
    # open sea in the Gulf of Tonkin: inside the communes' extent, so the database is asked
    t = G.tms().tile(107.9, 19.6, 9)
    w, s, e, n = G.tile_lonlat_bounds(9, t.x, t.y)
    b = pstore.layer("communes_2025").bbox
    assert b[0] < w and e < b[2] and b[1] < s and n < b[3]
    for c in (client, pclient):
        r = c.get(_url("communes_2025", 9, t.x, t.y))
        assert r.status_code == 204 and r.content == b""
    assert len(calls) == 1
    assert tiles_sql.layer_mvt(pstore, "communes_2025", 9, t.x, t.y, extent=G.MVT_EXTENT, buffer=T.MVT_BUFFER) is None


def test_postgis_tiles_are_made_in_sql_not_from_frames(pclient, pstore, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the in-memory tile path was used on PostGIS")

    monkeypatch.setattr(T, "projected", refuse)
    monkeypatch.setattr(T, "geoms_at_zoom", refuse)
    monkeypatch.setattr(pstore, "frame", refuse)
    statements = []
    fetch = pstore.fetch
    monkeypatch.setattr(pstore, "fetch", lambda q, *a, **k: statements.append(q) or fetch(q, *a, **k))
    T.clear_cache()
    for layer, z, x, y in [("communes_2025", 9, 403, 224), ("gates", 7, 100, 56), ("border_lines", 7, 100, 56)]:
        r = pclient.get(_url(layer, z, x, y))
        assert r.status_code == 200 and _features(r, layer)
    texts = [q.as_string(None) if hasattr(q, "as_string") else str(q) for q in statements]
    mvt = [t for t in texts if "ST_AsMVT(" in t]
    assert len(mvt) == 3
    assert all("ST_AsMVTGeom" in t and "ST_TileEnvelope" in t and f'"{pstore.snapshot().schema}"' in t for t in mvt)


@pytest.mark.parametrize(
    "layer",
    [
        HOSTILE,
        "communes_2025'--",
        "communes_2025;",
        "COMMUNES_2025",
        "geoborder_current",
        "markers_unplaced",
        "geoborder_layers",
        "_gb_tables",
        "pg_catalog.pg_class",
        "communes_2030",
    ],
)
def test_hostile_collection_ids_are_404_without_sql(pclient, pstore, monkeypatch, layer):
    calls = []
    fetch = pstore.fetch
    monkeypatch.setattr(pstore, "fetch", lambda *a, **k: calls.append(a) or fetch(*a, **k))
    r = pclient.get(_url(layer, 9, 403, 224))
    assert r.status_code == 404, (layer, r.status_code)
    assert calls == []
    with pytest.raises(NotFound):
        tiles_sql.layer_mvt(pstore, layer, 9, 403, 224, extent=G.MVT_EXTENT, buffer=T.MVT_BUFFER)
    assert calls == []


@pytest.mark.parametrize(
    "zxy, status",
    [
        ("19/0/0", 400),
        ("-1/0/0", 400),
        # outside the tile matrix: 404 (OGC API - Tiles), as an unknown tile
        ("3/8/0", 404),
        ("3/0/-1", 404),
        ("3/0/8", 404),
        ("99999999999999999999/0/0", 400),
        ("9/403/99999999999999999999", 404),
        ("9/403/224;DROP", 400),
        ("9/403.5/224", 400),
        ("9/0x1/224", 400),
        ("9/%27/224", 400),
    ],
)
def test_hostile_tile_coordinates_are_4xx(pclient, pstore, published_url, zxy, status):
    r = pclient.get(f"/collections/communes_2025/tiles/WebMercatorQuad/{zxy}")
    assert r.status_code == status, (zxy, r.status_code, r.text[:200])
    # the data is still there
    from pg_fixtures import pg_count

    assert (
        pg_count(published_url, pstore.snapshot().schema, "communes_2025")
        == pstore.layer("communes_2025").feature_count
    )
