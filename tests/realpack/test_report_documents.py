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


def _madeup_target(indicator, year, op, value, line):
    """A target row as the reports database gives it; its value is made up (from the made-up series)."""
    return {
        "indicator": indicator,
        "area": "border:Sơn La",
        "year": year,
        "op": op,
        "value": value,
        "line": line,
        "import_id": 1,
        "file_name": "targets_madeup.csv",
        "imported_at": "2026-12-01T00:00:00+00:00",
    }


def test_targets_after_the_last_year_are_judged_on_the_trend(made, real_store, tmp_path):
    """A 2017–2023 report: targets for 2025 are on / off track by the projection at the average
    annual rate (checked against pandas), a target of a year with data is met / not met, a year
    inside the period without data has no data, and a one-year series is too short to project."""
    db, area, _ = made
    pre = _csv(PRE)
    pop = real_store.frame("communes_2009").set_index("commune_code")["population"].astype(float)
    by_year = pre.set_index("commune_code").groupby("year")
    poor = by_year["poor_households"].sum()
    rate_w = pre.assign(w=pre.commune_code.map(pop))
    rate = (rate_w.poverty_rate * rate_w.w).groupby(rate_w.year).sum() / rate_w.w.groupby(rate_w.year).sum()

    def project(s, year):  # the last value carried forward at the compound average annual rate
        s = s.loc[2017:2023].dropna()
        r = (s.iloc[-1] / s.iloc[0]) ** (1 / (s.index[-1] - s.index[0])) - 1
        return s.iloc[-1] * (1 + r) ** (year - s.index[-1]), r * 100

    p_rate, r_rate = project(rate, 2025)
    p_poor, r_poor = project(poor, 2025)
    targets = [
        _madeup_target("poverty_rate", 2025, "<=", round(p_rate * 1.05, 2), 2),  # above the projection
        _madeup_target("poor_households", 2025, "<=", round(p_poor * 0.95), 3),  # below it
        _madeup_target("poor_households", 2019, "<=", float(poor[2019]), 4),  # a year with data
        _madeup_target("poor_households", 2020, "<=", 1.0, 5),  # inside the period, no data
    ]
    rep = build_report(real_store, db, area, ["poor_households", "poverty_rate"], 2017, 2023, targets=targets)
    got = {(t["indicator"], t["year"]): t for t in rep["targets"]}
    t = got[("poverty_rate", 2025)]
    assert t["status"] == ("on_track" if p_rate <= t["value"] else "off_track") and t["actual"] is None
    assert t["projection"]["value"] == pytest.approx(p_rate)
    assert t["projection"]["annual_rate_percent"] == pytest.approx(r_rate)
    assert (t["projection"]["from_year"], t["projection"]["to_year"]) == (2017, 2023)
    assert "average annual rate of 2017–2023" in t["basis_en"] and "tốc độ bình quân năm 2017–2023" in t["basis_vi"]
    t = got[("poor_households", 2025)]
    assert t["status"] == ("on_track" if p_poor <= t["value"] else "off_track")
    assert t["projection"]["value"] == pytest.approx(p_poor)
    assert {got[("poverty_rate", 2025)]["status"], t["status"]} == {"on_track", "off_track"}
    t = got[("poor_households", 2019)]
    assert t["status"] == "met" and t["actual"] == pytest.approx(poor[2019]) and t["projection"] is None
    assert got[("poor_households", 2020)]["status"] == "no_data"
    # one year with data: too short to project, said so
    short = build_report(
        real_store,
        db,
        area,
        ["poor_households"],
        2023,
        2023,
        targets=[_madeup_target("poor_households", 2025, "<=", 1, 2)],
    )
    (t,) = short["targets"]
    assert t["status"] == "no_data" and "too short" in t["basis_en"] and "quá ngắn" in t["basis_vi"]
    # the PDF says it in words, whole (the cells wrap)
    from geoborder.reports.pdf import write_pdf

    pdf = tmp_path / "son_la_2017_2023_targets.pdf"
    pdf.write_bytes(write_pdf(real_store, rep, "en"))
    if shutil.which("pdftotext") is None and not IN_CI:
        pytest.skip("poppler-utils not installed")
    words = " ".join(_pdf_text(pdf).split())
    for t in rep["targets"]:
        assert " ".join(t["basis_en"].split()) in words
    assert "on track" in words and "off track" in words


def _pdf_text(pdf: Path) -> str:
    """The PDF's text in the order it is drawn (a wrapped cell's lines one after the other)."""
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI, reason="poppler-utils not installed (under CI: a failure)"
)
def test_pdf_table_cells_wrap_long_names_whole(made, real_store, tmp_path):
    """The communes below a threshold, a long list of names, and the import's file name appear
    whole in the PDF (they used to be cut with an ellipsis)."""
    from geoborder.reports.pdf import write_pdf

    _, _, rep = made
    pdf = tmp_path / "son_la_2017_2025.pdf"
    pdf.write_bytes(write_pdf(real_store, rep, "vi"))
    words = " ".join(_pdf_text(pdf).split())
    lists = [
        ", ".join(c["name"] for c in y["not_meet"])
        for f in rep["indicators"]
        for t in f["thresholds"]
        for y in t["years"]
        if y["units"] is not None and y["not_meet"]
    ]
    assert max(len(s) for s in lists) > 60  # long enough to have been cut before
    for s in lists:
        assert s in words, s
    assert PRE.name in words.replace(" ", "") and "…" not in words
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "3", str(pdf), str(tmp_path / "w")], check=True)
    OUT.mkdir(exist_ok=True)
    for page in sorted(tmp_path.glob("w-*.png")):
        shutil.copy(page, OUT / f"report_wrapped_{page.name}")
