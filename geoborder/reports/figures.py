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

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.indicators import reform as indicator_reform
from geoborder.indicators.catalog import IndicatorCatalog, load_indicators
from geoborder.reports.areas import ReportArea
from geoborder.reports.crossings import crossings_section
from geoborder.reports.targets import evaluate_targets
from geoborder.reports.thresholds import Threshold, parse_threshold

COMBINE = ("sum", "weighted_mean", "max", "min", "any", "all")
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_INDICATORS = 12
N_RANKED = 3  # communes listed as improved most / least
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


def _weights(store, vintage: int, kind: str | None) -> pd.Series:
    c = store.frame(f"communes_{vintage}")
    idx = c["commune_code"].astype(str).to_numpy()
    if kind == "area":
        w = c["area_km2"] if vintage == 2025 else pd.to_numeric(c["area_ha"], errors="coerce") / 100.0
    else:
        w = c["population"]
    return pd.Series(pd.to_numeric(w, errors="coerce").astype(float).to_numpy(), index=idx)


def _names(store, vintage: int) -> pd.Series:
    c = store.frame(f"communes_{vintage}")
    return pd.Series(c["name"].astype(str).to_numpy(), index=c["commune_code"].astype(str).to_numpy())


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


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


@dataclass
class _Year:
    """One year of one indicator: the values on the report's units and on the reported units."""

    year: int
    units: int | None  # the vintage the values were reported on; None: no value
    per: pd.Series  # on the report's communes (NaN: no value)
    weights: pd.Series  # on the report's communes
    reported: pd.Series  # on the area's communes of `units`
    versions: pd.Series  # import id of each reported value (area's communes of `units`)
    carried: pd.DataFrame | None = None  # reform_join.to_2025 rows of the report's communes


class _Context:
    def __init__(self, store, db, area: ReportArea, vintage: int):
        self.store, self.db, self.area, self.vintage = store, db, area, vintage
        self.codes = {v: pd.Index(area.codes[v], name="commune_code") for v in (2009, 2025)}
        self.names = {v: _names(store, v) for v in (2009, 2025)}
        self._links = None
        self._area_links = None
        self._available: dict[int, dict] = {}

    def available(self, vintage: int) -> dict[str, list[int]]:
        if vintage not in self._available:
            self._available[vintage] = self.db.available(vintage)
        return self._available[vintage]

    @property
    def links(self):
        if self._links is None:
            self._links = indicator_reform.links_for(self.store)
        return self._links

    @property
    def area_links(self):
        """The links of the units that went into the area's 2025 communes only: to_2025 over
        them gives the same rows for those communes, without walking every unit of the country."""
        if self._area_links is None:
            links, want = self.links, set(self.codes[2025])
            hit = links.units["targets"].map(lambda ts: bool(set(ts) & want) if isinstance(ts, list) else False)
            xw = links.crosswalk[links.crosswalk["new"].isin(want)]
            self._area_links = dataclasses.replace(links, units=links.units[hit], crosswalk=xw)
        return self._area_links

    def year(self, ind, year: int) -> _Year:
        V = self.vintage
        on25 = V == 2025 and year in self.available(2025).get(ind.name, [])
        on09 = year in self.available(2009).get(ind.name, [])
        nan = pd.Series(np.nan, index=self.codes[V], dtype=float)
        if not on25 and not on09:
            empty = pd.Series(dtype=float)
            return _Year(year, None, nan, nan, empty, empty)
        units = 2025 if on25 else 2009
        cur = self.db.current(ind.name, vintage=units, year=year)
        cur = cur.assign(commune_code=cur["commune_code"].astype(str)).set_index("commune_code")
        values, ids = cur["value"].astype(float), cur["import_id"].astype(int)
        w = _weights(self.store, units, ind.weight)
        reported = values.reindex(self.codes[units])
        versions = ids.reindex(self.codes[units]).dropna().astype(int)
        if units == V:
            return _Year(year, units, reported, w.reindex(self.codes[V]), reported, versions)
        carried = indicator_reform.to_2025(values, ind, self.area_links, self.store).reindex(self.codes[V])
        per = pd.to_numeric(carried["value"], errors="coerce").astype(float)
        cw = pd.Series(
            [
                float(w.reindex(list(s)).sum()) if isinstance(s, list) and s else np.nan
                for s in carried["sources"].tolist()
            ],
            index=self.codes[V],
        )
        src = sorted({u for s in carried["sources"].dropna() for u in s})
        versions = ids.reindex(src).dropna().astype(int)
        return _Year(year, units, per, cw, reported, versions, carried)


def _vintage_for(ctx_db, area: ReportArea, inds, start: int, end: int) -> int:
    avail25 = ctx_db.available(2025)
    if any(start <= y <= end for ind in inds for y in avail25.get(ind.name, [])):
        return 2025
    return area.vintage


def _commune(code: str, names: pd.Series) -> dict:
    return {"commune_code": code, "name": names.get(code)}


