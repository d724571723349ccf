"""Reported indicator values on the commune collections of the Features API (issues 3 and 6).

The values come from the made-up fixture indicators_madeup_sonla_long_codes.csv, imported into a
throwaway indicator database: the service must show exactly what was imported.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.indicators.importing import import_file
from geoborder.indicators.open import open_indicators

FIXTURE = Path(__file__).parent.parent / "fixtures" / "indicators_madeup_sonla_long_codes.csv"


@pytest.fixture(scope="module")
def app_db(real_store, tmp_path_factory):
    db = open_indicators(tmp_path_factory.mktemp("ind") / "indicators.sqlite")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c, db


def _item(client, code, **params):
    r = client.get(f"/collections/communes_2025/items/{code}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["properties"]


def test_values_appear_after_an_import_and_the_etag_changes(app_db, real_store):
    client, db = app_db
    before = client.get("/collections/communes_2025/items/04045")
    assert "poor_households" not in before.json()["properties"]
    import_file(real_store, db, FIXTURE.read_bytes(), FIXTURE.name, who="test")
    after = client.get("/collections/communes_2025/items/04045")
    assert after.headers["etag"] != before.headers["etag"]
    assert (
        client.get(
            "/collections/communes_2025/items/04045", headers={"If-None-Match": before.headers["etag"]}
        ).status_code
        == 200
    )
    p = after.json()["properties"]
    # Lóng Sập (04045): the rows of the file, as imported
    assert p["poor_households"] == 615 and p["poor_households_year"] == 2024
    assert p["poverty_rate"] == 24.25 and p["road_to_centre_hardened"] == 1
    # a commune the file does not name has no value, not zero
    assert _item(client, "04246")["poor_households"] is None


def test_year_chooses_the_values(app_db):
    client, _ = app_db
    # Chiềng Sơn (03985) has 410 for 2023 and 388 for 2024: latest by default
    assert _item(client, "03985")["poor_households"] == 388
    p = _item(client, "03985", year=2023)
    assert p["poor_households"] == 410 and "poverty_rate" not in p  # no 2023 value of that one


def test_indicators_are_queryable_and_filterable(app_db):
    client, _ = app_db
    q = client.get("/collections/communes_2025/queryables").json()
    assert "poverty_rate" in q["properties"]
    fc = client.get("/collections/communes_2025/items", params={"filter": "poverty_rate > 20"}).json()
    assert [f["properties"]["commune_code"] for f in fc["features"]] == ["04045"]
    assert fc["numberMatched"] == 1


def test_bad_years_are_refused(app_db):
    client, _ = app_db
    r = client.get("/collections/communes_2025/items", params={"year": 2030})
    assert r.status_code == 400 and "2023, 2024" in r.json()["description"]
    r = client.get("/collections/roads/items", params={"year": 2024})
    assert r.status_code == 400 and "commune layers" in r.json()["description"]
    assert client.get("/collections/communes_2025/items", params={"year": "last"}).status_code == 400


def test_downloads_carry_the_indicators(app_db, tmp_path):
    import io

    import pandas as pd
    import pyogrio

    client, _ = app_db
    csv = pd.read_csv(
        io.StringIO(client.get("/collections/communes_2025/items?f=csv&limit=20000").text), dtype={"commune_code": str}
    )
    row = csv.set_index("commune_code").loc["04045"]
    assert row["poor_households"] == 615 and row["poor_households_year"] == 2024
    gpkg = tmp_path / "c.gpkg"
    gpkg.write_bytes(client.get("/collections/communes_2025/items?f=gpkg").content)
    df = pyogrio.read_dataframe(gpkg, read_geometry=False).set_index("commune_code")
    assert len(df) == 3321 and df.loc["04045", "poverty_rate"] == 24.25
    assert pd.isna(df.loc["04246", "poverty_rate"])
