"""The figures of a border-area report: for each indicator, the yearly series over the area, the
change over the period, thresholds, the communes that improved most and least, the join across
the 2025 reform and the imports every number came from. A plain dict (JSON-ready), which the
HTML page, the PDF, the workbook and the API all show.

The report is on one vintage of units, `vintage`: 2025 when the period has values on 2025 units
for any chosen indicator, else the vintage the area was given on. A year whose values are on
pre-2025 units is carried onto 2025 communes through the crosswalk (reform_join.to_2025, the
join the maps use): a sum over a partly merged unit is not split (the commune is left without a
value and named), a 2025 commune some of whose pre-2025 units have no value is named as
incomplete. The area's figure of such a year is combined from the carried values; a mean is
weighted by the 2009 population (or area) of the units that carried a value, so it equals the
mean over those units. Thresholds are counted on the units the values were reported on (the 17
pre-2025 border communes of Sơn La in 2023, its 13 communes of 2025 units in 2025). A year
without values is listed as such and never filled in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.indicators.catalog import IndicatorCatalog, load_indicators
from geoborder.reports.areas import ReportArea
from geoborder.reports.crossings import crossings_section
from geoborder.reports.figures_sections import _map, _ranked, _reform_section, _thresholds
from geoborder.reports.figures_years import _commune, _Context, _num, _vintage_for, _Year
from geoborder.reports.targets import evaluate_targets
from geoborder.reports.thresholds import Threshold, parse_threshold

COMBINE = ("sum", "weighted_mean", "max", "min", "any", "all")
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_INDICATORS = 12
# --------------------------------------------------------------------------- checks


def check_period(start: int, end: int) -> tuple[int, int]:
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise InvalidParameter("from / to must be years") from None
    for y in (start, end):
        if not MIN_YEAR <= y <= MAX_YEAR:
            raise InvalidParameter(f"year {y} is outside {MIN_YEAR}–{MAX_YEAR}")
    if start > end:
        raise InvalidParameter(f"the period runs backwards: from {start} to {end}")
    return start, end


def check_indicators(names, catalog: IndicatorCatalog):
    names = [n for n in dict.fromkeys(str(n).strip() for n in names) if n]
    if not names:
        raise InvalidParameter(
            f"give at least one indicator; reported indicators: {', '.join(i.name for i in catalog.reported)}"
        )
    if len(names) > MAX_INDICATORS:
        raise InvalidParameter(f"at most {MAX_INDICATORS} indicators in one report")
    inds = [catalog.get(n) for n in names]
    for ind in inds:
        if ind.source != "reported":
            raise InvalidParameter(
                f"{ind.name} is computed from the store's layers for their own year: it has no yearly series; "
                f"reports take reported indicators ({', '.join(i.name for i in catalog.reported)})"
            )
        if ind.aggregation not in COMBINE:
            raise InvalidParameter(
                f"{ind.name}: its aggregation {ind.aggregation!r} cannot be combined over an area "
                f"(reports combine {', '.join(COMBINE)})"
            )
    return inds


# --------------------------------------------------------------------------- the pieces


def combine(ind, values: pd.Series, weights: pd.Series | None = None) -> dict:
    """The area's figure of one year from the communes' values (NaN/None: no value) by the
    indicator's rule. A weighted mean needs a positive weight for every commune with a value."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    out: dict = {"value": None, "n_with_value": int(len(v)), "n_communes": int(len(values))}
    if v.empty:
        return out
    agg = ind.aggregation
    if agg == "sum":
        out["value"] = float(v.sum())
    elif agg == "weighted_mean":
        w = (weights if weights is not None else pd.Series(dtype=float)).reindex(v.index)
        bad = [str(c) for c in w.index[~(np.isfinite(w.to_numpy(dtype=float)) & (w.to_numpy(dtype=float) > 0))]]
        if bad:
            raise InvalidParameter(
                f"{ind.name} is a mean weighted by {ind.weight}: the {ind.weight} of commune(s) "
                f"{', '.join(bad[:10])} is unknown, so it cannot be combined over this area"
            )
        out["value"] = float((v * w).sum() / w.sum())
    elif agg == "max":
        out["value"] = float(v.max())
    elif agg == "min":
        out["value"] = float(v.min())
    elif agg in ("any", "all"):
        out["value"] = float(v.max() if agg == "any" else v.min())
    if ind.type == "boolean":
        out["share_yes_percent"] = float((v == 1).mean() * 100.0)
        out["n_yes"] = int((v == 1).sum())
    return out


def change(first: float | None, last: float | None, years: int) -> dict:
    """Absolute change, % change and the average annual rate (%/year, compound) over `years`."""
    out: dict[str, float | None] = {"absolute": None, "percent": None, "annual_rate_percent": None}
    if first is None or last is None:
        return out
    out["absolute"] = last - first
    if first != 0:
        out["percent"] = (last - first) / abs(first) * 100.0
    if years > 0 and first > 0 and last >= 0:
        out["annual_rate_percent"] = ((last / first) ** (1.0 / years) - 1.0) * 100.0
    return out


