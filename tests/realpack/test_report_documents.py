"""Issue 17: the border-area report of Sơn La over 2017–2025 on the real store, from a clearly
made-up series (tests/fixtures/indicators_madeup_sonla_review_*.csv: the 17 pre-2025 border
communes for 2017–2024, 2020 left out; the 13 border communes of 2025 units for 2025). Every figure
of the report is checked against an independent pandas computation from the CSV files and the
store's own layers; the PDF is rendered (pdftoppm) and read (pdftotext), the XLSX opened."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from testenv import IN_CI

from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.importing import import_file
from geoborder.reports.areas import resolve_area
from geoborder.reports.figures import build_report, public

FIX = Path(__file__).parent.parent / "fixtures"
PRE = FIX / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
NEW = FIX / "indicators_madeup_sonla_review_2025.csv"
INDS = ["poor_households", "poverty_rate", "new_rural_criteria_met", "road_to_centre_hardened"]
OUT = Path(__file__).parents[2] / "test-output"


@pytest.fixture(scope="module")
def made(real_store, tmp_path_factory):
    db = IndicatorDB(tmp_path_factory.mktemp("rep") / "indicators.sqlite")
    import_file(real_store, db, PRE.read_bytes(), PRE.name, vintage=2009)
    import_file(real_store, db, NEW.read_bytes(), NEW.name, vintage=2025)
    area = resolve_area(real_store, "border:Sơn La")
    rep = build_report(
        real_store, db, area, INDS, 2017, 2025, thresholds=["new_rural_criteria_met>=10", "road_to_centre_hardened=yes"]
    )
    return db, area, rep


def _csv(path):
    d = pd.read_csv(path, dtype={"commune_code": str})
    d["road_to_centre_hardened"] = (d["road_to_centre_hardened"] == "có").astype(float)
    return d


def test_the_area_is_the_17_and_the_13_border_communes(made, real_store):
    _, area, rep = made
    b9, b5 = real_store.frame("border_communes_2009"), real_store.frame("border_communes_2025")
    assert (
        set(area.codes[2009]) == set(b9.loc[b9.province_code == "303", "commune_code"]) and len(area.codes[2009]) == 17
    )
    assert (
        set(area.codes[2025]) == set(b5.loc[b5.province_code == "14", "commune_code"]) and len(area.codes[2025]) == 13
    )
    assert rep["vintage"] == 2025


def test_every_figure_equals_an_independent_pandas_computation(made, real_store):
    _, _, rep = made
    pre, new = _csv(PRE), _csv(NEW)
    pop09 = real_store.frame("communes_2009").set_index("commune_code")["population"].astype(float)
    pop25 = real_store.frame("communes_2025").set_index("commune_code")["population"].astype(float)
    figs = {f["name"]: f for f in public(rep)["indicators"]}

    def expected(name, year):
        d, pop = (new, pop25) if year == 2025 else (pre, pop09)
        d = d[d.year == year]
        if d.empty:
            return None
        v = d.set_index("commune_code")[name]
        if name == "poor_households":
            return v.sum()
        if name == "poverty_rate":
            w = pop.reindex(v.index)
            return (v * w).sum() / w.sum()
        if name == "new_rural_criteria_met":
            return v.min()
        return (v == 1).mean() * 100  # road: the share of communes with yes

    for name in INDS:
        f = figs[name]
        key = "share_yes_percent" if name == "road_to_centre_hardened" else "value"
        for s in f["series"]:
            want = expected(name, s["year"])
            if want is None:
                assert s["value"] is None and s["year"] in f["years_without_data"]
            else:
                assert s[key] == pytest.approx(want), (name, s["year"])
        assert f["years_without_data"] == [2020]
        first, last = expected(name, 2017), expected(name, 2025)
        c = f["change"]
        assert (c["from_year"], c["to_year"]) == (2017, 2025)
        assert c["absolute"] == pytest.approx(last - first)
        assert c["percent"] == pytest.approx((last - first) / first * 100)
        assert c["annual_rate_percent"] == pytest.approx(((last / first) ** (1 / 8) - 1) * 100)

    # thresholds: counted on the units the values were reported on
    th = {t["op"]: t for t in figs["new_rural_criteria_met"]["thresholds"]}[">="]
    for y in th["years"]:
        d = new if y["year"] == 2025 else pre
        d = d[d.year == y["year"]]
        if d.empty:
            assert y["n_meet"] is None
            continue
        meet = set(d.loc[d.new_rural_criteria_met >= 10, "commune_code"])
        assert y["n_meet"] == len(meet) and {c["commune_code"] for c in y["meet"]} == meet
        assert y["n_with_value"] == len(d) == (13 if y["year"] == 2025 else 17)
        assert y["share_percent"] == pytest.approx(len(meet) / len(d) * 100)
    road = figs["road_to_centre_hardened"]["thresholds"][0]["years"]
    assert road[-1]["n_meet"] == int((new.road_to_centre_hardened == 1).sum())


def test_the_reform_join_names_the_communes_not_carried_exactly(made, real_store):
    from geoborder.indicators.reform import links_for

    _, area, rep = made
    units = links_for(real_store).units
    pre = _csv(PRE)
    have = set(pre.commune_code)
    # independently: each 2025 commune of the area, the pre-2025 units linked into it, those without a value
    missing = {}
    for c in area.codes[2025]:
        members = [
            u
            for u, ts in units["targets"].items()
            if isinstance(ts, list) and c in ts and units.at[u, "status"] in ("code", "group")
        ]
        lacking = sorted(set(members) - have)
        if lacking:
            missing[c] = lacking
    partly = sorted(u for u in have if u in units.index and bool(units.at[u, "partly"]))
    f = public(rep)["indicators"][0]
    assert {
        e["commune_code"]: sorted(m["commune_code"] for m in e["missing"]) for e in f["reform"]["incomplete"]
    } == missing
    assert sorted(p["commune_code"] for p in f["reform"]["partly_merged"]) == partly
    assert f["reform"]["years_carried"] == [2017, 2018, 2019, 2021, 2022, 2023, 2024]
    # only the communes carried exactly are ranked; the others are named as not comparable
    ranked = {r["commune_code"] for r in f["improved_most"] + f["improved_least"]}
    assert ranked.isdisjoint(missing) and {c["commune_code"] for c in f["not_comparable"]} == set(missing)
    first = pre[pre.year == 2017].set_index("commune_code")["poor_households"]
    last = _csv(NEW).set_index("commune_code")["poor_households"]
    for r in f["improved_most"]:
        srcs = [u for u, ts in units["targets"].items() if isinstance(ts, list) and r["commune_code"] in ts]
        assert r["first"] == first.reindex(srcs).sum() and r["last"] == last[r["commune_code"]]


@pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI, reason="poppler-utils not installed (under CI: a failure)"
)
def test_pdf_renders_and_reads_and_xlsx_has_the_same_numbers(made, real_store, tmp_path):
    from geoborder.reports.pdf import write_pdf
    from geoborder.reports.xlsx import write_xlsx

    _, _, rep = made
    pdf = tmp_path / "son_la_2017_2025.pdf"
    pdf.write_bytes(write_pdf(real_store, rep, "vi"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Báo cáo khu vực biên giới" in text and "Các xã biên giới tỉnh Sơn La" in text and "2017–2025" in text
    f = public(rep)["indicators"][0]
    total_2017 = f"{int(f['series'][0]['value']):,}".replace(",", ".")
    assert total_2017 in text and "không có số liệu" in text and PRE.name[:40] in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 1 + len(INDS)
    OUT.mkdir(exist_ok=True)
    shutil.copy(pages[2], OUT / "report_son_la_2017_2025_page3.png")
    wb = openpyxl.load_workbook(io.BytesIO(write_xlsx(rep, "vi")))
    rows = list(wb["series"].iter_rows(min_row=2, values_only=True))
    got = {(r[0], r[1]): r[2] for r in rows}
    for fig in public(rep)["indicators"]:
        key = "share_yes_percent" if fig["type"] == "boolean" else "value"
        for s in fig["series"]:
            assert got[(fig["name"], s["year"])] == (pytest.approx(s[key]) if s.get(key) is not None else None)
    assert {"summary", "thresholds", "reform", "imports", "targets"} <= set(wb.sheetnames)
