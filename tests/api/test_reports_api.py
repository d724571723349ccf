"""/reports and `geoborder report` on the real store: a report in each format, and bad input as a
clear 4xx / CLI error. The uploaded numbers are made up (see the fixture names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.cli.main import main as cli
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.importing import import_file

FIX = Path(__file__).parent.parent / "fixtures"
PRE = FIX / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
NEW = FIX / "indicators_madeup_sonla_review_2025.csv"
Q = {"area": "border:Sơn La", "from": 2017, "to": 2025, "indicator": ["poor_households", "poverty_rate"]}


@pytest.fixture(scope="module")
def env(real_store, tmp_path_factory):
    path = tmp_path_factory.mktemp("reports") / "indicators.sqlite"
    db = IndicatorDB(path)
    import_file(real_store, db, PRE.read_bytes(), PRE.name, vintage=2009)
    import_file(real_store, db, NEW.read_bytes(), NEW.name, vintage=2025)
    key = db.add_key("so-lao-dong-son-la")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c, db, key, path


def test_report_json_pdf_xlsx_html(env):
    api, *_ = env
    r = api.get("/reports/review", params={**Q, "f": "json"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["vintage"] == 2025 and doc["indicators"][0]["years_without_data"] == [2020]
    assert [i["file_name"] for i in doc["imports"]] == [PRE.name, NEW.name]
    assert doc["crossings"]["status"] == "no_data"
    pdf = api.get("/reports/review", params={**Q, "f": "pdf"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-" and "attachment" in pdf.headers["content-disposition"]
    x = api.get("/reports/review", params={**Q, "f": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    h = api.get("/reports/review", params={**Q, "lang": "en"})
    assert h.status_code == 200 and "Border communes of Sơn La" in h.text and "https://" not in h.text


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({**Q, "area": "border:Atlantis"}, 404, "no province"),
        ({**Q, "area": "nowhere"}, 404, "is not an area"),
        ({**Q, "from": 2010, "to": 2012}, 400, "no values"),
        ({**Q, "indicator": ["density"]}, 400, "no yearly series"),
        ({**Q, "indicator": ["not_an_indicator"]}, 404, "no indicator"),
        ({**Q, "threshold": ["poverty_rate>=x"]}, 400, "not a number"),
    ],
)
def test_bad_input_is_a_clear_4xx(env, params, status, words):
    api, *_ = env
    r = api.get("/reports/review", params={**params, "f": "json"})
    assert r.status_code == status, r.text
    assert words in r.json()["description"]


def test_a_mean_whose_weight_is_unknown_cannot_be_combined(env, real_store, tmp_path):
    c09 = real_store.frame("communes_2009")
    code = str(c09.loc[c09["population"].isna(), "commune_code"].iloc[0])
    db = IndicatorDB(tmp_path / "i.sqlite")
    madeup = f"commune_code,year,poverty_rate\n{code},2019,12\n".encode()
    import_file(real_store, db, madeup, "madeup_no_population.csv", vintage=2009)
    with TestClient(create_app(store=real_store, indicators=db)) as api:
        r = api.get(
            "/reports/review",
            params={"area": f"communes:{code}", "from": 2019, "to": 2019, "indicator": "poverty_rate", "f": "json"},
        )
    assert r.status_code == 400 and "cannot be combined" in r.json()["description"]


def test_saved_area_and_targets(env):
    api, db, key, path = env
    h = {"X-API-Key": key}
    r = api.post(
        "/reports/areas", data={"name": "khu vực Mộc Châu madeup", "area": "districts:Mộc Châu, Sơn La"}, headers=h
    )
    assert r.status_code == 201, r.text
    assert api.post("/reports/areas", data={"name": "x", "area": "border"}).status_code == 401
    # a target for an unknown indicator: refused whole, nothing written
    bad = "indicator,area,year,value\npoor_households,border:Sơn La,2025,9000\nnot_an_indicator,border:Sơn La,2025,1\n"
    r = api.post(
        "/reports/targets/imports", files={"file": ("targets_madeup.csv", bad.encode(), "text/csv")}, headers=h
    )
    assert r.status_code == 422 and "not_an_indicator" in r.json()["description"]
    assert api.get("/reports/targets").json()["targets"] == []
    good = "indicator,area,year,value\npoor_households,border:Sơn La,2025,9000\npoverty_rate,border:Sơn La,2023,60\npoverty_rate,border:Sơn La,2024,1\n"
    r = api.post(
        "/reports/targets/imports", files={"file": ("targets_madeup.csv", good.encode(), "text/csv")}, headers=h
    )
    assert r.status_code == 201, r.text
    doc = api.get("/reports/review", params={**Q, "f": "json", "to": 2024}).json()
    status = {(t["indicator"], t["year"]): t["status"] for t in doc["targets"]}
    series = {s["year"]: s["value"] for s in doc["indicators"][1]["series"]}
    # 2025 is after the last year with data (2024): judged on the trend of 2017–2024
    poor = [(x["year"], x["value"]) for x in doc["indicators"][0]["series"] if x["value"] is not None]
    (fy, first), (ly, last) = poor[0], poor[-1]
    projected = last * (last / first) ** ((2025 - ly) / (ly - fy))
    t25 = next(t for t in doc["targets"] if (t["indicator"], t["year"]) == ("poor_households", 2025))
    assert t25["projection"]["value"] == pytest.approx(projected) and t25["actual"] is None
    assert status[("poor_households", 2025)] == ("on_track" if projected <= 9000 else "off_track")
    assert status[("poverty_rate", 2023)] == ("met" if series[2023] <= 60 else "not_met")
    assert status[("poverty_rate", 2024)] == ("met" if series[2024] <= 1 else "not_met")
    r = api.get("/reports/review", params={**Q, "area": "saved:khu vực Mộc Châu madeup", "f": "json"})
    assert r.status_code == 200 and len(r.json()["area"]["communes_2009"]) > 0


def test_cli_report_and_its_errors(env, real_store, tmp_path):
    _, _, _, path = env
    store = str(real_store.path) if hasattr(real_store, "path") else None
    if store is None:
        pytest.skip("the CLI opens a store by path")
    out = tmp_path / "son_la_2017_2023.pdf"
    args = [
        "report",
        "--store",
        store,
        "--db",
        str(path),
        "--area",
        "border:Sơn La",
        "--from",
        "2017",
        "--to",
        "2023",
        "-i",
        "poor_households",
    ]
    r = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:5] == b"%PDF-"
    r = CliRunner().invoke(cli, [*args[:-2], "-i", "density", "--out", str(tmp_path / "x.pdf")])
    assert r.exit_code == 2 and "no yearly series" in r.output


@pytest.mark.parametrize(
    ("params", "status", "vi", "en"),
    [
        ({**Q, "area": "nowhere"}, 404, "Không có khu vực «nowhere»", "There is no area “nowhere”"),
        ({**Q, "from": 2010, "to": 2012}, 400, "Chưa có số liệu", "have no values"),
        ({**Q, "from": "abc"}, 400, "Giai đoạn không hợp lệ", "The period is not valid"),
    ],
)
def test_bad_input_on_the_html_page_is_a_page_in_its_language(env, params, status, vi, en):
    api, *_ = env
    for lang, words in (("vi", vi), ("en", en)):
        r = api.get("/reports/review", params={**params, "lang": lang})
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), r.text
        assert words in r.text and f'lang="{lang}"' in r.text
    # the other forms keep the JSON error
    assert api.get("/reports/review", params={**params, "f": "json"}).headers["content-type"].startswith("application/")


def test_a_held_review_is_made_again_when_its_targets_or_saved_area_change(env):
    """Reviews are held per data (geoborder.reports.cache): a new target import or a replaced
    saved area shows in the next request of the same review."""
    api, db, key, path = env
    h = {"X-API-Key": key}
    q = {**Q, "from": 2017, "to": 2023, "indicator": ["poor_households"], "f": "json"}
    before = api.get("/reports/review", params=q).json()
    assert api.get("/reports/review", params=q).json() == before
    targets = "indicator,area,year,value\npoor_households,border:Sơn La,2021,123\n"
    files = {"file": ("targets_madeup_cache.csv", targets.encode(), "text/csv")}
    assert api.post("/reports/targets/imports", files=files, headers=h).status_code == 201
    after = api.get("/reports/review", params=q).json()
    assert [(t["year"], t["value"]) for t in after["targets"] if t["file_name"] == "targets_madeup_cache.csv"] == [
        (2021, 123.0)
    ]
    name = "khu vực thử cache madeup"
    form = {"name": name, "area": "districts:Mộc Châu, Sơn La"}
    assert api.post("/reports/areas", data=form, headers=h).status_code == 201
    sq = {**q, "area": f"saved:{name}"}
    one = api.get("/reports/review", params=sq).json()["area"]["communes_2009"]
    form = {"name": name, "area": "districts:Yên Châu, Sơn La", "replace": "true"}
    assert api.post("/reports/areas", data=form, headers=h).status_code == 201
    two = api.get("/reports/review", params=sq).json()["area"]["communes_2009"]
    assert one and two and set(one).isdisjoint(two)


def test_delete_a_saved_area(env):
    api, db, key, path = env
    h = {"X-API-Key": key}
    name = "khu vực xoá madeup"
    assert api.post("/reports/areas", data={"name": name, "area": "border:Sơn La"}, headers=h).status_code == 201
    assert api.delete(f"/reports/areas/{name}").status_code == 401
    assert api.get("/maps/legend", params={"indicator": "density", "area": name}).status_code == 200
    assert api.delete(f"/reports/areas/{name}", headers=h).status_code == 204
    assert api.get(f"/reports/areas/{name}").status_code == 404
    assert api.delete(f"/reports/areas/{name}", headers=h).status_code == 404
    # the map of that name is gone too (the saved-area revision keys the map)
    assert api.get("/maps/legend", params={"indicator": "density", "area": name}).status_code == 400