def _thresholds(ind, ths, years: list[_Year], ctx: _Context) -> list[dict]:
    out = []
    for th in ths:
        rows: list[dict] = []
        for y in years:
            if y.units is None:
                rows.append({"year": y.year, "units": None, "n_meet": None, "n_with_value": 0, "share_percent": None})
                continue
            r = y.reported
            have = r.dropna()
            meet = [c for c, v in have.items() if th.test(v)]
            rows.append(
                {
                    "year": y.year,
                    "units": y.units,
                    "n_communes": int(len(r)),
                    "n_with_value": int(len(have)),
                    "n_meet": len(meet),
                    "share_percent": len(meet) / len(have) * 100.0 if len(have) else None,
                    "meet": [_commune(c, ctx.names[y.units]) for c in meet],
                    "not_meet": [_commune(c, ctx.names[y.units]) for c in have.index if c not in set(meet)],
                    "no_data": [_commune(c, ctx.names[y.units]) for c in r.index[r.isna()]],
                }
            )
        out.append(
            {
                **th.as_dict(),
                "label_vi": th.label(ind.type == "boolean"),
                "label_en": th.label(ind.type == "boolean", "en"),
                "years": rows,
            }
        )
    return out


def _reform_section(ind, years: list[_Year], ctx: _Context) -> dict:
    carried = [y for y in years if y.carried is not None]
    n09, n25 = ctx.names[2009], ctx.names[2025]
    units = ctx.links.units
    partly: dict[str, dict] = {}
    incomplete: dict[str, dict] = {}
    unlinked: dict[str, dict] = {}
    for y in carried:
        assert y.carried is not None  # a carried year
        for code, r in y.carried.iterrows():
            if not isinstance(r["sources"], list):  # no pre-2025 unit with a value went into it
                continue
            for u in r["partial_sources"]:
                partly.setdefault(
                    u,
                    {
                        "commune_code": u,
                        "name": n09.get(u),
                        "communes_2025": [_commune(t, n25) for t in units.at[u, "targets"]] if u in units.index else [],
                        "years": [],
                    },
                )
                if y.year not in partly[u]["years"]:
                    partly[u]["years"].append(y.year)
            if r["missing_sources"] or r["unlinked_2024_codes"]:
                e = incomplete.setdefault(code, {**_commune(code, n25), "missing": [], "years": []})
                for u in r["missing_sources"]:
                    if u not in [m["commune_code"] for m in e["missing"]]:
                        e["missing"].append(_commune(u, n09))
                e["years"].append(y.year)
            for k in r["unlinked_2024_codes"]:
                unlinked.setdefault(k, {"code_2024": k, "commune_2025": _commune(code, n25)})
        no_value = [c for c in y.per.index[y.per.isna()] if isinstance(y.carried.at[c, "sources"], list)]
        for c in no_value:
            e = incomplete.setdefault(c, {**_commune(c, n25), "missing": [], "years": []})
            e["not_carried"] = True
            if y.year not in e["years"]:
                e["years"].append(y.year)
    unused = [
        _commune(u, n09)
        for u in ctx.codes[2009]
        if u not in units.index or units.at[u, "status"] not in ("code", "group")
    ]
    return {
        "years_carried": [y.year for y in carried],
        "partly_merged": list(partly.values()),
        "incomplete": list(incomplete.values()),
        "unlinked_2024_codes": list(unlinked.values()),
        "unlinked_units": unused if carried else [],
    }


def _ranked(ind, years: list[_Year], fy: int | None, ly: int | None, ctx: _Context) -> dict:
    if fy is None or ly is None or fy == ly:
        return {"improved_most": [], "improved_least": [], "not_comparable": []}
    by = {y.year: y for y in years}
    a, b = by[fy], by[ly]

    def exact(y: _Year, code: str) -> bool:
        if y.carried is None:
            return True
        r = y.carried.loc[code]
        return bool(r["complete"]) if isinstance(r["sources"], list) else False

    rows, skipped = [], []
    names = ctx.names[ctx.vintage]
    for code in ctx.codes[ctx.vintage]:
        va, vb = _num(a.per.get(code)), _num(b.per.get(code))
        if va is None or vb is None or not exact(a, code) or not exact(b, code):
            skipped.append(_commune(code, names))
            continue
        diff = vb - va
        sign = -1.0 if ind.higher_is_better is False else 1.0
        rows.append({**_commune(code, names), "first": va, "last": vb, "change": diff, "improvement": sign * diff})
    rows.sort(key=lambda r: (-r["improvement"], r["commune_code"]))
    n = min(N_RANKED, len(rows) // 2 if len(rows) > 1 else len(rows))
    return {
        "improved_most": rows[:n],
        "improved_least": list(reversed(rows[-n:])) if n else [],
        "not_comparable": skipped,
        "n_compared": len(rows),
    }


def _map(y: _Year | None, ctx: _Context) -> dict | None:
    if y is None or y.units is None:
        return None
    return {"year": y.year, "units": y.units, "values": {c: _num(v) for c, v in y.reported.items()}}


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
