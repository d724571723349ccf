"""Issue 14 building blocks on small made-up inputs (names say so): the district decides the
partner province, village selection, zonal statistics on a made-up DEM, village elevations."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from geoborder.build.border import PartnerLayer, Pieces, partner_of_pieces
from geoborder.build.geom import to_metric
from geoborder.build.terrain import CELLS_INSIDE, CENTROID_CELL, NO_LAND_CELL, Dem, village_elevations, zonal_stats
from geoborder.build.transforms import TRANSFORMS
from geoborder.build.villages import select_villages

METRIC = "EPSG:3405"


def _gdf(rows, geoms):
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")


def test_made_up_county_decides_the_province():
    # two made-up provinces side by side at 105-106 / 106-107 E; a made-up county of province B
    # reaches west into A's box (layers simplified separately). A piece inside A's box but on
    # that county takes the county, and its province B, not the nearest province A.
    prov = _gdf(
        [{"code": "A", "name": "Prov A"}, {"code": "B", "name": "Prov B"}],
        [shapely.box(105, 22, 106, 23), shapely.box(106, 22, 107, 23)],
    )
    county = _gdf(
        [{"adcode": "999001", "name": "County B1", "province_code": "B", "province_name": "x"}],
        [shapely.box(105.8, 22, 107, 23)],
    )
    mid = to_metric(_gdf([{}], [shapely.Point(105.9, 22.5)]), METRIC)
    pieces = Pieces(np.array([None]), mid, np.array([100.0]), np.array(["CHN"], dtype=object))
    code, name, dcode, dname = partner_of_pieces(
        pieces,
        {"CHN": PartnerLayer(prov, "code", "name")},
        {"CHN": PartnerLayer(county, "adcode", "name", "province_code", "province_name")},
        METRIC,
        5000.0,
    )
    assert (code[0], name[0], dcode[0], dname[0]) == ("B", "Prov B", "999001", "County B1")
    # without the county layer the piece keeps the nearest province
    code, _, dcode, _ = partner_of_pieces(pieces, {"CHN": PartnerLayer(prov, "code", "name")}, {}, METRIC, 5000.0)
    assert (code[0], dcode[0]) == ("A", None)


def test_made_up_villages_selection_counts_each_reason():
    df = pd.DataFrame(
        {
            "geonameid": ["1", None, "2", "3", "3", "4"],
            "abandoned_or_destroyed": [False, False, True, False, False, False],
            "coord_minute_grid": [False, False, False, True, False, False],
        }
    )
    villages = gpd.GeoDataFrame(df, geometry=[shapely.Point(105, 21)] * 6, crs="EPSG:4326")
    places = pd.DataFrame({"geonameid": ["4"]})
    kept, counts = select_villages(villages, places)
    assert list(kept["geonameid"]) == ["1", "3"]
    # of the repeated id 3, the finer position (not on the minute grid) is kept
    assert not kept["coord_minute_grid"].iloc[1]
    assert counts == {
        "read": 6,
        "kept": 2,
        "left_out_abandoned_or_destroyed": 1,
        "left_out_no_geonameid": 1,
        "left_out_repeated_geonameid": 1,
        "matched_to_towns": 1,
        "kept_on_minute_grid": 0,
    }


def test_villages_transform_reads_geonames_ids_and_no_data():
    df = pd.DataFrame(
        {
            # as the loader gives them: text columns of object dtype, None for empty
            "geonameid": pd.Series(["8365602.0", None], dtype=object),
            "dem_m": pd.array([7, -9999], dtype="Int64"),
            "gn_modified": pd.Series(["2012-08-06 00:00:00", "NaT"], dtype=object),
            "coord_minute_grid": [True, False],
        }
    )
    out = TRANSFORMS["villages"](df)
    assert out["geonameid"].iloc[0] == "8365602" and pd.isna(out["geonameid"].iloc[1])
    assert out["dem_m"].iloc[0] == 7 and out["dem_m"].isna().iloc[1]
    assert out["gn_modified"].iloc[0] == "2012-08-06" and pd.isna(out["gn_modified"].iloc[1])
    assert "±1-2 km" in out["position_precision"].iloc[0]


def _made_up_dem():
    # 4 x 4 cells of 1 degree from (100, 24) down to (104, 20); values 0..1500 and one below 0
    vals = np.array([[100, 200, 1200, 1500], [300, 400, 1100, np.nan], [-50, 0, 50, 60], [10, 20, 30, 40]], dtype=float)
    vals[vals < 0] = 0.0  # read_dem's rule
    return Dem(vals, rasterio.Affine(1, 0, 100, 0, -1, 24), "EPSG:4326", "made-up DEM; 1° cells", 111.0)


def test_zonal_stats_on_a_made_up_dem():
    dem = _made_up_dem()
    geoms = np.array(
        [
            shapely.box(
                101.9, 22.1, 104, 24
            ),  # centres (102.5, 23.5) (103.5, 23.5) (102.5, 22.5); (103.5, 22.5) no data
            shapely.box(100.1, 21.1, 100.4, 21.4),  # no centre inside: the centroid's cell (value 0, from -50)
            shapely.box(110, 10, 111, 11),  # outside the grid
        ],
        dtype=object,
    )
    s = zonal_stats(geoms, dem, 1000.0)
    assert s["elev_method"].tolist() == [CELLS_INSIDE, CENTROID_CELL, NO_LAND_CELL]
    assert s["elev_cells"].tolist() == [3, 1, 0]
    assert s["elev_mean_m"].iloc[0] == pytest.approx((1200 + 1500 + 1100) / 3, abs=0.05)
    assert (s["elev_min_m"].iloc[0], s["elev_max_m"].iloc[0]) == (1100, 1500)
    assert s["elev_above_1000m_pct"].iloc[0] == 100.0
    assert s["elev_mean_m"].iloc[1] == 0.0 and s["elev_above_1000m_pct"].iloc[1] == 0.0
    assert pd.isna(s["elev_mean_m"].iloc[2])
    assert set(s["elev_source"]) == {"made-up DEM; 1° cells"}


def test_village_elevations_made_up():
    villages = pd.DataFrame(
        {
            "commune_code_2009": ["A", "A", "A", "B", None],
            "dem_m": [100, 300, 200, None, 900],
            "name": ["a1", "a2", "a3", "b1", "x"],
            "geonameid": ["1", "2", "3", "4", "5"],
        }
    )
    out = village_elevations(np.array(["A", "B", "C"]), villages, "commune_code_2009")
    assert out["village_elev_median_m"].iloc[0] == 200.0 and out["village_elev_max_m"].iloc[0] == 300
    assert out["village_highest"].iloc[0] == "a2"
    assert out["village_elev_max_m"].isna().iloc[1:].all()
