"""Where the border's own records show (issue 16): `datetime=` on the gates collection (the gates
in operation then, with their class and status of that date), the gates' temporal extent, the
markers' latest inspection on the `markers` collection, and the crossings in a report.

Every record imported here is made up: tests/fixtures/records_madeup_*.csv (see their README),
and the indicator tables of the report are the made-up ones of test_reports_api. The gate events
of the pack (layers/gate_events_seed.csv) are real; this file relies on one of them only:
Hoành Mô's opening as a pair in May 2024 (the "gate opened later").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.cli.main import main as cli
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.importing import import_file
from geoborder.records.gates import read_seed
from geoborder.records.importing import import_records
from geoborder.records.open import records_for

FIX = Path(__file__).parent.parent / "fixtures"
EVENTS = FIX / "records_madeup_events.csv"
CROSSINGS = FIX / "records_madeup_crossings_sonla.csv"
INSPECTIONS = FIX / "records_madeup_inspections_markers.csv"
EARLY = ("records_madeup_early_event.csv", "gate,date,event,class\nNà Cài,1985,opened,secondary\n".encode())
PRE = FIX / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
NEW = FIX / "indicators_madeup_sonla_review_2025.csv"
GATES = "/collections/gates/items"


def _import(store, db, file, kind):
    name, data = (file.name, file.read_bytes()) if isinstance(file, Path) else file
    return import_records(store, records_for(db), data, name, kind=kind, who="test")


@pytest.fixture
def db(tmp_path):
    return IndicatorDB(tmp_path / "indicators.sqlite")


@pytest.fixture
def api(real_store, db):
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c


def gates(api, **params) -> dict:
    r = api.get(GATES, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["numberMatched"] == doc["numberReturned"] == len(doc["features"])
    return {f["id"]: f["properties"] for f in doc["features"]}


# --------------------------------------------------------------------------- gates by date


def test_datetime_on_gates_answers_by_date(api, real_store, db):
    _import(real_store, db, EVENTS, "events")
    layer = set(real_store.frame("gates")["gate_id"])
    # the made-up upgrade of Chiềng Khương (main -> international, 01/07/2024)
    before = gates(api, datetime="2023-06-01")
    assert before["chieng-khuong"]["class_on_date"] == "main"
    assert before["chieng-khuong"]["state_date"] == "2023-06-01"
    assert gates(api, datetime="2023-06-01T00:00:00Z")["chieng-khuong"]["class_on_date"] == "main"
    after = gates(api, datetime="2024-08-01")
    assert after["chieng-khuong"]["class_on_date"] == "international"
    assert after["chieng-khuong"]["status"] == "open" and after["chieng-khuong"]["in_operation"] is True
    # a gate opened later is absent before (Hoành Mô, opened May 2024 by the pack's notes)
    assert "hoanh-mo" not in before and "hoanh-mo" in after
    assert after["hoanh-mo"]["opened"] == "2024-05-01"
    # the made-up closure 15/02/2025 – reopening 01/03/2025
    assert "chieng-khuong" not in gates(api, datetime="2025-02-20")
    assert "chieng-khuong" not in gates(api, datetime="2025-02-16/2025-02-28")
    span = gates(api, datetime="2025-02-16/2025-03-05")["chieng-khuong"]  # open again on 01/03
    assert (span["status"], span["state_date"], span["status_since"]) == ("open", "2025-03-05", "2025-03-01")
    # open-ended intervals
    old = gates(api, datetime="../2015-01-01")
    assert "hoanh-mo" not in old and old["chieng-khuong"]["state_date"] == "2015-01-01"
    assert "hoanh-mo" in gates(api, datetime="2015-01-01/..")
    # with a filter and a bbox: each on the gates of that date
    main = gates(api, datetime="2023-06-01", filter="class_on_date = 'main'")
    assert "chieng-khuong" in main and set(main) < set(before)
    assert "chieng-khuong" not in gates(api, datetime="2024-08-01", filter="class_on_date = 'main'")
    boxed = gates(api, datetime="2023-06-01", bbox="103.5,20.5,104.5,21.5")
    assert "chieng-khuong" in boxed and set(boxed) <= set(before)
    # without datetime: every gate of the layer, with today's class and status
    now = gates(api)
    assert set(now) == layer
    ck = now["chieng-khuong"]
    assert (ck["class_on_date"], ck["status"], ck["status_since"]) == ("international", "open", "2025-03-01")
    assert ck["gate_class"] == "main"  # the pack's own class is kept as it was
    one = api.get("/collections/gates/items/chieng-khuong").json()["properties"]
    assert one["class_on_date"] == "international"


def test_other_layers_ignore_datetime(api):
    plain = api.get("/collections/communes_2025/items", params={"limit": 1}).json()["numberMatched"]
    dated = api.get("/collections/communes_2025/items", params={"limit": 1, "datetime": "../2015-01-01"})
    assert dated.status_code == 200 and dated.json()["numberMatched"] == plain
    bad = api.get(GATES, params={"datetime": "2023-13-01"})
    assert bad.status_code == 400 and "datetime" in bad.json()["description"]


def test_gates_downloads_and_html_follow_datetime(api, real_store, db):
    import csv
    import io

    _import(real_store, db, EVENTS, "events")
    got = api.get(GATES, params={"datetime": "2025-02-20", "f": "csv"})
    assert got.status_code == 200
    rows = {r["gate_id"]: r for r in csv.DictReader(io.StringIO(got.text))}
    assert "hoanh-mo" in rows and "chieng-khuong" not in rows  # closed that day (made up)
    assert rows["hoanh-mo"]["state_date"] == "2025-02-20" and rows["hoanh-mo"]["status"] == "open"
    page = api.get(GATES, params={"datetime": "2023-06-01", "f": "html", "limit": 1000})
    assert page.status_code == 200
    assert "/items/chieng-khuong?" in page.text and "/items/hoanh-mo?" not in page.text


def test_gates_collection_has_a_temporal_extent_and_etags_follow_the_records(api, real_store, db):
    ids = set(real_store.frame("gates")["gate_id"])
    seed = read_seed()
    first = min(seed.loc[seed["gate_id"].isin(ids), "date"])
    doc = api.get("/collections/gates").json()
    assert doc["extent"]["temporal"]["interval"] == [[f"{first}T00:00:00+07:00", None]]
    assert "temporal" not in api.get("/collections/communes_2025").json()["extent"]
    tag_doc = api.get("/collections/gates").headers["etag"]
    tag_items = api.get(GATES).headers["etag"]
    _import(real_store, db, EARLY, "events")  # a made-up opening of Nà Cài in 1985
    after = api.get("/collections/gates")
    assert after.json()["extent"]["temporal"]["interval"][0][0] == "1985-01-01T00:00:00+07:00"
    assert after.headers["etag"] != tag_doc
    items = api.get(GATES, params={"limit": 1000})
    assert items.headers["etag"] != tag_items
    nc = {f["id"]: f["properties"] for f in items.json()["features"]}["na-cai"]
    assert nc["opened"] == "1985-01-01" and nc["class_on_date"] == "secondary"
    assert api.get(GATES, headers={"If-None-Match": tag_items}).status_code == 200
    q = api.get("/collections/gates/queryables").json()["properties"]
    assert q["opened"]["format"] == "date" and q["in_operation"]["type"] == "boolean"


# --------------------------------------------------------------------------- markers


def test_markers_carry_their_latest_inspection(api, real_store, db):
    empty = api.get("/collections/markers/items", params={"limit": 100}).json()["features"]
    assert empty and all(f["properties"]["condition"] is None for f in empty)
    rep = _import(real_store, db, INSPECTIONS, "inspections")
    got = {
        f["id"]: f["properties"]
        for f in api.get("/collections/markers/items", params={"limit": 100}).json()["features"]
    }
    m = got["vn-cn-234"]  # two made-up inspections: the later one is the latest
    assert (m["condition"], m["inspected_on"], m["patrol"]) == ("damaged", "2024-06-15", "unilateral")
    assert m["inspection_import"] == rep["version"] and m["inspection_unit"] == "Đồn BP Madeup"
    assert got["vn-cn-79"]["condition"] == "intact"
    assert got["vn-cn-222-1"]["condition"] is None and got["vn-cn-222-1"]["inspected_on"] is None
    assert "vn-cn-9999" not in got  # known only by number: no location, not a feature
    damaged = api.get("/collections/markers/items", params={"filter": "condition = 'damaged'"}).json()
    assert [f["id"] for f in damaged["features"]] == ["vn-cn-234"]
    assert api.get("/collections/markers/items/vn-cn-234").json()["properties"]["condition"] == "damaged"


# --------------------------------------------------------------------------- the report

Q = {"area": "border:Sơn La", "from": 2017, "to": 2024, "indicator": ["poor_households"], "f": "json"}


@pytest.fixture
def review_db(real_store, db):
    import_file(real_store, db, PRE.read_bytes(), PRE.name, vintage=2009)
    import_file(real_store, db, NEW.read_bytes(), NEW.name, vintage=2025)
    return db


def test_report_shows_crossings_per_gate_once_imported(api, real_store, review_db):
    empty = api.get("/records/crossings", params={"start": "2017", "end": "2024"})  # nothing imported yet
    assert empty.status_code == 200 and empty.json()["totals"] == []
    none = api.get("/reports/review", params=Q).json()["crossings"]
    assert none["status"] == "no_data"
    assert {g["gate_id"] for g in none["gates"]} == {"chieng-khuong", "long-sap", "na-cai", "nam-lanh"}
    rep = _import(real_store, review_db, CROSSINGS, "crossings")
    sec = api.get("/reports/review", params=Q).json()["crossings"]
    assert sec["status"] == "ok"
    by = {(c["gate_id"], c["year"]): c for c in sec["crossings"]}
    assert set(by) == {("chieng-khuong", 2024), ("long-sap", 2024), ("na-cai", 2024)}
    ck, ls, nc = by["chieng-khuong", 2024], by["long-sap", 2024], by["na-cai", 2024]
    assert (ck["people_out"], ck["people_in"], ck["from"]) == (5000, 4000, "year")  # the year's own figure
    assert (ls["people_out"], ls["complete"], ls["from"]) == (1000 + 1100 + 1200 + 1300, True, "quarter")
    assert (nc["people_out"], nc["complete"]) == (70, False)  # one month of twelve
    assert all(c["versions"] == [rep["version"]] for c in sec["crossings"])
    assert "Chiềng Khương 2024: 5,000 out, 4,000 in" in sec["note_en"]
    html = api.get("/reports/review", params={**Q, "f": "html", "lang": "en"})
    assert "Chiềng Khương 2024: 5,000 out" in html.text
    earlier = api.get("/reports/review", params={**Q, "to": 2023}).json()["crossings"]
    assert earlier["status"] == "no_data"  # the made-up figures are of 2024


def test_cli_report_shows_the_crossings(real_store, real_store_path, review_db, tmp_path):
    _import(real_store, review_db, CROSSINGS, "crossings")
    out = tmp_path / "son_la.json"
    args = ["report", "--store", str(real_store_path), "--db", str(review_db.path), "--area", "border:Sơn La"]
    r = CliRunner().invoke(cli, [*args, "--from", "2017", "--to", "2024", "-i", "poor_households", "--out", str(out)])
    assert r.exit_code == 0, r.output
    import json

    sec = json.loads(out.read_text())["crossings"]
    assert sec["status"] == "ok" and {c["gate_id"] for c in sec["crossings"]} == {"chieng-khuong", "long-sap", "na-cai"}


# --------------------------------------------------------------------------- profiles


def test_the_commune_profile_carries_the_records_of_its_gates_and_markers(api, real_store, db):
    gates = real_store.frame("gates").set_index("gate_id")
    markers = real_store.frame("markers")
    gate_commune = gates.loc["chieng-khuong", "commune_code_2025"]
    marker = markers[markers["marker"].astype(str) == "234"].iloc[0]

    def profile(code):
        r = api.get("/queries/commune-profile", params={"code": code})
        assert r.status_code == 200, r.text
        return r.json()["features"][0]["properties"]

    before = {g["gate_id"]: g for g in profile(gate_commune)["gates"]}
    assert "class_today" in before["chieng-khuong"] and before["chieng-khuong"]["last_event"] != "reopened"
    _import(real_store, db, EVENTS, "events")
    _import(real_store, db, INSPECTIONS, "inspections")
    after = {g["gate_id"]: g for g in profile(gate_commune)["gates"]}
    # made-up: upgraded to international on 01/07/2024, closed 15/02/2025, reopened 01/03/2025
    assert after["chieng-khuong"]["class_today"] == "international"
    assert (
        after["chieng-khuong"]["last_event"] == "reopened" and after["chieng-khuong"]["last_event_date"] == "2025-03-01"
    )
    m = {x["marker_id"]: x for x in profile(marker["commune_code_2025"])["markers"]}[marker["marker_id"]]
    assert m["condition"] == "damaged" and m["inspected_on"] == "2024-06-15"  # the later inspection wins
