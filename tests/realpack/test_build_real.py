"""The store built from the real pack: counts, derived figures against published ones, schema."""

from __future__ import annotations

import csv
import json
import re
import unicodedata

import numpy as np
import pytest
import shapely

from geoborder.core.crs import reproject
from geoborder.core.text import fold


def _facts(real_pack) -> str:
    return (real_pack / "border_facts.md").read_text(encoding="utf-8")


def _km(text: str, pattern: str) -> float:
    m = re.search(pattern, text)
    assert m, f"border_facts.md no longer says {pattern!r}"
    return float(m.group(1).replace(",", ""))


def test_counts_match_the_sources(real_store, real_pack):
    counts = {lyr.id: lyr.feature_count for lyr in real_store.layers()}
    assert counts["communes_2025"] == 3321
    assert counts["communes_2009"] == 11163
    assert counts["provinces_2025"] == 34
    assert counts["provinces_2009"] == 63
    assert counts["districts_2009"] == 703
    assert counts["lao_provinces"] == 18
    assert counts["lao_districts"] == 148
    assert sorted(real_store.frame("border_lines")["pair"]) == ["VNM-CHN", "VNM-KHM", "VNM-LAO"]
    assert sorted(real_store.frame("china_provinces")["name_en"]) == ["Guangxi", "Yunnan"]
    with open(real_pack / "gates_curated.csv", encoding="utf-8") as fh:
        n_gates = sum(1 for _ in csv.DictReader(fh))
    assert counts["gates"] + len(real_store.table("gates_unplaced")) == n_gates
    with open(real_pack / "markers_published.csv", encoding="utf-8") as fh:
        n_markers = sum(1 for _ in csv.DictReader(fh))
    assert counts["markers"] + len(real_store.table("markers_unplaced")) == n_markers


def test_metadata_table_matches_layers(real_store):
    for info in real_store.layers():
        assert info.feature_count == len(real_store.frame(info.id)), info.id
        if info.kind == "source":
            assert re.fullmatch(r"[0-9a-f]{64}", info.source_sha256), info.id
            assert info.licence and info.attribution
    build = real_store.build_info()
    assert build["report"]["repaired"]["communes_2025"] > 0  # the pack has invalid coastal rings


def test_every_gate_has_a_location_or_a_reason(real_store):
    gates = real_store.frame("gates")
    assert gates.geometry.notna().all() and len(gates) > 0
    assert gates["location_quality"].isin(["published", "derived"]).all()
    # a source coordinate is "published"; a derived one is never presented as such
    has_src = gates["lat"].notna()
    assert (gates.loc[has_src, "location_quality"] == "published").all()
    assert (gates.loc[~has_src, "location_quality"] == "derived").all()
    unplaced = real_store.table("gates_unplaced")
    assert len(unplaced) > 0 and unplaced["unplaced_reason"].str.len().gt(10).all()
    assert unplaced["location_quality"].isna().all()
    assert not set(unplaced["gate_id"]) & set(gates["gate_id"])


def test_derived_gates_lie_on_the_border_in_their_commune(real_store):
    gates = real_store.frame("gates")
    derived = gates[gates["location_quality"] == "derived"]
    assert len(derived) >= 20
    metric = real_store.catalog.build["metric_crs"]
    line = shapely.union_all(reproject(real_store.frame("border_lines").geometry.values, "EPSG:4326", metric))
    pts = reproject(derived.geometry.values, "EPSG:4326", metric)
    assert shapely.distance(pts, line).max() < 1.0  # metres: on the line itself
    c09 = real_store.frame("communes_2009").set_index("commune_code")
    polys = reproject(c09.loc[derived["commune_code_2009"]].geometry.values, "EPSG:4326", metric)
    tol = real_store.catalog.build["assign_tolerance_m"]
    assert (shapely.distance(pts, polys) <= tol).all()
    # Lóng Sập gate (Sơn La) is derived inside the pre-2025 commune Lóng Sập, 2025 commune Lóng Sập
    ls = gates.set_index("gate_id").loc["long-sap"]
    assert ls["commune_name_2009"] == "Xã Lóng Sập" and ls["commune_name_2025"] == "Lóng Sập"


