"""Importing indicator tables on the real store: matching, bad files, versions, the 2025 reform.

Every number in these tables is made up (the files say so in their names); the commune names and
codes are real units of Sơn La.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from geoborder.indicators.catalog import load_indicators
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.importing import ImportRejected, import_file
from geoborder.indicators.values import reform_values, values_for

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def db(tmp_path):
    return IndicatorDB(tmp_path / "indicators.sqlite")


def xlsx(rows, title="Xã biên giới") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def snapshot(db):
    """Everything a failed import must leave as it was."""
    cur = {
        n: db.current(n, vintage=v).to_dict("records")
        for n in ("poor_households", "poverty_rate")
        for v in (2025, 2009)
    }
    return db.counts(), cur


# A provincial spreadsheet: a title row, then names as people write them (with and without
# diacritics and prefixes). 2025 Sơn La border communes.
SONLA_WIDE = [
    ["Số liệu xã biên giới tỉnh Sơn La (SỐ LIỆU BỊA - madeup)"],
    ["STT", "Tên xã", "Tỉnh", "Số hộ nghèo", "Tỷ lệ hộ nghèo (%)", "Tiêu chí NTM", "Sóng điện thoại"],
    [1, "Xã Mường Lèo", "Sơn La", 502, 38.5, 9, 80],
    [2, "Muong Lan", "Son La", 690, 31, 10, 75.5],
    [3, "lóng sập", "Sơn La", 615, "24,25", 12, None],
    [4, "Chiềng Sơn", "Tỉnh Sơn La", 410, 11.5, 15, 100],
    [5, "Xa Phieng Khoai", "Sơn La", 420, 20, 11, 90],
]


def test_wide_xlsx_keyed_by_names_with_diacritics(real_store, db):
    data = xlsx(SONLA_WIDE)
    report = import_file(real_store, db, data, "indicators_madeup_sonla_wide.xlsx", year=2024, who="tk")
    assert report["status"] == "imported" and report["version"] == 1
    assert report["layout"] == "wide" and report["format"] == "xlsx"
    assert report["summary"] == "0 matched by code, 5 by name, 0 ambiguous, 0 unknown"
    assert report["values"] == 5 * 4 - 1  # one empty cell is no value
    vals = values_for(
        real_store, db, "communes_2025", ["poor_households", "poverty_rate", "phone_signal_pct"], year=2024
    )
    assert vals.loc["04240", "poor_households"] == 502  # Mường Lèo
    assert vals.loc["04246", "poor_households"] == 690  # Mường Lạn, no diacritics
    assert vals.loc["04045", "poverty_rate"] == 24.25  # Lóng Sập, lower case, decimal comma
    assert vals.loc["03985", "phone_signal_pct"] == 100  # Chiềng Sơn, "Tỉnh Sơn La"
    assert vals.loc["04099", "poor_households"] == 420  # "Xa Phieng Khoai"
    assert vals["poor_households"].notna().sum() == 5
    obs = db.current("poor_households", vintage=2025).set_index("commune_code")
    assert obs.loc["04045", "line"] == 5  # the spreadsheet row, title row included


def test_long_csv_keyed_by_codes(real_store, db):
    path = FIXTURES / "indicators_madeup_sonla_long_codes.csv"
    report = import_file(real_store, db, path.read_bytes(), path.name, who="tk")
    assert report["layout"] == "long"
    assert report["summary"] == "10 matched by code, 0 by name, 0 ambiguous, 0 unknown"
    assert report["years"] == [2023, 2024]
    latest = values_for(real_store, db, "border_communes_2025", ["poor_households", "phone_signal_pct", "export_value"])
    assert latest.loc["03985", "poor_households"] == 388  # latest year
    assert (
        values_for(real_store, db, "communes_2025", ["poor_households"], year=2023).loc["03985", "poor_households"]
        == 410
    )
    assert latest.loc["04057", "phone_signal_pct"] == 87.5  # "4057": a code without its leading zero
    assert latest.loc["04240", "export_value"] == 3.75


def test_report_counts_and_candidates_then_fix_and_reimport(real_store, db):
    """Scenario 3: a pre-2025 table with codes, names, one ambiguous and one unknown commune."""
    rows = [
        ["Mã xã", "Tên xã", "Huyện", "Số hộ nghèo", "Tỉnh"],
        ["3031939", "", "", 512, ""],  # census code
        ["04024", "", "", 377, ""],  # GSO 2024 code (Chiềng Khừa)
        ["", "Xã Tà Lai", "Huyện Mộc Châu", 120, "Sơn La"],
        ["", "Chieng Son", "Moc Chau", 300, "Son La"],
        ["", "Chiềng Sơ", "", 250, "Sơn La"],  # Thuận Châu or Sông Mã?
        ["", "Xã Không Có Thật", "Mộc Châu", 5, "Sơn La"],
    ]
    data = xlsx(rows)
    with pytest.raises(ImportRejected) as exc:
        import_file(real_store, db, data, "indicators_madeup_2009.xlsx", vintage=2009, year=2019, who="tk")
    rep = exc.value.report
    assert rep["summary"] == "2 matched by code, 2 by name, 1 ambiguous, 1 unknown"
    amb = [p for p in rep["unmatched"] if p["kind"] == "ambiguous"]
    assert amb[0]["line"] == 6 and amb[0]["column"] == "B (Tên xã)"
    assert {c["code"] for c in amb[0]["candidates"]} == {"3030731", "3031519"}
    assert {c["district"] for c in amb[0]["candidates"]} == {"Huyện Thuận Châu", "Huyện Sông Mã"}
    unk = [p for p in rep["unmatched"] if p["kind"] == "unknown"]
    assert unk[0]["line"] == 7 and "Không Có Thật" in unk[0]["message"]
    assert db.counts()["imports"] == 0

    # fixed: the district is given, the unknown row removed
    rows[5][2] = "Sông Mã"
    del rows[6]
    first = import_file(real_store, db, xlsx(rows), "indicators_madeup_2009.xlsx", vintage=2009, year=2019, who="tk")
    assert first["summary"] == "2 matched by code, 3 by name, 0 ambiguous, 0 unknown"
    cur = db.current("poor_households", vintage=2009).set_index("commune_code")["value"]
    assert cur["3031519"] == 250 and cur["3031927"] == 377 and cur["3031905"] == 300

    # a corrected value: a new version; the first stays in the history
    rows[1][3] = 520
    data2 = xlsx(rows)
    second = import_file(real_store, db, data2, "indicators_madeup_2009_v2.xlsx", vintage=2009, year=2019, who="tk")
    assert second["version"] == first["version"] + 1
    assert db.current("poor_households", vintage=2009).set_index("commune_code").loc["3031939", "value"] == 520
    assert (
        db.current("poor_households", vintage=2009, as_of=first["version"])
        .set_index("commune_code")
        .loc["3031939", "value"]
        == 512
    )
    assert [i["file_name"] for i in db.imports()] == ["indicators_madeup_2009.xlsx", "indicators_madeup_2009_v2.xlsx"]
    with pytest.raises(ImportRejected, match="already imported as version 2"):
        import_file(real_store, db, data2, "again.xlsx", vintage=2009, year=2019, who="tk")


def test_skip_unmatched_imports_the_rest_and_keeps_the_list(real_store, db):
    data = "commune,province,poor_households\nMường Lèo,Sơn La,502\nNowhere,Sơn La,3\n".encode()
    rep = import_file(real_store, db, data, "madeup.csv", year=2024, skip_unmatched=True)
    assert rep["summary"] == "0 matched by code, 1 by name, 0 ambiguous, 1 unknown"
    assert rep["values"] == 1 and rep["unmatched"][0]["line"] == 3
    assert db.get_import(rep["version"])["report"]["unmatched"][0]["line"] == 3


def test_pre_2025_names_in_a_2025_table_are_explained(real_store, db):
    data = "Tên xã,Tỉnh,Số hộ nghèo\nChiềng Khừa,Sơn La,377\n".encode()
    with pytest.raises(ImportRejected) as exc:
        import_file(real_store, db, data, "madeup.csv", year=2024)
    p = exc.value.report["unmatched"][0]
    assert p["line"] == 2 and "pre-2025 name" in p["message"] and "Lóng Sập" in p["message"]
    assert p["candidates"][0]["code"] == "04045"
    data = b"commune_code,poor_households\n04024,377\n"  # a 2024 code that no longer exists
    with pytest.raises(ImportRejected, match="pre-2025 .GSO 2024. code, merged into 04045"):
        import_file(real_store, db, data, "madeup.csv", year=2024)


# --------------------------------------------------------------------------- bad files


def cp1258(text: str) -> bytes:
    """Vietnamese text as a Windows-1258 file writes it (base letters + combining tone marks)."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in tones))
            out += base.encode("cp1258") + "".join(c for c in d if c in tones).encode("cp1258")
    return out


