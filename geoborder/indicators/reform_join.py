"""Values keyed by 2009 census code shown on 2025 communes, through the links of
geoborder.indicators.reform (a reform.Links: units, codes, crosswalk)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

# indicator types whose values are whole numbers (counts, 0/1)
WHOLE_TYPES = ("count", "boolean")


def to_2025(values: pd.Series, indicator, links, store) -> pd.DataFrame:
    """Values keyed by 2009 census code shown on 2025 communes with the indicator's aggregation.

    Returns one row per 2025 commune that receives at least one value, indexed by commune_code:
    value, n_sources, sources (census codes), partial (a source was split by the reform),
    partial_sources, missing_sources (linked units of the commune without a value),
    complete (no partial or missing source, and every 2024 code of the commune is linked).
    A sum is never split: a 2025 commune with a partly merged source gets value None (flagged).
    Weighted means use the 2009 population (weight = population) or area of the sources.
    """
    c09 = store.frame("communes_2009").set_index("commune_code")
    values = pd.to_numeric(values, errors="coerce").dropna()
    units = links.units[links.units["status"].isin(["code", "group"])]
    contrib = defaultdict(list)
    members = defaultdict(list)
    for u, r in units.iterrows():
        for new in r["targets"]:
            members[new].append(u)
            if u in values.index:
                contrib[new].append((u, float(values[u]), bool(r["partly"])))
    unlinked_codes = set(links.codes.index[links.codes["status"] == "unlinked"])
    codes_of_new = links.crosswalk.groupby("new")["old"].agg(set).to_dict()
    if indicator.weight == "area":
        weights = c09["area_ha"].astype(float)
    else:
        weights = c09["population"].astype(float)
    rows = []
    for new, items in contrib.items():
        srcs = [u for u, _, _ in items]
        part = [u for u, _, p in items if p]
        vals = np.array([v for _, v, _ in items])
        missing = sorted(set(members[new]) - set(srcs))
        agg = indicator.aggregation
        value = None
        if agg == "sum":
            value = None if part else float(vals.sum())
        elif agg == "weighted_mean":
            w = weights.reindex(srcs).to_numpy(dtype=float)
            if np.isfinite(w).all() and w.sum() > 0:
                value = float((vals * w).sum() / w.sum())
        elif agg in ("max", "any"):
            value = float(vals.max())
        elif agg in ("min", "all"):
            value = float(vals.min())
        if value is not None and indicator.type in WHOLE_TYPES and float(value).is_integer():
            value = int(value)  # a count stays a whole number (JSON 204, not 204.0)
        no_unit = sorted(codes_of_new.get(new, set()) & unlinked_codes)
        rows.append(
            {
                "commune_code": new,
                "value": value,
                "n_sources": len(srcs),
                "sources": srcs,
                "partial": bool(part),
                "partial_sources": part,
                "missing_sources": missing,
                "unlinked_2024_codes": no_unit,
                "complete": not part and not missing and not no_unit,
            }
        )
    cols = [
        "value",
        "n_sources",
        "sources",
        "partial",
        "partial_sources",
        "missing_sources",
        "unlinked_2024_codes",
        "complete",
    ]
    if not rows:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="commune_code"))
    out = pd.DataFrame(rows).set_index("commune_code")[cols].sort_index()
    # object column: whole counts stay ints, a missing value stays None (not a float NaN)
    out["value"] = pd.Series([r["value"] for r in rows], index=[r["commune_code"] for r in rows], dtype=object)
    return out
