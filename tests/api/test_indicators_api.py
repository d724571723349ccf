"""The /indicators endpoints and the `geoborder indicators` commands on the real store.

The uploaded numbers are made up (see the fixture names).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.cli.main import main as cli
from geoborder.indicators.db import IndicatorDB

FIXTURES = Path(__file__).parent.parent / "fixtures"
LONG_CSV = FIXTURES / "indicators_madeup_sonla_long_codes.csv"
MOCCHAU_2009 = FIXTURES / "indicators_madeup_mocchau_2009_wide.csv"


@pytest.fixture
def db(tmp_path):
    return IndicatorDB(tmp_path / "indicators.sqlite")


@pytest.fixture
def api(real_store, db):
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c


@pytest.fixture
def key(db):
    return db.add_key("thong-ke-son-la")


def upload(api, path_or_bytes, name=None, headers=None, **form):
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    name = name or (path_or_bytes.name if isinstance(path_or_bytes, Path) else "upload.csv")
    return api.post(
        "/indicators/imports",
        files={"file": (name, data, "text/csv")},
        data={k: str(v) for k, v in form.items()},
        headers=headers or {},
    )


def test_catalog_is_public(api):
    r = api.get("/indicators", params={"lang": "en"})
    assert r.status_code == 200
    inds = {i["name"]: i for i in r.json()["indicators"]}
    assert inds["poverty_rate"]["title"] == "Poverty rate" and inds["poverty_rate"]["aggregation"] == "weighted_mean"
    assert inds["roadless_settlements"]["source"] == "computed"
    assert api.get("/indicators").json()["indicators"][0]["title"] == "Số hộ nghèo"


def test_upload_without_key_is_401_and_writes_nothing(api, db, key):
    r = upload(api, LONG_CSV)
    assert r.status_code == 401
    assert "API key" in r.json()["description"]
    assert db.counts()["imports"] == 0 and db.counts()["observations"] == 0


def test_upload_with_a_wrong_key_is_403_and_writes_nothing(api, db, key):
    for headers in ({"X-API-Key": key + "x"}, {"Authorization": "Bearer gbk_not-a-key"}):
        r = upload(api, LONG_CSV, headers=headers)
        assert r.status_code == 403
    assert db.counts()["imports"] == 0 and db.counts()["observations"] == 0


def test_upload_history_and_values(api, db, key):
    r = upload(api, LONG_CSV, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["version"] == 1 and rep["who"] == "thong-ke-son-la"
    assert rep["summary"] == "10 matched by code, 0 by name, 0 ambiguous, 0 unknown"

    # the same file again: 409, nothing new
    again = upload(api, LONG_CSV, headers={"X-API-Key": key})
    assert again.status_code == 409 and "already imported as version 1" in again.json()["description"]

    # a bad file: 422 with the report, nothing written
    before = db.counts()
    bad = upload(
        api, b"commune_code,poor_households\n04045,-3\n", "bad_madeup.csv", headers={"X-API-Key": key}, year=2024
    )
    assert bad.status_code == 422
    p = bad.json()["report"]["problems"][0]
    assert (p["line"], p["column"], p["kind"]) == (2, "B (poor_households)", "value")
    assert db.counts() == before

    # Bearer works too; a second version
    r2 = upload(
        api,
        b"commune_code,poor_households\n04045,600\n",
        "fix_madeup.csv",
        headers={"Authorization": f"Bearer {key}"},
        year=2024,
    )
    assert r2.status_code == 201 and r2.json()["version"] == 2

    hist = api.get("/indicators/imports").json()["imports"]
    assert [(h["id"], h["file_name"], h["who"]) for h in hist] == [
        (1, LONG_CSV.name, "thong-ke-son-la"),
        (2, "fix_madeup.csv", "thong-ke-son-la"),
    ]
    assert len(hist[0]["sha256"]) == 64 and hist[0]["imported_at"]
    assert api.get("/indicators/imports/1").json()["report"]["values"] == 10

    vals = api.get("/indicators/poor_households/values", params={"year": 2024}).json()
    by_code = {v["commune_code"]: v for v in vals["values"]}
    assert by_code["04045"]["value"] == 600 and by_code["04045"]["version"] == 2
    assert by_code["04045"]["name"] == "Lóng Sập"
    assert by_code["04240"]["value"] == 502 and by_code["04240"]["version"] == 1
    assert vals["count"] == 3


def test_pre_2025_values_on_2025_communes(api, key):
    r = upload(api, MOCCHAU_2009, headers={"X-API-Key": key}, vintage=2009)
    assert r.status_code == 201, r.text
    on09 = api.get("/indicators/poor_households/values", params={"vintage": 2009}).json()
    assert {v["commune_code"]: v["value"] for v in on09["values"]}["3031939"] == 512
    on25 = api.get(
        "/indicators/poverty_rate/values", params={"vintage": 2025, "source_vintage": 2009, "year": 2019}
    ).json()
    row = {v["commune_code"]: v for v in on25["values"]}["04045"]
    assert row["value"] == pytest.approx((40 * 3248 + 25 * 3928) / (3248 + 3928))
    assert row["complete"] and sorted(row["sources"]) == ["3031927", "3031939"]
    hh = api.get("/indicators/poor_households/values", params={"source_vintage": 2009}).json()
    leo = {v["commune_code"]: v for v in hh["values"]}["04240"]
    # unchanged by the reform (the crosswalk flags it partly merged, but it has one destination)
    assert leo["value"] == 188 and not leo["partial"] and leo["sources"] == ["3031645"]


def test_values_parameters_are_checked(api):
    assert api.get("/indicators/nope/values").status_code == 404
    assert api.get("/indicators/poverty_rate/values", params={"vintage": 2011}).status_code == 400
    assert (
        api.get("/indicators/poverty_rate/values", params={"vintage": 2009, "source_vintage": 2025}).status_code == 400
    )
    r = api.get("/indicators/gates_in_commune/values")
    assert r.status_code == 200
    lsap = {v["commune_code"]: v["value"] for v in r.json()["values"]}
    assert len(lsap) == 3321 and lsap["04045"] >= 1


def test_cli_add_key_import_and_history(real_store_path, tmp_path):
    runner = CliRunner()
    dbp = tmp_path / "cli.sqlite"
    r = runner.invoke(cli, ["indicators", "add-key", "tk-son-la", "--db", str(dbp)])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[0]
    assert key.startswith("gbk_") and IndicatorDB(dbp).check_key(key) == "tk-son-la"
    assert runner.invoke(cli, ["indicators", "add-key", "tk-son-la", "--db", str(dbp)]).exit_code != 0

    bad = tmp_path / "bad_madeup.csv"
    bad.write_bytes("commune,province,poor_households\nLóng Sập,Sơn La,12\nNowhere,Sơn La,3\n".encode())
    r = runner.invoke(
        cli,
        [
            "indicators",
            "import",
            str(bad),
            "--year",
            "2024",
            "--who",
            "tk",
            "--db",
            str(dbp),
            "--store",
            str(real_store_path),
        ],
    )
    assert r.exit_code == 1
    assert "0 matched by code, 1 by name, 0 ambiguous, 1 unknown" in r.output
    assert "line 3" in r.output and "not imported" in r.output
    assert IndicatorDB(dbp).counts()["imports"] == 0

    r = runner.invoke(
        cli, ["indicators", "import", str(LONG_CSV), "--who", "tk", "--db", str(dbp), "--store", str(real_store_path)]
    )
    assert r.exit_code == 0, r.output
    assert "as version 1" in r.output
    r = runner.invoke(cli, ["indicators", "history", "--db", str(dbp)])
    assert LONG_CSV.name in r.output and "tk" in r.output


def test_links_endpoint_lists_every_unit_that_does_not_link(api):
    r = api.get("/indicators/links", params={"status": "unlinked"})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == body["summary"]["units_by_status"]["unlinked"] > 0
    assert all(u["reason"] and u["status"] == "unlinked" for u in body["units"])
    lsap = {u["commune_code"]: u for u in api.get("/indicators/links", params={"status": "code"}).json()["units"]}
    assert lsap["3031927"]["code2024"] == "04024" and lsap["3031927"]["communes_2025"] == ["04045"]
    assert api.get("/indicators/links", params={"status": "bad"}).status_code == 400
