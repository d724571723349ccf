"""The sections of one indicator in a border-area report (geoborder.reports.figures): the
thresholds, the join across the 2025 reform, the communes that improved most and least, and the
values its maps show."""

from __future__ import annotations

from geoborder.reports.figures_years import _commune, _Context, _num, _Year

N_RANKED = 3  # communes listed as improved most / least


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
