"""geoborder.indicators.saved_areas: the saved named areas every stage reads (maps, queries,
reports), on a SQLite indicator database in a temporary folder."""

from __future__ import annotations

import pytest

from geoborder.core.errors import InvalidParameter
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.saved_areas import (
    SavedArea,
    delete_saved_area,
    find_saved_area,
    save_area,
    saved_area_names,
    saved_areas_revision,
)

NAME = "khu vực giáp ranh Si Ma Cai – Bắc Hà – Xín Mần"


@pytest.fixture
def db(tmp_path):
    return IndicatorDB(tmp_path / "indicators.sqlite")


def _save(db, name=NAME, replace=False, codes=("0303", "0101")):
    return save_area(
        db,
        name,
        spec="districts:Si Ma Cai;Bắc Hà;Xín Mần",
        vintage=2009,
        codes_2009=codes,
        codes_2025=("02", "01"),
        who="test",
        replace=replace,
    )


def test_no_database_no_areas():
    assert find_saved_area(None, NAME) is None
    assert saved_area_names(None) == []
    assert saved_areas_revision(None) == ""


def test_reading_creates_no_file(db, tmp_path):
    assert find_saved_area(db, NAME) is None and saved_area_names(db) == []
    assert not (tmp_path / "reports.sqlite").exists()


def test_saved_area_round_trip_and_codes_by_vintage(db, tmp_path):
    _save(db)
    assert (tmp_path / "reports.sqlite").exists()
    a = find_saved_area(db, NAME)
    assert isinstance(a, SavedArea) and a.name == NAME and a.vintage == 2009 and a.who == "test"
    assert a.codes(2009) == ("0101", "0303") and a.codes(2025) == ("01", "02")
    assert saved_area_names(db) == [NAME]
    with pytest.raises(ValueError):
        a.codes(2019)


@pytest.mark.parametrize(
    "asked", ["khu vuc giap ranh si ma cai", "KHU VỰC GIÁP RANH SI MA CAI - BẮC HÀ - XÍN MẦN", f"  {NAME}  "]
)
def test_name_matching_without_case_diacritics_or_punctuation(db, asked):
    _save(db)
    assert find_saved_area(db, asked).name == NAME


def test_an_ambiguous_or_partial_word_name_finds_nothing(db):
    _save(db)
    _save(db, "khu vực giáp ranh Si Ma Cai – Mường Khương")
    assert find_saved_area(db, "khu vuc giap ranh si ma cai") is None  # two areas begin so
    assert find_saved_area(db, "khu vuc giap ranh si ma c") is None  # not a whole word
    assert find_saved_area(db, "khu vuc giap ranh si ma cai muong khuong").name.endswith("Mường Khương")


def test_revision_changes_on_save_replace_and_delete(db):
    seen = [saved_areas_revision(db)]
    _save(db)
    seen.append(saved_areas_revision(db))
    with pytest.raises(InvalidParameter, match="saved already"):
        _save(db)
    assert saved_areas_revision(db) == seen[-1]
    _save(db, replace=True, codes=("0101",))
    seen.append(saved_areas_revision(db))
    assert find_saved_area(db, NAME).codes(2009) == ("0101",)
    assert delete_saved_area(db, NAME)
    seen.append(saved_areas_revision(db))
    assert find_saved_area(db, NAME) is None
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("bad", ["", "   ", "a:b", "x" * 121])
def test_bad_names_are_refused(db, bad):
    with pytest.raises(InvalidParameter):
        _save(db, bad)