GOOD_HEADER = "commune_code,commune,province,poor_households,poverty_rate\n"
BAD_FILES = [
    ("cp1258.csv", cp1258(GOOD_HEADER + "04240,Mường Lèo,Sơn La,502,38.5\n"), "encoding", 2, None, "not UTF-8"),
    (
        "latin1.csv",
        (GOOD_HEADER + "03985,Chieng Son,Son La,410,11.5\n04045,Xã Tà Lai,Son La,1,2\n").encode("latin-1"),
        "encoding",
        3,
        None,
        "not UTF-8",
    ),
    (
        "no_commune_column.csv",
        b"province,poor_households\nS\xc6\xa1n La,5\n",
        "columns",
        1,
        None,
        "no commune code column",
    ),
    (
        "long_without_value.csv",
        b"commune_code,indicator,year\n04240,poor_households,2024\n",
        "columns",
        1,
        None,
        "missing column",
    ),
    ("no_indicator_column.csv", b"commune_code,commune\n04240,x\n", "columns", 1, None, "no indicator column"),
    (
        "typo_column.csv",
        b"commune_code,poor_housholds\n04240,5\n",
        "columns",
        1,
        "B (poor_housholds)",
        "unknown column",
    ),
    (
        "duplicate.csv",
        (GOOD_HEADER + "04240,,,502,38.5\n04045,,,615,24\n,Mường Lèo,Sơn La,503,\n").encode(),
        "duplicate",
        4,
        "D (poor_households)",
        "already on line 2",
    ),
    (
        "text_in_number.csv",
        (GOOD_HEADER + "04240,,,502,khoảng 20\n").encode(),
        "value",
        2,
        "E (poverty_rate)",
        "'khoảng 20' is not a number",
    ),
    (
        "negative_count.csv",
        (GOOD_HEADER + "04240,,,502,38\n04045,,,-5,24\n").encode(),
        "value",
        3,
        "D (poor_households)",
        "negative count",
    ),
    (
        "unknown_commune.csv",
        (GOOD_HEADER + "04240,,,502,38\n,Xã Không Có Thật,Sơn La,5,1\n").encode(),
        "unknown",
        3,
        "B (commune)",
        "no 2025 commune is named",
    ),
    (
        "code_name_mismatch.csv",
        (GOOD_HEADER + "04045,Xã Lóng Sập,Sơn La,615,24\n04240,Lóng Sập,Sơn La,502,38\n").encode(),
        "mismatch",
        3,
        "A (commune_code)",
        "the code 04240 is 'Mường Lèo', but the name says 'Lóng Sập'",
    ),
    (
        "unknown_code.csv",
        (GOOD_HEADER + "99999,,,502,38\n").encode(),
        "unknown",
        2,
        "A (commune_code)",
        "no 2025 commune has the code 99999",
    ),
]


