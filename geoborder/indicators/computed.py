"""Indicators geoborder computes from the store's layers (no imported values involved).

Distances are measured in the catalog's metric CRS (build.metric_crs) with vectorised shapely 2.
  population, area_km2   the commune layer's own fields (2025: area_km2; 2009: area_ha / 100)
  density                population / area_km2
  border_length_km       the border line assigned to the commune (border_communes_<vintage>), else 0
  gates_in_commune       gates the build placed in the commune (gates.commune_code_<vintage>)
  nearest_gate_km        distance from the commune polygon to the nearest located gate
  roadless_settlements   settlements (places, cc = VN) inside the commune that lie farther than
                         params.road_distance_m from every road (railways excluded)
  villages               villages and hamlets of the `villages` layer (GeoNames) the build placed
                         in the commune (villages.commune_code_<vintage>, by position)
  villages_far_from_road_pct
                         share of those villages farther than params.road_distance_m from every
                         road of the `roads` layer (national and provincial roads; railways
                         excluded); empty for a commune without a village
The villages are incomplete (GeoNames has about a third of them) and 57 % of their positions are on
a whole-arc-minute grid (about +-1-2 km); a store without the villages layer gives no value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geoborder.core.crs import reproject
from geoborder.indicators.catalog import IndicatorCatalog, load_indicators

_CACHE: dict = {}


def _metric(store, gdf) -> np.ndarray:
    crs = store.catalog.build["metric_crs"]
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    return reproject(geoms, "EPSG:4326", crs)


def compute(store, vintage: int, names, *, catalog: IndicatorCatalog | None = None) -> pd.DataFrame:
    """Computed indicators of every commune of `vintage`, indexed by commune_code."""
    catalog = catalog or load_indicators()
    key = (id(store), store.version, vintage)
    if key not in _CACHE:
        _CACHE[key] = _compute_all(store, vintage, catalog)
    return _CACHE[key][list(names)]


def _compute_all(store, vintage: int, catalog: IndicatorCatalog) -> pd.DataFrame:
    communes = store.frame(f"communes_{vintage}")
    codes = communes["commune_code"].astype(str).to_numpy()
    out = pd.DataFrame(index=pd.Index(codes, name="commune_code"))
    # a nullable whole number in the store (missing = no data): NaN here, for the arithmetic below
    out["population"] = pd.to_numeric(communes["population"], errors="coerce").astype("float64").to_numpy()
    if vintage == 2025:
        out["area_km2"] = pd.to_numeric(communes["area_km2"], errors="coerce").to_numpy()
    else:
        out["area_km2"] = pd.to_numeric(communes["area_ha"], errors="coerce").to_numpy() / 100.0
    area = out["area_km2"].where(out["area_km2"] > 0)
    out["density"] = out["population"] / area

    border = store.frame(f"border_communes_{vintage}")
    out["border_length_km"] = border.set_index("commune_code")["border_length_km"].reindex(codes).fillna(0.0).to_numpy()

    gates = store.frame("gates")
    gcol = f"commune_code_{vintage}"
    placed = gates[gcol].dropna().astype(str) if gcol in gates.columns else pd.Series([], dtype=str)
    out["gates_in_commune"] = placed.value_counts().reindex(codes).fillna(0).astype(int).to_numpy()

    poly = shapely.make_valid(_metric(store, communes))
    located = gates[gates.geometry.notna() & ~gates.geometry.is_empty]
    if len(located):
        gpts = _metric(store, located)
        tree = shapely.STRtree(gpts)
        ci, gi = tree.query_nearest(poly, all_matches=False)
        dist = np.full(len(codes), np.nan)
        dist[ci] = shapely.distance(poly[ci], gpts[gi]) / 1000.0
        out["nearest_gate_km"] = dist
    else:
        out["nearest_gate_km"] = np.nan

    threshold = float(catalog.get("roadless_settlements").params.get("road_distance_m", 2000.0))
    places = store.frame("places")
    places = places[places["cc"] == "VN"]
    roads = store.frame("roads")
    if "is_railway" in roads.columns:
        roads = roads[~roads["is_railway"].astype(bool)]
    count = np.zeros(len(codes), dtype=int)
    if len(places) and len(roads):
        ppts = _metric(store, places)
        rtree = shapely.STRtree(_metric(store, roads))
        near = rtree.query(ppts, predicate="dwithin", distance=threshold)
        has_road = np.zeros(len(ppts), dtype=bool)
        has_road[near[0]] = True
        far = ppts[~has_road]
        if len(far):
            pi, ci = shapely.STRtree(poly).query(far, predicate="within")
            # a settlement on a shared edge counts once
            _, first = np.unique(pi, return_index=True)
            np.add.at(count, ci[first], 1)
    out["roadless_settlements"] = count
    _village_indicators(store, out, codes, vintage, catalog)
    return out


def _road_tree(store):
    roads = store.frame("roads")
    if "is_railway" in roads.columns:
        roads = roads[~roads["is_railway"].astype(bool)]
    return shapely.STRtree(_metric(store, roads)) if len(roads) else None


def _village_indicators(store, out: pd.DataFrame, codes: np.ndarray, vintage: int, catalog: IndicatorCatalog):
    """villages and villages_far_from_road_pct of each commune (NaN without a villages layer)."""
    if "villages" not in {lyr.id for lyr in store.layers()}:
        out["villages"] = np.nan
        out["villages_far_from_road_pct"] = np.nan
        return
    villages = store.frame("villages")
    col = f"commune_code_{vintage}"
    placed = villages[villages[col].notna()] if col in villages.columns else villages.iloc[0:0]
    vcodes = placed[col].astype(str)
    out["villages"] = vcodes.value_counts().reindex(codes).fillna(0).astype(int).to_numpy()
    threshold = float(catalog.get("villages_far_from_road_pct").params.get("road_distance_m", 2000.0))
    tree = _road_tree(store)
    far = np.ones(len(placed), dtype=bool)
    if tree is not None and len(placed):
        near = tree.query(_metric(store, placed), predicate="dwithin", distance=threshold)
        far[near[0]] = False
    n_far = pd.Series(far, index=vcodes.to_numpy()).groupby(level=0).sum()
    total = out["villages"].astype("float64")
    share = 100.0 * n_far.reindex(codes).fillna(0).to_numpy() / total.where(total > 0).to_numpy()
    out["villages_far_from_road_pct"] = np.round(share, 1)