def test_gate_derivation_is_checked_against_published_positions(real_store):
    """Derive the gates that have a source position as if they had none: how far off is it?"""
    err = real_store.build_info()["report"]["measures"]["gates_derivation_error_km"]
    assert len(err) >= 8  # most published gates name their commune
    vals = sorted(err.values())
    # a derived point is a map position, good to a few km (the commune's stretch of border);
    # tens of km would mean the wrong commune or the wrong stretch
    assert vals[len(vals) // 2] <= 3.0 and vals[-1] <= 10.0, err


def test_border_lengths_are_plausible_against_published_figures(real_store, real_pack):
    """The OSM line is generalised: 85-105% of a published length is plausible, outside is a bug."""
    facts = _facts(real_pack)
    published = {
        "LAO": _km(facts, r"VN–Laos \| about ([\d,.]+) km"),
        "CHN": _km(facts, r"VN–China \| ([\d,.]+) km in total"),
        "KHM": _km(facts, r"VN–Cambodia \| about ([\d,.]+) km"),
    }
    lines = real_store.frame("border_lines").set_index("partner_iso3")
    segs = real_store.frame("border_segments_2025")
    for iso3, km in published.items():
        ratio = lines.at[iso3, "length_km"] / km
        assert 0.85 <= ratio <= 1.05, (iso3, lines.at[iso3, "length_km"], km)
        # the segments add up to the line: nothing lost or counted twice
        seg_km = segs.loc[segs["partner_iso3"] == iso3, "length_km"].sum()
        assert seg_km == pytest.approx(lines.at[iso3, "length_km"], rel=0.001)


@pytest.mark.parametrize("layer,province", [("border_segments_2025", "14"), ("border_segments_2009", "303")])
def test_son_la_border_with_houaphanh_and_luang_prabang(real_store, real_pack, layer, province):
    facts = _facts(real_pack)
    total = _km(facts, r"Sơn La \| ([\d.]+) km in total")
    ho = _km(facts, r"([\d.]+) km with Houaphanh")
    lp = _km(facts, r"([\d.]+) km with Luang Prabang")
    segs = real_store.frame(layer)
    sl = segs[segs["province_code"] == province]
    assert set(sl["partner_iso3"]) == {"LAO"}
    by_unit = sl.groupby("partner_unit_code")["length_km"].sum()
    assert set(by_unit.index) == {"LA-HO", "LA-LP"}
    for got, want in ((by_unit.sum(), total), (by_unit["LA-HO"], ho), (by_unit["LA-LP"], lp)):
        assert 0.85 <= got / want <= 1.05, (got, want)


def test_son_la_border_communes(real_store, real_pack):
    facts = _facts(real_pack)
    published = int(re.search(r"(\d+) border communes; \d+ villages", facts).group(1))
    b09 = real_store.frame("border_communes_2009")
    assert (b09["province_code"] == "303").sum() == published  # "17 border communes"

    b25 = real_store.frame("border_communes_2025")
    sl25 = set(b25.loc[b25["province_code"] == "14", "name"].map(fold))
    with open(real_pack / "border_communes_reported.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    old = {(fold(r["province"]), fold(r["commune"])) for r in rows if r["confidence"] in ("high", "medium")}
    have = set(zip(b09["province_name"].map(fold), b09["name"].map(fold)))
    assert old <= have, old - have
    new = {
        fold(re.sub(r"\s*\(.*", "", r["post_2025_commune"]))
        for r in rows
        if r["province"] == "Sơn La" and r["post_2025_commune"]
    }
    assert new <= sl25, new - sl25


def test_border_communes_face_partner_units_with_lengths(real_store):
    b25 = real_store.frame("border_communes_2025").set_index("name")
    leo = b25.loc["Mường Lèo"]
    lengths = json.loads(leo["partner_lengths"])
    assert set(lengths) == {"LA-HO", "LA-LP"}
    assert sum(lengths.values()) == pytest.approx(leo["border_length_km"], abs=0.01)
    assert (b25["border_length_km"] >= real_store.catalog.build["border_commune_min_km"]).all()


def test_codes_and_names_are_normalised(real_store):
    c25 = real_store.frame("communes_2025")
    assert c25["commune_code"].str.fullmatch(r"\d{5}").all()
    assert c25["province_code"].str.fullmatch(r"\d{2}").all()
    c09 = real_store.frame("communes_2009")
    assert c09["commune_code"].str.fullmatch(r"\d{7}").all()
    assert c09.loc[c09["commune_code"] == "3030101", "province_code"].item() == "303"
    for col in ("name", "province_name"):
        vals = c25[col].dropna()
        assert (vals == vals.map(lambda s: unicodedata.normalize("NFC", s))).all()
    # the prefix is split off the 2009 names
    leo = c09[c09["name_full"] == "Xã Mường Lèo"]
    assert leo["name"].item() == "Mường Lèo" and leo["unit_type"].item() == "Xã"


def test_geometries_are_valid_and_in_wgs84(real_store):
    for lid in ("communes_2025", "provinces_2025", "border_communes_2025", "border_segments_2009"):
        g = np.asarray(real_store.frame(lid).geometry.values, dtype=object)
        assert shapely.is_valid(g).all(), lid
        minx, miny, maxx, maxy = shapely.total_bounds(g)
        assert minx > 100 and maxx < 120 and miny > 5 and maxy < 25, lid
