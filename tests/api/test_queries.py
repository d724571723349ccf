"""geoborder.queries on the real store: touching (across the border and within Vietnam), roadless
settlements checked against brute force, nearest gates, border zone, commune profile.

Expected sets are computed from the store's own derived layers (border_segments_*, border
communes) or by brute force, never copied from a previous output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geoborder import queries as q
from geoborder.core.crs import reproject
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.core.text import fold
from geoborder.indicators.open import open_indicators

pytestmark = pytest.mark.realpack

SON_LA = "14"


def _codes(fc) -> set[str]:
    return {f["properties"]["commune_code"] for f in fc["features"]}


def _segment_lengths(store, province_code: str, vintage: int = 2025):
    seg = store.frame(f"border_segments_{vintage}")
    seg = seg[seg["province_code"] == province_code]
    return seg.groupby(["commune_code", "partner_unit_code"])["length_km"].sum()


def _metric(store, geoms):
    return reproject(np.asarray(geoms, dtype=object), "EPSG:4326", store.catalog.build["metric_crs"])


# --------------------------------------------------------------------------- touching: partners


def test_son_la_houaphanh_and_luang_prabang(real_store):
    ho = q.touching(real_store, "Houaphanh", within=SON_LA)
    lp = q.touching(real_store, "Luang Prabang", within=SON_LA)
    H, L = _codes(ho), _codes(lp)
    assert ho["query"]["unit"]["code"] == "LA-HO" and lp["query"]["unit"]["code"] == "LA-LP"

    # what the segments say: a commune faces a unit when >= 0.5 km of line faces it
    per = _segment_lengths(real_store, SON_LA)

    def faces(unit):
        return {c for (c, u), km in per.items() if u == unit and km >= 0.5}

    assert faces("LA-HO") == H
    assert faces("LA-LP") == L
    # disjoint except where the segments give one commune both provinces (Mường Lèo)
    both = H & L
    assert both == faces("LA-HO") & faces("LA-LP")
    names_both = {f["properties"]["name"] for f in ho["features"] if f["properties"]["commune_code"] in both}
    assert "Mường Lèo" in names_both
    assert H - L and len(both) < len(L) + len(H) - len(both)
    # together they are Sơn La's border communes (Sơn La faces no other unit)
    bc = real_store.frame("border_communes_2025")
    assert set(bc.loc[bc["province_code"] == SON_LA, "commune_code"]) == H | L
    # shared lengths are the sums of the segments; the totals are near the published figures
    for f in ho["features"]:
        p = f["properties"]
        assert p["shared_length_km"] == pytest.approx(per[(p["commune_code"], "LA-HO")], abs=1e-3)
    # border_facts.md: 242.042 km with Houaphanh, 32.023 km with Luang Prabang (OSM line ~94-102%)
    assert 0.8 * 242.042 < ho["shared_length_km"] < 1.1 * 242.042
    assert 0.8 * 32.023 < lp["shared_length_km"] < 1.1 * 32.023


@pytest.mark.parametrize("variant", ["Houaphanh", "Hủa Phăn", "Houaphan", "LA-HO", "la-ho", "HUA PHAN", "Huaphanh"])
def test_houaphanh_name_variants(real_store, variant):
    u = q.resolve_partner(real_store, variant)
    assert (u.kind, u.code) == ("partner_province", "LA-HO")


@pytest.mark.parametrize(
    "variants,code",
    [
        (["Yunnan", "Vân Nam", "van nam", "CN.YN", "CN-YN"], "CN.YN"),
        (["Guangxi", "Quảng Tây", "CN.GX"], "CN.GX"),
        (["Lào", "Laos", "LAO", "Lao PDR"], "LAO"),
        (["Trung Quốc", "China", "CHN"], "CHN"),
        (["Campuchia", "Cambodia", "KHM"], "KHM"),
        (["Mường Ét", "Et", "Add"], None),
    ],
)
def test_partner_variants_resolve_to_one_unit(real_store, variants, code):
    units = {q.resolve_partner(real_store, v) for v in variants}
    assert len(units) == 1
    if code:
        assert units.pop().code == code


def test_variants_give_the_same_answer(real_store):
    a = q.touching(real_store, "Hủa Phăn", within="Sơn La")
    b = q.touching(real_store, "LA-HO", within="14")
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]


def test_country_touching_covers_the_provinces(real_store):
    china = _codes(q.touching(real_store, "Trung Quốc"))
    yn = _codes(q.touching(real_store, "Vân Nam"))
    gx = _codes(q.touching(real_store, "Quảng Tây"))
    assert yn and gx and yn | gx <= china
    bc = real_store.frame("border_communes_2025")
    chn = set(bc.loc[bc["partner_countries"].str.contains("CHN"), "commune_code"])
    assert china <= chn


def test_lao_district_and_pre2025_vintage(real_store):
    # Mường Lạn faces Xon ("Mường Son") and Add ("Mường Ét"), per border_facts.md
    xon = q.touching(real_store, "Mường Son", within="Sơn La")
    et = q.touching(real_store, "Mường Ét", within="Sơn La")

    def names(fc):
        return {f["properties"]["name"] for f in fc["features"]}

    assert "Mường Lạn" in names(xon) and "Mường Lạn" in names(et)
    old = q.touching(real_store, "Houaphanh", vintage=2009, within="Sơn La")
    assert old["numberMatched"] > 0
    assert all(len(f["properties"]["commune_code"]) == 7 for f in old["features"])


def test_shared_geometry_is_lines(real_store):
    fc = q.touching(real_store, "LA-LP", within=SON_LA, geometry="shared")
    assert fc["features"] and all(f["geometry"]["type"] in ("LineString", "MultiLineString") for f in fc["features"])


# --------------------------------------------------------------------------- touching: within Vietnam


def test_xin_man_touches_si_ma_cai_and_bac_ha(real_store):
    fc = q.touching(real_store, "Lào Cai", within="Xín Mần", vintage=2009)
    assert fc["query"]["tolerance_m"] == q.ADJACENCY_TOLERANCE_M[2009]
    assert fc["features"]
    assert all(f["properties"]["district_code"] == "20117" for f in fc["features"])
    districts = {fold(d) for f in fc["features"] for d in f["properties"]["neighbour_districts"]}
    assert {"si ma cai", "bac ha"} <= districts
    for other in ("Si Ma Cai", "Bắc Hà"):
        sub = q.touching(real_store, other, within="Xín Mần", vintage=2009)
        assert sub["numberMatched"] >= 1 and sub["shared_length_km"] >= 1.0
        # the same contact seen from the other side has about the same length
        back = q.touching(real_store, "Xín Mần", within=other, vintage=2009)
        assert back["shared_length_km"] == pytest.approx(sub["shared_length_km"], rel=0.35)


def test_touching_a_district_lists_outside_neighbours_only(real_store):
    fc = q.touching(real_store, "Xín Mần", vintage=2009)
    props = [f["properties"] for f in fc["features"]]
    assert all(p["district_code"] != "20117" for p in props)
    assert {"Si Ma Cai", "Bắc Hà"} <= {p["district_name"].removeprefix("Huyện ") for p in props}
    # far away units do not touch
    assert q.touching(real_store, "Sơn La", within="Xín Mần", vintage=2009)["numberMatched"] == 0


def test_touching_2025_provinces(real_store):
    # Sơn La touches Lào Cai in 2025 (Mường La / Bắc Yên side); not Quảng Ninh
    assert q.touching(real_store, "Lào Cai", within="Sơn La")["numberMatched"] > 0
    assert q.touching(real_store, "Quảng Ninh", within="Sơn La")["numberMatched"] == 0


def test_unknown_names_and_codes(real_store):
    with pytest.raises(NotFound) as e:
        q.touching(real_store, "Houaphanx")
    assert "Houaphan (LA-HO)" in str(e.value)
    with pytest.raises(NotFound) as e:
        q.touching(real_store, "Luang Prabnag")
    assert "Luang Prabang (LA-LP)" in str(e.value)
    with pytest.raises(InvalidParameter):
        q.touching(real_store, "LA-ZZ")
    with pytest.raises(InvalidParameter):
        q.touching(real_store, "Châu Thành", vintage=2009)  # a district name in 11 provinces
    assert q.touching(real_store, "Châu Thành, An Giang", vintage=2009)["query"]["unit"]["code"] == "80519"


# --------------------------------------------------------------------------- roadless


def test_roadless_agrees_with_brute_force(real_store):
    fc = q.roadless_villages(real_store, min_distance_m=0, countries="all", layer="towns")
    places = real_store.frame("places")
    # towns with no road of the (Vietnamese) road layer within the cap are not judged
    assert fc["numberMatched"] + fc["caveats"]["not_judged"]["no_road_within_cap"] == len(places)
    roads = real_store.frame("roads")
    ok = ~roads["is_railway"].astype(bool).to_numpy()
    road_m = _metric(real_store, roads.geometry.values[ok])
    names = roads["name"].to_numpy()[ok]
    ids = roads["road_id"].to_numpy()[ok]
    by_id = {f["id"]: f["properties"] for f in fc["features"]}
    rng = np.random.default_rng(4)
    sample = rng.choice(len(places), size=60, replace=False)
    pts = _metric(real_store, places.geometry.values[sample])
    for i, pt in zip(sample, pts):
        d = np.array([shapely.distance(pt, r) for r in road_m])  # brute force, one road at a time
        if d.min() > q.MAX_ROAD_DISTANCE_M:  # not judged: no road within the cap
            assert places["geonameid"].iat[int(i)] not in by_id
            continue
        p = by_id[places["geonameid"].iat[int(i)]]
        assert p["distance_to_road_m"] == pytest.approx(d.min(), abs=0.06)
        j = list(ids).index(p["nearest_road_id"])
        assert d[j] == pytest.approx(d.min(), abs=0.06)
        assert p["nearest_road_name"] == names[j]


def test_roadless_threshold_classes_and_countries(real_store):
    allvn = q.roadless_villages(real_store, min_distance_m=0, layer="towns")
    far = q.roadless_villages(real_store, min_distance_m=2000, layer="towns")
    d = {f["id"]: f["properties"]["distance_to_road_m"] for f in allvn["features"]}
    assert {f["id"] for f in far["features"]} == {k for k, v in d.items() if v > 2000}
    assert all(f["properties"]["cc"] == "VN" for f in allvn["features"])
    national = q.roadless_villages(real_store, min_distance_m=0, road_classes="quoc gia", layer="towns")
    for f in national["features"]:
        assert f["properties"]["nearest_road_class"] == "Quốc Gia"
        assert f["properties"]["distance_to_road_m"] >= d[f["id"]] - 0.1
    assert any(f["properties"]["distance_to_road_m"] > d[f["id"]] + 1 for f in national["features"])
    near_border = q.roadless_villages(real_store, min_distance_m=2000, border_km=10, layer="towns")
    assert {f["id"] for f in near_border["features"]} <= {f["id"] for f in far["features"]}
    assert all(f["properties"]["distance_to_border_m"] <= 10_000 for f in near_border["features"])


def test_roadless_by_commune_counts(real_store):
    vill = q.roadless_villages(real_store, min_distance_m=5000)
    byc = q.roadless_by_commune(real_store, min_distance_m=5000)
    total = sum(f["properties"]["roadless_settlements"] for f in byc["features"])
    assert total + byc["roadless_outside_communes"] == vill["numberMatched"]
    for f in byc["features"]:
        p = f["properties"]
        assert 1 <= p["roadless_settlements"] <= p["settlements"]
        mine = [v for v in vill["features"] if v["properties"]["commune_code"] == p["commune_code"]]
        assert len(mine) == p["roadless_settlements"]


# --------------------------------------------------------------------------- nearest gates


def test_nearest_gates_brute_force(real_store):
    lon, lat = 103.9, 21.3
    fc = q.nearest_gates(real_store, lon=lon, lat=lat, k=3, international_only=True)
    gates = real_store.frame("gates")
    has = ~gates.geometry.isna().to_numpy() & (gates["gate_class"] == "international").to_numpy()
    o = _metric(real_store, [shapely.Point(lon, lat)])[0]
    d = shapely.distance(o, _metric(real_store, gates.geometry.values[has]))
    best = gates["gate_id"].to_numpy()[has][np.argsort(d)[:3]]
    assert [f["id"] for f in fc["features"]] == list(best)
    assert [f["properties"]["rank"] for f in fc["features"]] == [1, 2, 3]
    dist = [f["properties"]["distance_m"] for f in fc["features"]]
    assert dist == sorted(dist) and dist[0] == pytest.approx(np.sort(d)[0], abs=0.1)


def test_nearest_gates_filters_and_origins(real_store):
    pub = q.nearest_gates(real_store, commune="04045", k=100, published_only=True)
    gates = real_store.frame("gates")
    assert pub["numberReturned"] == int((gates["location_quality"] == "published").sum())
    assert all(f["properties"]["location_quality"] == "published" for f in pub["features"])
    # Lóng Sập's own gate is the nearest to its seat
    assert q.nearest_gates(real_store, commune="04045", k=1)["features"][0]["id"] == "long-sap"
    cat = q.nearest_gates(real_store, geonameid="10631710", k=2, partner="Trung Quốc")
    assert cat["query"]["origin"]["name"] == "Cát Cát"
    assert all(f["properties"]["partner_iso3"] == "CHN" for f in cat["features"])
    # gates the store could not place are counted, not ranked
    assert pub["gates_without_location"] == len(real_store.table("gates_unplaced")) > 0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lon=104, lat=21, k=0),
        dict(lon=104, lat=21, k=-1),
        dict(lon=0, lat=0),
        dict(lon=150, lat=21),
        dict(lon=104, lat=95),
        dict(lon=104),
        dict(commune="99999"),
        dict(commune="abc"),
        dict(geonameid="1"),
        dict(),
        dict(lon=104, lat=21, commune="04045"),
        dict(lon=float("nan"), lat=21),
    ],
)
def test_nearest_gates_invalid(real_store, kwargs):
    with pytest.raises(InvalidParameter):
        q.nearest_gates(real_store, **kwargs)


# --------------------------------------------------------------------------- border zone


def test_border_zone(real_store):
    fc = q.border_zone(real_store, distance_km=5)
    communes = {f["properties"]["commune_code"] for f in fc["features"] if f["properties"]["feature_kind"] == "commune"}
    bc = real_store.frame("border_communes_2025")
    assert set(bc["commune_code"]) <= communes  # their border pieces lie within 5 km by construction
    assert all(f["properties"]["distance_to_border_m"] <= 5000 for f in fc["features"])
    # brute-force distance for a few settlements and roads
    line = shapely.union_all(_metric(real_store, real_store.frame("border_lines").geometry.values))
    for f in [f for f in fc["features"] if f["properties"]["feature_kind"] != "commune"][:10]:
        g = _metric(real_store, [shapely.geometry.shape(f["geometry"])])[0]
        assert f["properties"]["distance_to_border_m"] == pytest.approx(shapely.distance(g, line), abs=2.0)
    roads = [f["properties"] for f in fc["features"] if f["properties"]["feature_kind"] == "road"]
    assert roads and all(r["length_in_zone_km"] >= 0 for r in roads)
    ho = q.border_zone(real_store, distance_km=5, partner="Houaphanh", include="communes")
    ho_codes = {f["properties"]["commune_code"] for f in ho["features"]}
    assert ho_codes < communes
    assert _codes(q.touching(real_store, "LA-HO")) <= ho_codes


def test_border_zone_invalid(real_store):
    for kw in (
        dict(distance_km=-1),
        dict(distance_km=0),
        dict(distance_km=1000),
        dict(include="houses"),
        dict(countries="XX"),
        dict(vintage=2010),
    ):
        with pytest.raises(InvalidParameter):
            q.border_zone(real_store, **kw)
    with pytest.raises(NotFound):
        q.border_zone(real_store, partner="Narnia")


# --------------------------------------------------------------------------- commune profile


def test_profile_long_sap(real_store):
    fc = q.commune_profile(real_store, "04045")
    p = fc["features"][0]["properties"]
    assert p["name"] == "Lóng Sập" and p["role"] == "commune"
    assert p["border_length_km"] == pytest.approx(sum(b["length_km"] for b in p["border"]), abs=0.01)
    assert {b["partner_unit_code"] for b in p["border"]} == {"LA-HO"}
    assert "long-sap" in {g["gate_id"] for g in p["gates"]}
    # border_facts.md: Lóng Sập + Chiềng Khừa -> Lóng Sập; both methods must say so
    src = {x["name_full"]: x for x in p["lineage"]["from"]}
    for old in ("Xã Lóng Sập", "Xã Chiềng Khừa"):
        assert src[old]["by_name"] and src[old]["by_overlap"]
    assert {f["properties"]["role"] for f in fc["features"][1:]} >= {"seat", "gate"}


def test_profile_unmerged_commune_and_reverse_lineage(real_store):
    # Mường Lèo was not merged (border_facts.md §4): one old commune, same name
    p = q.commune_profile(real_store, "04240")["features"][0]["properties"]
    main = [x for x in p["lineage"]["from"] if x["by_overlap"]]
    assert [x["name_full"] for x in main] == ["Xã Mường Lèo"] and main[0]["by_name"]
    assert {b["partner_unit_code"] for b in p["border"]} == {"LA-HO", "LA-LP"}
    old = main[0]["commune_code"]
    back = q.commune_profile(real_store, old)["features"][0]["properties"]
    assert "04240" in {x["commune_code"] for x in back["lineage"]["into"] if x["by_overlap"] and x["by_name"]}


def test_profile_invalid(real_store):
    for code in ("abc", "123", "99999", "9999999", ""):
        with pytest.raises(InvalidParameter):
            q.commune_profile(real_store, code)


def test_split_before_merger():
    e = q.split_before_merger("Phường Cửa Đông (phần còn lại sau khi sáp nhập vào phường A, phường B), Xã Lóng Sập")
    assert [(x["unit_type"], x["name"], x["partial"]) for x in e] == [
        ("Phường", "Cửa Đông", True),
        ("Xã", "Lóng Sập", False),
    ]
    assert q.split_before_merger(None) == []


def test_profile_indicators(real_store, tmp_path):
    # without an indicator database: the computed indicators, for the year of the layer's attributes
    p = q.commune_profile(real_store, "04045")["features"][0]["properties"]
    ind = p["indicators"]
    assert ind["population"]["value"] == p["population"] and ind["population"]["year"] == 2025
    assert ind["density"]["value"] == pytest.approx(p["population"] / p["area_km2"])
    assert ind["density"]["unit"] == "người/km²" and ind["density"]["unit_en"] == "people/km²"
    assert {v["source"] for v in ind.values()} == {"computed"}
    old = q.commune_profile(real_store, "3031939")["features"][0]["properties"]["indicators"]
    assert old["population"]["year"] == 2009

    # a reported indicator: the value of the commune's latest year, from the latest import of that year
    db = open_indicators(tmp_path / "indicators.sqlite")
    cols = ["indicator", "commune_code", "year", "value", "line", "matched_by"]
    for sha, rows in (
        ("a", [("04045", 2023, 30.0), ("04045", 2024, 27.0), ("04240", 2024, 10.0)]),
        ("b", [("04045", 2024, 25.5)]),
    ):
        values = pd.DataFrame([("poverty_rate", c, y, v, n, "code") for n, (c, y, v) in enumerate(rows)], columns=cols)
        db.write_import(
            file_name=f"{sha}.csv", sha256=sha * 64, who="test", vintage=2025, layout="long", values=values, report={}
        )
    ind = q.commune_profile(real_store, "04045", indicators_db=db)["features"][0]["properties"]["indicators"]
    pr = ind["poverty_rate"]
    assert (pr["value"], pr["year"], pr["unit"], pr["source"]) == (25.5, 2024, "%", "reported")
    assert "poor_households" not in ind  # reported, but no value for this commune
    assert ind["density"] == p["indicators"]["density"]
