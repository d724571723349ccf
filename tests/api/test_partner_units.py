"""Partner units on every side (issue 14): Cambodian provinces and the Chinese counties along the
border answer `touching` like Lao provinces and districts, by code and by name, on both stores."""

from __future__ import annotations

import pytest


def _facing(real_store, field: str, code: str) -> set[str]:
    """The communes whose border segments face a partner unit, read from the store independently."""
    seg = real_store.frame("border_segments_2025")
    per = seg[seg[field] == code].groupby("commune_code")["length_km"].sum()
    return set(per[per >= 0.5].index)


@pytest.fixture(scope="module")
def khm_unit(real_store):
    seg = real_store.frame("border_segments_2025")
    khm = seg[seg["partner_iso3"] == "KHM"]
    code = khm.groupby("partner_unit_code")["length_km"].sum().idxmax()
    provinces = real_store.frame("khm_provinces").set_index("iso_code")
    return code, provinces.loc[code, "name"]


def test_a_cambodian_province_answers_touching_by_code_and_by_name(client, real_store, khm_unit):
    code, name = khm_unit
    by_code = client.get("/queries/touching", params={"unit": code})
    by_name = client.get("/queries/touching", params={"unit": name})
    assert by_code.status_code == by_name.status_code == 200, by_code.text
    a, b = by_code.json(), by_name.json()
    assert a["query"]["unit"]["kind"] == "partner_province" and a["query"]["unit"]["country"] == "KHM"
    assert {f["id"] for f in a["features"]} == {f["id"] for f in b["features"]}
    assert {f["properties"]["commune_code"] for f in a["features"]} == _facing(real_store, "partner_unit_code", code)


def test_nine_cambodian_provinces_face_vietnam(real_store):
    seg = real_store.frame("border_segments_2025")
    assert seg.loc[seg["partner_iso3"] == "KHM", "partner_unit_code"].nunique() == 9  # published: 9


def test_a_chinese_county_answers_touching_by_its_vietnamese_and_english_names(client, real_store):
    counties = real_store.frame("cn_counties").set_index("adcode")
    seg = real_store.frame("border_segments_2025")
    code = seg.loc[seg["partner_iso3"] == "CHN"].groupby("partner_district_code")["length_km"].sum().idxmax()
    vi, en = counties.loc[code, "name_vi"], counties.loc[code, "name_en"]
    want = _facing(real_store, "partner_district_code", code)
    assert isinstance(vi, str) and vi  # the county facing Vietnam most has a Vietnamese name
    for text in [t for t in (vi, en, code) if isinstance(t, str)]:
        r = client.get("/queries/touching", params={"unit": text})
        assert r.status_code == 200, (text, r.text)
        unit = r.json()["query"]["unit"]
        assert unit["kind"] == "partner_district" and unit["code"] == code and unit["country"] == "CHN"
        assert {f["properties"]["commune_code"] for f in r.json()["features"]} == want
