"""The simplified tile geometries are held packed as WKB (issue 18): what a tile reads back is
exactly the geometry simplified for its zoom, on the real commune layers."""

from __future__ import annotations

import numpy as np
import shapely

from geoborder.tiles import render


def test_packed_geometries_read_back_exactly(real_store):
    render.clear_cache()
    for layer in ("communes_2025", "communes_2009"):
        full = render.projected(real_store, layer).geoms
        for z in (5, 9):
            tol = (render.tile_bounds(z, 0, 0)[2] - render.tile_bounds(z, 0, 0)[0]) / render.TILE_SIZE / 2
            want = shapely.simplify(full, tol, preserve_topology=False)
            packed = render.simplified(real_store, layer, z)
            assert len(packed) == len(full)
            idx = np.random.default_rng(z).permutation(len(full))[:500]
            got = render.geoms_at_zoom(real_store, layer, z, idx)
            assert list(shapely.to_wkb(got)) == list(shapely.to_wkb(want[idx]))
        # from SIMPLIFY_BELOW_ZOOM on, the projected geometries themselves
        got = render.geoms_at_zoom(real_store, layer, render.SIMPLIFY_BELOW_ZOOM, np.arange(3))
        assert list(shapely.to_wkb(got)) == list(shapely.to_wkb(full[:3]))
    render.clear_cache()


def test_packed_keeps_missing_and_empty_geometries():
    geoms = np.array([shapely.Point(1, 2), None, shapely.Polygon(), shapely.box(0, 0, 1, 1)], dtype=object)
    packed = render.Packed.of(geoms)
    got = packed.take(np.array([3, 1, 2, 0]))
    assert got[1] is None and got[2].is_empty and got[2].geom_type == "Polygon"
    assert got[0].equals_exact(geoms[3], 0) and got[3].equals_exact(geoms[0], 0)
    assert len(packed.take(np.array([], dtype=np.int64))) == 0


def test_projected_query_is_the_tree_query_over_the_geometries(real_store):
    """The projected layers are packed too, their tree over the envelopes: a box query gives the
    same rows, in the same order, as an STRtree over the geometries with predicate intersects."""
    render.clear_cache()
    for layer in ("communes_2025", "roads", "places", "border_lines"):
        proj = render.projected(real_store, layer)
        full = proj.geoms
        tree = shapely.STRtree(full)
        x0, y0, x1, y1 = proj.bounds
        rng = np.random.default_rng(18)
        for _ in range(40):
            w = (x1 - x0) * rng.uniform(0.005, 0.3)
            cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
            box = (cx - w, cy - w, cx + w, cy + w)
            want = tree.query(shapely.box(*box), predicate="intersects")
            assert list(proj.query(box)) == list(want)
    render.clear_cache()