@pytest.mark.parametrize("name, data, kind, line, column, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_rejected_with_line_and_column_and_change_nothing(
    real_store, db, name, data, kind, line, column, message
):
    import_file(real_store, db, (FIXTURES / "indicators_madeup_sonla_long_codes.csv").read_bytes(), "before.csv")
    before = snapshot(db)
    with pytest.raises(ImportRejected) as exc:
        import_file(real_store, db, data, name, year=2024, who="tk")
    rep = exc.value.report
    problems = rep["problems"] + rep.get("unmatched", [])
    hit = [p for p in problems if p["kind"] == kind]
    assert hit, problems
    assert hit[0]["line"] == line
    assert hit[0]["column"] == column
    assert message in hit[0]["message"]
    assert rep["status"] == "rejected"
    assert snapshot(db) == before


def test_old_excel_and_broken_xlsx_are_refused(real_store, db):
    with pytest.raises(ImportRejected, match="old Excel"):
        import_file(real_store, db, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "bang.xls")
    with pytest.raises(ImportRejected, match="not a readable XLSX"):
        import_file(real_store, db, b"PK\x03\x04garbage", "bang.xlsx")
    assert db.counts()["imports"] == 0


def test_an_xlsx_error_names_the_spreadsheet_cell(real_store, db):
    rows = [r[:] for r in SONLA_WIDE]
    rows[4][3] = "chưa có"  # Lóng Sập, Số hộ nghèo
    with pytest.raises(ImportRejected) as exc:
        import_file(real_store, db, xlsx(rows), "indicators_madeup_sonla_wide.xlsx", year=2024)
    p = exc.value.report["problems"][0]
    assert (p["line"], p["column"]) == (5, "D (Số hộ nghèo)")
    assert db.counts()["imports"] == 0


