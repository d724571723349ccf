"""The pure parts of geoborder.reports: combining communes' values, the change over a period,
thresholds. The numbers are made up in the tests."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geoborder.core.errors import InvalidParameter
from geoborder.indicators.catalog import load_indicators
from geoborder.reports.figures import change, check_indicators, check_period, combine
from geoborder.reports.thresholds import parse_threshold

CAT = load_indicators()


def test_sum_and_weighted_mean_skip_communes_without_a_value():
    madeup = pd.Series({"a": 10.0, "b": None, "c": 30.0})
    got = combine(CAT.get("poor_households"), madeup)
    assert got == {"value": 40.0, "n_with_value": 2, "n_communes": 3}
    w = pd.Series({"a": 1.0, "b": 5.0, "c": 3.0})
    got = combine(CAT.get("poverty_rate"), madeup, w)
    assert got["value"] == pytest.approx((10 * 1 + 30 * 3) / 4)


def test_a_weighted_mean_without_its_weight_cannot_be_combined():
    madeup = pd.Series({"a": 10.0, "c": 30.0})
    with pytest.raises(InvalidParameter, match="weighted by population.*c.*cannot be combined"):
        combine(CAT.get("poverty_rate"), madeup, pd.Series({"a": 1.0, "c": float("nan")}))


def test_boolean_gives_the_share_of_communes_with_yes():
    got = combine(CAT.get("road_to_centre_hardened"), pd.Series({"a": 1.0, "b": 0.0, "c": 1.0, "d": 1.0}))
    assert got["value"] == 0.0 and got["share_yes_percent"] == 75.0 and got["n_yes"] == 3


def test_change_absolute_percent_and_average_annual_rate():
    c = change(200.0, 150.0, 6)
    assert c["absolute"] == -50.0 and c["percent"] == -25.0
    assert c["annual_rate_percent"] == pytest.approx(((150 / 200) ** (1 / 6) - 1) * 100)
    assert change(0.0, 5.0, 2)["percent"] is None and change(None, 5.0, 2)["absolute"] is None
    assert math.isclose(change(100.0, 121.0, 2)["annual_rate_percent"], 10.0)


def test_thresholds_parse_numbers_and_yes_no():
    t = parse_threshold("new_rural_criteria_met>=10")
    assert (t.op, t.value) == (">=", 10.0) and t.test(10) and not t.test(9)
    assert parse_threshold("road_to_centre_hardened = có").value == 1.0
    with pytest.raises(InvalidParameter):
        parse_threshold("poverty_rate about 5")
    with pytest.raises(InvalidParameter, match="yes/no"):
        parse_threshold("road_to_centre_hardened>=3")


def test_bad_periods_and_indicators_are_refused():
    with pytest.raises(InvalidParameter, match="backwards"):
        check_period(2023, 2017)
    with pytest.raises(InvalidParameter, match="no yearly series"):
        check_indicators(["density"], CAT)
    with pytest.raises(InvalidParameter, match="at least one"):
        check_indicators([], CAT)
