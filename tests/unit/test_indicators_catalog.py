"""The indicator catalog, value parsing and the versioned database (no source pack needed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from geoborder.core.errors import CatalogError, NotFound
from geoborder.indicators.catalog import load_indicators, parse_indicators
from geoborder.indicators.db import ApiKeyError, IndicatorDB
from geoborder.indicators.importing import parse_value

REPORTED = {
    "poor_households",
    "poverty_rate",
    "new_rural_criteria_met",
    "road_to_centre_hardened",
    "villages_with_road_pct",
    "phone_signal_pct",
    "clean_water_pct",
    "gate_crossings",
    "export_value",
}
COMPUTED = {
    "population",
    "area_km2",
    "density",
    "border_length_km",
    "gates_in_commune",
    "nearest_gate_km",
    "roadless_settlements",
    "villages",
    "villages_far_from_road_pct",
}


def test_catalog_has_the_reported_and_computed_indicators():
    cat = load_indicators()
    assert {i.name for i in cat.reported} == REPORTED
    assert {i.name for i in cat.computed} == COMPUTED
    rate = cat.get("poverty_rate")
    assert (rate.type, rate.aggregation, rate.weight, rate.higher_is_better) == (
        "rate",
        "weighted_mean",
        "population",
        False,
    )
    assert (rate.min, rate.max) == (0, 100)
    assert cat.get("new_rural_criteria_met").max == 19
    assert cat.get("poor_households").aggregation == "sum"
    assert cat.get("road_to_centre_hardened").type == "boolean"
    assert cat.get("export_value").type == "money"
    assert cat.get("density").weight == "area"
    for i in cat.indicators:
        assert i.vi and i.en and i.unit("vi") and i.unit("en"), i.name
    with pytest.raises(NotFound):
        cat.get("nope")


@pytest.mark.parametrize(
    "body, msg",
    [
        ('[[indicator]]\nname="x"\ntype="rate"\naggregation="weighted_mean"\nsource="reported"\n', "needs weight"),
        ('[[indicator]]\nname="x"\ntype="ratio"\naggregation="sum"\nsource="reported"\n', "type must be"),
        ('[[indicator]]\nname="x"\ntype="boolean"\naggregation="sum"\nsource="reported"\n', "boolean aggregates"),
        ('[[indicator]]\nname="x"\ntype="count"\naggregation="sum"\nsource="reported"\n' * 2, "duplicate"),
    ],
)
def test_bad_catalogs_are_refused(body, msg):
    with pytest.raises(CatalogError, match=msg):
        parse_indicators(body.encode(), Path("x.toml"))


@pytest.mark.parametrize(
    "name, cell, value, error",
    [
        ("poor_households", 12, 12.0, None),
        ("poor_households", "1 234", 1234.0, None),
        ("poor_households", -5, None, "negative count"),
        ("poor_households", 2.5, None, "not a whole number"),
        ("poverty_rate", "12,5", 12.5, None),
        ("poverty_rate", "12.5%", 12.5, None),
        ("poverty_rate", "khoảng 20", None, "not a number"),
        ("poverty_rate", 140, None, "above the maximum 100"),
        ("new_rural_criteria_met", 20, None, "above the maximum 19"),
        ("road_to_centre_hardened", "Có", 1.0, None),
        ("road_to_centre_hardened", "không", 0.0, None),
        ("road_to_centre_hardened", "chắc vậy", None, "not yes/no"),
        ("export_value", None, None, None),
        ("export_value", "  ", None, None),
    ],
)
def test_parse_value(name, cell, value, error):
    v, err = parse_value(cell, load_indicators().get(name))
    assert v == value
    if error is None:
        assert err is None
    else:
        assert error in err


def _values(rows):
    return pd.DataFrame(rows, columns=["indicator", "commune_code", "year", "value", "line", "matched_by"])


def test_versions_keep_history_and_current_is_the_latest(tmp_path):
    db = IndicatorDB(tmp_path / "ind.sqlite")
    v1 = db.write_import(
        file_name="a.csv",
        sha256="a" * 64,
        who="tk",
        vintage=2025,
        layout="wide",
        values=_values(
            [("poor_households", "04045", 2024, 600, 2, "code"), ("poor_households", "03985", 2024, 400, 3, "code")]
        ),
        report={},
    )
    v2 = db.write_import(
        file_name="b.csv",
        sha256="b" * 64,
        who="tk",
        vintage=2025,
        layout="wide",
        values=_values(
            [("poor_households", "04045", 2024, 615, 2, "name"), ("poor_households", "04045", 2025, 590, 3, "name")]
        ),
        report={},
    )
    assert (v1, v2) == (1, 2)
    cur = db.current("poor_households", vintage=2025, year=2024).set_index("commune_code")
    assert cur.loc["04045", "value"] == 615 and cur.loc["04045", "import_id"] == 2
    assert cur.loc["03985", "value"] == 400  # not in version 2: stays current from version 1
    old = db.current("poor_households", vintage=2025, year=2024, as_of=1).set_index("commune_code")
    assert old.loc["04045", "value"] == 600
    latest = db.current("poor_households", vintage=2025).set_index("commune_code")
    assert latest.loc["04045", "year"] == 2025 and latest.loc["04045", "value"] == 590
    assert [r["file_name"] for r in db.imports()] == ["a.csv", "b.csv"]
    assert list(db.history("poor_households", "04045", vintage=2025)["value"]) == [600, 615, 590]


def test_a_failing_write_leaves_nothing(tmp_path):
    db = IndicatorDB(tmp_path / "ind.sqlite")
    bad = _values([("poor_households", "04045", 2024, 1, 2, "code"), ("poor_households", "04045", 2024, 2, 3, "code")])
    with pytest.raises(sqlite3.IntegrityError):
        db.write_import(file_name="a.csv", sha256="a" * 64, who="x", vintage=2025, layout="wide", values=bad, report={})
    assert db.counts() == {"imports": 0, "observations": 0, "api_keys": 0}


def test_api_keys_are_stored_hashed(tmp_path):
    db = IndicatorDB(tmp_path / "ind.sqlite")
    key = db.add_key("thong-ke-son-la")
    assert key.startswith("gbk_") and len(key) > 30
    for f in tmp_path.iterdir():  # the file and its WAL
        assert key.encode() not in f.read_bytes()
    assert db.check_key(key) == "thong-ke-son-la"
    assert db.check_key(key + "x") is None
    with pytest.raises(ApiKeyError):
        db.add_key("thong-ke-son-la")
    db.revoke_key("thong-ke-son-la")
    assert db.check_key(key) is None


def test_the_same_file_cannot_be_written_twice(tmp_path):
    db = IndicatorDB(tmp_path / "ind.sqlite")
    vals = _values([("poor_households", "04045", 2024, 1, 2, "code")])
    db.write_import(file_name="a.csv", sha256="a" * 64, who="x", vintage=2025, layout="wide", values=vals, report={})
    with pytest.raises(sqlite3.IntegrityError):  # e.g. a second worker racing the first
        db.write_import(
            file_name="a.csv", sha256="a" * 64, who="y", vintage=2025, layout="wide", values=vals, report={}
        )
    assert db.counts() == {"imports": 1, "observations": 1, "api_keys": 0}