# --------------------------------------------------------------------------- across the reform


def test_links_of_pre_2025_units(real_store):
    from geoborder.indicators.reform import links_for

    links = links_for(real_store)
    units = links.units
    # Lóng Sập (2025, 04045) = Lóng Sập + Chiềng Khừa of Mộc Châu
    assert units.loc["3031939", "code2024"] == "04045" and units.loc["3031939", "method"] == "kept code and name"
    assert units.loc["3031927", "code2024"] == "04024"
    assert units.loc["3031927", "targets"] == ["04045"] and not units.loc["3031927", "partly"]
    assert links.unit_for_2024("04024") == ("3031927", ["3031927"])
    s = links.summary
    assert s["units_2009"] == 11163 and sum(s["units_by_status"].values()) == 11163
    assert s["codes_2024"] == 10033
    # every unit that does not link is listed with a reason
    unlinked = units[units["status"] == "unlinked"]
    assert len(unlinked) == s["units_by_status"]["unlinked"] and (unlinked["reason"] != "").all()
    # most units link (to a code or to their 2025 communes); the rest changed between 2009 and 2024
    assert s["units_by_status"]["code"] + s["units_by_status"]["group"] > 0.75 * 11163


def test_pre_2025_table_shown_on_2025_communes(real_store, db):
    path = FIXTURES / "indicators_madeup_mocchau_2009_wide.csv"
    rep = import_file(real_store, db, path.read_bytes(), path.name, vintage=2009, who="tk")
    assert rep["summary"] == "2 matched by code, 2 by name, 0 ambiguous, 0 unknown"
    hh = reform_values(real_store, db, "poor_households", year=2019)
    rate = reform_values(real_store, db, "poverty_rate", year=2019)
    road = reform_values(real_store, db, "road_to_centre_hardened", year=2019)
    # Lóng Sập 2025 (04045) = Lóng Sập (3031939, 2009 pop. 3,248) + Chiềng Khừa (3031927, 3,928)
    assert sorted(hh.loc["04045", "sources"]) == ["3031927", "3031939"]
    assert hh.loc["04045", "value"] == 512 + 377
    assert hh.loc["04045", "complete"] and not hh.loc["04045", "partial"]
    # weighted by the 2009 population: (40 * 3248 + 25 * 3928) / (3248 + 3928)
    assert rate.loc["04045", "value"] == pytest.approx(228120 / 7176)
    assert rate.loc["04045", "value"] == pytest.approx(31.7893, abs=1e-4)
    assert road.loc["04045", "value"] == 0  # "all": one of the two roads is not hardened
    # Mường Lèo (3031645) is unchanged (the crosswalk flags it partly merged, with one destination)
    assert not hh.loc["04240", "partial"] and hh.loc["04240", "partial_sources"] == []
    assert hh.loc["04240", "value"] == 188 and hh.loc["04240", "sources"] == ["3031645"]
    # the same through values_for, as the Features API and the maps call it
    v = values_for(real_store, db, "communes_2025", ["poor_households", "poverty_rate"], year=2019, source_vintage=2009)
    assert v.loc["04045", "poor_households"] == 889
    assert v.loc["04045", "poverty_rate"] == pytest.approx(31.7893, abs=1e-4)
    # Mường Lạn (3031653) is unchanged too: its count carries over
    assert not hh.loc["04246", "partial"] and hh.loc["04246", "value"] == 700
    assert list(v.index[v["poor_households"].notna()]) == ["04045", "04240", "04246"]
    assert v.loc["04246", "poverty_rate"] == 35.5