def indicator_figures(ind, ctx: _Context, start: int, end: int, ths) -> dict:
    years = [ctx.year(ind, y) for y in range(start, end + 1)]
    series = []
    for y in years:
        fig = (
            combine(ind, y.per, y.weights)
            if y.units is not None
            else {"value": None, "n_with_value": 0, "n_communes": len(y.per)}
        )
        if ind.type == "boolean" and y.units is not None:
            # the share of communes with yes: on the units the values were reported on (17 pre-2025
            # communes in 2023, 13 communes of 2025), as the thresholds are counted
            r = y.reported.dropna()
            fig["share_yes_percent"] = float((r == 1).mean() * 100.0) if len(r) else None
            fig["n_yes"] = int((r == 1).sum())
        series.append(
            {
                "year": y.year,
                "units": y.units,
                "carried": y.carried is not None,
                **fig,
                "versions": sorted({int(v) for v in y.versions}),
            }
        )
    with_value = [s for s in series if s["value"] is not None]
    fy = with_value[0]["year"] if with_value else None
    ly = with_value[-1]["year"] if with_value else None
    key = "share_yes_percent" if ind.type == "boolean" else "value"
    first = with_value[0].get(key) if with_value else None
    last = with_value[-1].get(key) if with_value else None
    ch = {
        "from_year": fy,
        "to_year": ly,
        "of": key,
        "first": first,
        "last": last,
        **change(first, last, (ly or 0) - (fy or 0)),
    }
    if with_value:
        a, b = with_value[0], with_value[-1]
        ch["like_for_like"] = (
            a["n_with_value"] == a["n_communes"] and b["n_with_value"] == b["n_communes"] and a["units"] == b["units"]
        )
    by: dict[int | None, _Year] = {y.year: y for y in years}
    communes = []
    for code in ctx.codes[ctx.vintage]:
        communes.append(
            {**_commune(code, ctx.names[ctx.vintage]), "values": {str(y.year): _num(y.per.get(code)) for y in years}}
        )
    return {
        **ind.describe("vi"),
        "unit_vi": ind.unit_vi,
        "unit_en": ind.unit_en,
        "series": series,
        "years_without_data": [s["year"] for s in series if s["value"] is None],
        "change": ch,
        "thresholds": _thresholds(ind, [t for t in ths if t.indicator == ind.name], years, ctx),
        **_ranked(ind, years, fy, ly, ctx),
        "reform": _reform_section(ind, years, ctx),
        "communes": communes,
        "maps": {"first": _map(by.get(fy), ctx), "last": _map(by.get(ly), ctx)},
        "_years": years,
    }


def build_report(
    store,
    db,
    area: ReportArea,
    names,
    start: int,
    end: int,
    *,
    thresholds=(),
    targets=(),
    crossings=None,
    catalog: IndicatorCatalog | None = None,
) -> dict:
    """The report of `area` over `start`–`end` for the indicators `names` (see the module)."""
    catalog = catalog or load_indicators()
    start, end = check_period(start, end)
    if db is None:
        raise InvalidParameter("a report needs the indicator database (its imported tables)")
    inds = check_indicators(names, catalog)
    ths = [t if isinstance(t, Threshold) else parse_threshold(t, catalog) for t in thresholds]
    chosen = {i.name for i in inds}
    stray = [t.indicator for t in ths if t.indicator not in chosen]
    if stray:
        raise InvalidParameter(f"threshold on {', '.join(stray)}, which is not among the report's indicators")
    with store.pinned():
        vintage = _vintage_for(db, area, inds, start, end)
        ctx = _Context(store, db, area, vintage)
        figures = [indicator_figures(ind, ctx, start, end, ths) for ind in inds]
    if all(s["value"] is None for f in figures for s in f["series"]):
        raise InvalidParameter(
            f"no values of {', '.join(chosen)} for the communes of {area.title('en')} in {start}–{end}: "
            "import the tables first (geoborder indicators import, POST /indicators/imports)"
        )
    used = sorted({v for f in figures for s in f["series"] for v in s["versions"]})
    imports = []
    for i in used:
        try:
            r = db.get_import(i)
        except NotFound:
            continue
        imports.append(
            {k: r.get(k) for k in ("id", "file_name", "sha256", "imported_at", "who", "vintage")} | {"version": r["id"]}
        )
    report = {
        "area": area.as_dict("vi"),
        "area_title_vi": area.title("vi"),
        "area_title_en": area.title("en"),
        "period": {"from": start, "to": end},
        "vintage": vintage,
        "indicators": figures,
        "imports": imports,
        "targets": evaluate_targets(targets, area, figures),
        "crossings": crossings_section(store, area, start, end, provider=crossings),
    }
    return report


def public(report: dict) -> dict:
    """The report without its working parts (JSON-ready)."""
    out = dict(report)
    out["indicators"] = [{k: v for k, v in f.items() if not k.startswith("_")} for f in report["indicators"]]
    return out
