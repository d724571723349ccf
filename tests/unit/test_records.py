"""The border's own records (issue 16) on SQLite: imports with their report, versions, a refused
file writing nothing, gate state at a date, crossing totals, marker inspections, cooperation, and
the seed of gate events against the pack's own text.

Every event, figure and inspection imported here is made up: tests/fixtures/records_madeup_*.csv
(see records_madeup_README.txt) and the small tables below, named *_madeup. The gate, marker,
province and partner names are real (they must match the pack).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.core.text import slug
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.table import ImportRejected
from geoborder.records.cells import date_cell, number_cell, period_cell
from geoborder.records.cooperation import cooperation
from geoborder.records.crossings import crossing_totals
from geoborder.records.gates import gate_state, gates_at, read_seed, seed_events
from geoborder.records.importing import import_records, prepare
from geoborder.records.markers import latest_conditions, marker_history, markers, uninspected_since
from geoborder.records.open import records_for

FIXTURES = Path(__file__).parent.parent / "fixtures"
EVENTS = FIXTURES / "records_madeup_events.csv"
EVENTS_BAD = FIXTURES / "records_madeup_events_bad.csv"
CROSSINGS = FIXTURES / "records_madeup_crossings_sonla.csv"
INSPECTIONS = FIXTURES / "records_madeup_inspections_sonla.csv"
COOPERATION = FIXTURES / "records_madeup_cooperation_sonla.csv"


@pytest.fixture
def idb(tmp_path):
    return IndicatorDB(tmp_path / "indicators.sqlite")


@pytest.fixture
def db(idb):
    return records_for(idb)


def _import(store, db, file, kind, **kw):
    name, data = (file.name, file.read_bytes()) if isinstance(file, Path) else file
    return import_records(store, db, data, name, kind=kind, who="test", **kw)


# --------------------------------------------------------------------------- cells (no store)


def test_periods_dates_and_numbers_are_read_as_written_in_sheets():
    assert period_cell("quý III/2024", None, None, None)[0] == ("2024-Q3", "quarter", "2024-07-01")
    assert period_cell("Q2/2024", None, None, None)[0][0] == "2024-Q2"
    assert period_cell("tháng 3/2024", None, None, None)[0] == ("2024-03", "month", "2024-03-01")
    assert period_cell(None, 2024, None, "11")[0][0] == "2024-11"
    assert period_cell(None, 2024, 2, 5)[1] == "a quarter and a month: give one of them"
    assert "not a period" in period_cell("Q5/2024", None, None, None)[1]
    assert date_cell("19/11/2024")[0] == ("2024-11-19", "day")
    assert date_cell("05/2024")[0] == ("2024-05-01", "month")
    assert date_cell("31/02/2024")[1] == "'31/02/2024' is not a date"
    assert "give the day" in date_cell("2024", day_only=True)[1]
    assert number_cell("12.345", whole=True)[0] == 12345
    assert number_cell("1.500.000", whole=False)[0] == 1_500_000
    assert number_cell("1.234,5", whole=False)[0] == 1234.5
    assert number_cell("-3", whole=True)[1] == "-3 is negative"
    assert number_cell("2.5", whole=True)[1] == "2.5 is not a whole number (a count)"


# --------------------------------------------------------------------------- the seed


@pytest.mark.realpack
def test_every_seeded_event_cites_the_text_of_its_gate_row(real_pack, real_store):
    rows = {}
    with open(real_pack / "gates_curated.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows[slug(r["name_vi"])] = r
    seed = read_seed()
    assert len(seed) >= 10
    for r in seed.itertuples(index=False):
        column = {"notes": "notes", "class": "class"}[r.source_field]
        assert r.source_text in rows[r.gate_id][column], (r.gate_id, r.source_text)
    ev = seed_events(real_store)
    # each with the row's fact_source as its source
    assert ev["source"].notna().all()
    lsap = ev[ev["gate_id"] == "long-sap"]
    assert list(lsap["event"]) == ["opened", "approved", "approved", "upgraded"]
    assert lsap["source"].iloc[0] == rows["long-sap"]["fact_source"]


@pytest.mark.realpack
def test_gate_state_from_the_seed_alone(real_store):
    # Sóc Giang: "upgraded to main (chính) by QĐ 1413/QĐ-TTg 26/09/2012" (the pack's note)
    s = gate_state(real_store, None, "soc-giang", at="2013-01-01")
    assert s["class"] == "main" and s["events"][0]["legal_ref"] == "QĐ 1413/QĐ-TTg"
    # before it: the pack states no earlier class, so none is invented
    before = gate_state(real_store, None, "soc-giang", at="2012-01-01")
    assert before["class"] is None and before["class_from"].startswith("unknown")
    # Thanh Thủy: opened as a national gate 06/1993, international 04/2014
    assert gate_state(real_store, None, "thanh-thuy", at="1993-01-01")["status"] == "not_yet_open"
    assert gate_state(real_store, None, "thanh-thuy", at="2000-01-01")["class"] == "main"
    assert gate_state(real_store, None, "thanh-thuy", at="2014-04-01")["class"] == "international"
    # a gate with no event: the pack's class, status "listed"
    chi_ma = gate_state(real_store, None, "chi-ma", at="2000-01-01")
    assert (chi_ma["class"], chi_ma["status"], chi_ma["events"]) == ("main", "listed", [])
    with pytest.raises(NotFound):
        gate_state(real_store, None, "no-such-gate")
    with pytest.raises(InvalidParameter, match="not a date"):
        gate_state(real_store, None, "chi-ma", at="yesterday")


# --------------------------------------------------------------------------- imports


@pytest.mark.realpack
def test_events_import_and_the_class_at_a_date(real_store, db):
    rep = _import(real_store, db, EVENTS, "events")
    assert rep["version"] == 1 and rep["matched"] == {"id": 1, "name": 2, "partner": 0, "new": 1}
    assert rep["summary"] == "1 by id, 2 by name, 1 new crossing points, 0 ambiguous, 0 unknown"
    assert rep["new_points"] == [{"line": 6, "gate_id": "opening-son-la-ban-madeup", "name": "Bản Madeup"}]
    # made-up: Chiềng Khương upgraded main -> international on 01/07/2024
    assert gate_state(real_store, db, "chieng-khuong", at="2023-06-01")["class"] == "main"
    after = gate_state(real_store, db, "chieng-khuong", at="2024-07-01")
    assert after["class"] == "international" and after["status"] == "open"
    assert [e["applies"] for e in after["events"]] == [True, False, False]
    assert gate_state(real_store, db, "chieng-khuong", at="2025-02-20")["status"] == "closed"
    assert gate_state(real_store, db, "chieng-khuong", at="2025-03-01")["status"] == "open"
    # the new opening exists from its event on
    at_2018 = {g["gate_id"]: g for g in gates_at(real_store, db, "2018-06-01")}
    at_2020 = {g["gate_id"]: g for g in gates_at(real_store, db, "2020-06-01")}
    assert at_2018["opening-son-la-ban-madeup"]["in_operation"] is False
    new = at_2020["opening-son-la-ban-madeup"]
    assert (new["point_kind"], new["class"], new["status"]) == ("opening", "opening", "open")
    assert at_2020["chieng-khuong"]["class"] == "main"
    closed = gates_at(real_store, db, "2025-02-20", in_operation=False)
    assert "chieng-khuong" in [g["gate_id"] for g in closed]


@pytest.mark.realpack
def test_a_refused_file_writes_nothing_and_its_report_names_line_and_column(real_store, db):
    _import(real_store, db, EVENTS, "events")
    before = (db.counts(), db.revision(), db.rows("events").to_dict("records"))
    with pytest.raises(ImportRejected) as exc:
        _import(real_store, db, EVENTS_BAD, "events")
    rep = exc.value.report
    assert rep["status"] == "rejected" and rep["ambiguous"] == 1 and rep["unknown"] == 1
    by_line = {p["line"]: p for p in rep["unmatched"] + rep["problems"]}
    assert by_line[3]["column"] == "A (gate)" and by_line[3]["kind"] == "ambiguous"
    assert {c["gate_id"] for c in by_line[3]["candidates"]} == {"thanh-thuy", "thanh-thuy-nghe-an"}
    assert by_line[4]["kind"] == "unknown" and "Không Có Thật" in by_line[4]["message"]
    assert by_line[5]["column"] == "C (date)" and by_line[5]["message"] == "'31/02/2024' is not a date"
    assert by_line[6]["column"] == "D (event)" and "'exploded' is not a gate event" in by_line[6]["message"]
    assert by_line[7]["column"] == "E (class)"
    assert (db.counts(), db.revision(), db.rows("events").to_dict("records")) == before
    # the same file again is refused as a duplicate, and a file of the wrong kind by its columns
    with pytest.raises(ImportRejected, match="already imported as records version 1"):
        _import(real_store, db, EVENTS, "events")
    with pytest.raises(ImportRejected) as wrong:
        _import(real_store, db, EVENTS_BAD, "crossings")
    assert any(p["message"].startswith("unknown column for crossings") for p in wrong.value.report["problems"])
    assert db.counts()["imports"] == 1


@pytest.mark.realpack
def test_crossings_matched_by_name_pair_and_partner_and_totals(real_store, db):
    rep = _import(real_store, db, CROSSINGS, "crossings")
    assert rep["summary"] == "0 by id, 6 by name, 1 by partner gate, 0 ambiguous, 0 unknown"
    by_gate = {t["gate_id"]: t for t in crossing_totals(real_store, db, by="gate")["totals"]}
    ls = by_gate["long-sap"]  # four quarters, summed (made-up figures)
    assert (ls["people_out"], ls["people_in"], ls["from"], ls["parts"], ls["complete"]) == (
        4600,
        3950,
        "quarter",
        4,
        True,
    )
    assert ls["exports"] == {"USD": 4_800_000.0} and ls["imports"] == {"USD": 2_100_000.0}
    # Chiềng Khương has a year and a month: the year is used, never both
    assert (by_gate["chieng-khuong"]["people_out"], by_gate["chieng-khuong"]["from"]) == (5000, "year")
    assert by_gate["na-cai"]["complete"] is False  # one month of twelve
    prov = crossing_totals(real_store, db, by="province", period="year")["totals"]
    assert [(t["province"], t["people_out"]) for t in prov] == [("Sơn La", 9670)]
    lao = crossing_totals(real_store, db, by="partner", partner="Lào")["totals"]
    assert lao[0]["partner"] == "LAO" and lao[0]["people_out"] == 9670
    q = crossing_totals(real_store, db, by="gate", period="quarter", gate="Lóng Sập", start="2024-Q2")["totals"]
    assert [t["period"] for t in q] == ["2024-Q2", "2024-Q3", "2024-Q4"]
    # a new version of one period replaces it; the old version stays
    _import(
        real_store, db, ("crossings_fix_madeup.csv", b"gate,period,people_out\nlong-sap,2024-Q1,1001\n"), "crossings"
    )
    ls2 = crossing_totals(real_store, db, by="gate", gate="long-sap")["totals"][0]
    assert (
        ls2["people_out"] == 4601 and ls2["versions"] == [1, 2] and ls2["people_in"] == 3050
    )  # the new row has no people_in: the whole row is replaced
    assert len(db.rows("crossings")) == 8


@pytest.mark.realpack
def test_crossing_cells_are_checked(real_store, db):
    bad = "gate,period,people_out,export_value,currency\nNà Cài,2024,-5,,\nNà Cài,2023,5,100,\nNà Cài,2022,,,\n"
    with pytest.raises(ImportRejected) as exc:
        _import(real_store, db, ("bad_crossings_madeup.csv", bad.encode()), "crossings")
    msgs = {(p["line"], p["column"]): p["message"] for p in exc.value.report["problems"]}
    assert msgs[(2, "C (people_out)")] == "-5 is negative"
    assert "needs its currency" in msgs[(3, "E (currency)")]
    assert msgs[(4, "C (people_out)")] == "no figure on this row"
    assert db.counts()["imports"] == 0


@pytest.mark.realpack
def test_inspections_history_latest_and_uninspected(real_store, db):
    rep = _import(real_store, db, INSPECTIONS, "inspections")
    assert rep["summary"] == "1 markers of the pack, 3 known only by number, 0 ambiguous, 0 unknown"
    assert rep["known_by_number"] == ["vn-la-125", "vn-la-126"]
    h = marker_history(real_store, db, "125", province="Sơn La")
    assert h["marker_key"] == "vn-la-125" and h["in_pack"] is False
    assert [(i["date"], i["condition"], i["patrol"]) for i in h["inspections"]] == [
        ("2024-03-05", "intact", "bilateral"),
        ("2024-09-12", "damaged", "unilateral"),
    ]
    assert marker_history(real_store, db, "vn-la-125")["inspections"] == h["inspections"]
    # the latest condition joins the markers layer on marker_id (vn-la-29 is a pack marker)
    latest = latest_conditions(db).set_index("marker_key")
    assert latest.loc["vn-la-29", "condition"] == "intact" and latest.loc["vn-la-125", "condition"] == "damaged"
    damaged = markers(real_store, db, condition="hư hỏng")
    assert [m["marker_key"] for m in damaged] == ["vn-la-125"]
    u = uninspected_since(real_store, db, "2024-10-01", border="VN-LA")
    keys = {m["marker_key"]: m["last_inspected"] for m in u["markers"]}
    assert keys["vn-la-125"] == "2024-09-12" and "vn-la-29" not in keys
    assert all("VN-LA" in m["border"].split("/") for m in u["markers"])  # tri-points too
    # a province on two borders needs the border
    with pytest.raises(ImportRejected) as exc:
        _import(
            real_store,
            db,
            ("insp_madeup.csv", "marker,province,date,condition\n29,Điện Biên,01/01/2024,intact\n".encode()),
            "inspections",
        )
    assert exc.value.report["ambiguous"] == 1 and exc.value.report["unmatched"][0]["column"] == "B (province)"


@pytest.mark.realpack
def test_cooperation_and_which_partners_share_the_border(real_store, db):
    rep = _import(real_store, db, COOPERATION, "cooperation")
    assert rep["summary"] == "4 by name, 0 ambiguous, 0 unknown"
    got = cooperation(real_store, db, "Son La", partner_country="LAO")
    assert got["province"] == {"code": "14", "name": "Sơn La"}
    share = {p["code"]: p["shares_border"] for p in got["partners"]}
    # the border from the store's segments: Sơn La faces Houaphan and Luang Prabang
    assert share == {"LA-HO": True, "LA-LP": True, "LA-PH": False, "LA-XI": False}
    assert got["sharing_border"] == 2 and got["bordering_without_relations"] == []
    with pytest.raises(ImportRejected) as exc:
        _import(real_store, db, ("coop_madeup.csv", "tỉnh,tỉnh bạn\nSơn La,Atlantis\n".encode()), "cooperation")
    assert exc.value.report["unknown"] == 1 and exc.value.report["unmatched"][0]["line"] == 2


@pytest.mark.realpack
def test_prepare_reads_xlsx_like_csv(real_store):
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(CROSSINGS.read_text(encoding="utf-8"))):
        ws.append(row if len(row) > 1 else [row[0]])
    buf = io.BytesIO()
    wb.save(buf)
    rows, rep = prepare(real_store, buf.getvalue(), "crossings_madeup.xlsx", kind="crossings")
    _, rep_csv = prepare(real_store, CROSSINGS.read_bytes(), CROSSINGS.name, kind="crossings")
    assert rep["format"] == "xlsx" and rep["matched"] == rep_csv["matched"] and len(rows) == 7