def test_a_missing_source_makes_the_2025_value_incomplete(real_store, db):
    data = b"commune_code,poor_households\n3031939,512\n"
    import_file(real_store, db, data, "madeup.csv", vintage=2009, year=2019)
    hh = reform_values(real_store, db, "poor_households", year=2019)
    assert hh.loc["04045", "value"] == 512
    assert hh.loc["04045", "missing_sources"] == ["3031927"] and not hh.loc["04045", "complete"]


# --------------------------------------------------------------------------- computed


def test_computed_indicators(real_store):
    import numpy as np
    import shapely

    from geoborder.core.crs import reproject

    v = values_for(real_store, None, "communes_2025", sorted(i.name for i in load_indicators().computed))
    c25 = real_store.frame("communes_2025").set_index("commune_code")
    assert v.loc["04045", "population"] == c25.loc["04045", "population"] == 9629
    assert v.loc["04045", "density"] == pytest.approx(9629 / 211.3)
    border = real_store.frame("border_communes_2025").set_index("commune_code")
    assert v.loc["04045", "border_length_km"] == border.loc["04045", "border_length_km"] > 0
    assert v.loc["00004", "border_length_km"] == 0  # Ba Đình, Hà Nội
    gates = real_store.frame("gates")
    assert v["gates_in_commune"].sum() == gates["commune_code_2025"].notna().sum()
    assert v.loc["04045", "gates_in_commune"] >= 1  # Lóng Sập border gate
    assert v.loc["04045", "nearest_gate_km"] == 0
    assert v.loc["00004", "nearest_gate_km"] > 100
    # roadless settlements, checked one place at a time
    crs = real_store.catalog.build["metric_crs"]
    places = real_store.frame("places")
    places = places[places["cc"] == "VN"]
    roads = real_store.frame("roads")
    roads = roads[~roads["is_railway"].astype(bool)]
    rg = reproject(np.asarray(roads.geometry.values), "EPSG:4326", crs)
    pg = reproject(np.asarray(places.geometry.values), "EPSG:4326", crs)
    far = np.array([shapely.distance(p, rg).min() > 2000 for p in pg])
    assert v["roadless_settlements"].sum() == pytest.approx(far.sum(), abs=3)  # edge/outside points aside
    assert v["roadless_settlements"].sum() > 0
    v09 = values_for(real_store, None, "communes_2009", ["population", "area_km2"])
    assert v09.loc["3031939", "population"] == 3248 and v09.loc["3031939", "area_km2"] == pytest.approx(199.99)


def test_csv_with_a_title_row_and_semicolons(real_store, db):
    data = ("Số liệu bịa (madeup) - Sơn La 2024\nTên xã;Tỉnh;Tỷ lệ hộ nghèo\nMường Lèo;Sơn La;38,5\n").encode()
    rep = import_file(real_store, db, data, "madeup.csv", year=2024)
    assert rep["summary"] == "0 matched by code, 1 by name, 0 ambiguous, 0 unknown"
    assert db.current("poverty_rate", vintage=2025).set_index("commune_code").loc["04240", "line"] == 3
    assert db.current("poverty_rate", vintage=2025).set_index("commune_code").loc["04240", "value"] == 38.5
