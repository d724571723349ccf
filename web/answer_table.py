"""The table, figures, parameters and notes of an answer page."""

from __future__ import annotations

from web.answer_words import (
    _NAME,
    COLUMNS,
    KINDS,
    PROFILE_FIGURES,
    TEXT,
    _kind_word,
    _sort_value,
    cell,
    kind_of,
    number,
    unit_name,
)

# --------------------------------------------------------------------------- the table


def row_id(feature: dict) -> str:
    """The id a table row carries: the feature's own id, empty when it has none."""
    fid = feature.get("id")
    return "" if fid is None else str(fid)


def table(fc: dict, lang: str) -> tuple[list[dict], list[dict]]:
    """(columns, rows) of the answer: one row per feature, in the answer's order."""
    question = (fc.get("query") or {}).get("question", "")
    feats = fc.get("features") or []
    present = {k for f in feats for k, v in (f.get("properties") or {}).items() if v is not None}
    spec = [c for c in COLUMNS.get(question, (_NAME,)) if c[0] in present]
    seen, cols = set(), []
    for key, vi, en in spec:
        label = vi if lang == "vi" else en
        if label in seen:  # dem_m / dem: one of the two
            continue
        seen.add(label)
        numeric = all(
            _sort_value(f["properties"].get(key)) is not None for f in feats if f["properties"].get(key) is not None
        )
        cols.append({"key": key, "label": label, "numeric": numeric and key not in ("coord_minute_grid",)})
    has_id = any(f.get("id") is not None for f in feats)
    rows = []
    for i, f in enumerate(feats):
        p = f.get("properties") or {}
        kind = kind_of(fc, f)
        cells = []
        for c in cols:
            v = p.get(c["key"])
            sv = _sort_value(v)
            cells.append(
                {"text": cell(c["key"], v, lang), "sort": "" if sv is None else repr(sv), "numeric": c["numeric"]}
            )
        rows.append(
            {
                "k": str(i),
                "id": row_id(f),
                "kind": kind,
                "colour": KINDS.get(kind, ("", "", "#555555"))[2],
                "has_geometry": f.get("geometry") is not None,
                "cells": cells,
            }
        )
    if has_id:
        cols.insert(0, {"key": "id", "label": "Mã" if lang == "vi" else "Id", "numeric": False})
        for r in rows:
            r["cells"].insert(0, {"text": r["id"], "sort": "", "numeric": False})
    return cols, rows


def figures(fc: dict, lang: str) -> list[tuple[str, str]]:
    """The answer's own figures (beside the features): totals, what was left out, a profile's commune."""
    t = TEXT[lang]
    q = fc.get("query") or {}
    out: list[tuple[str, str]] = []
    n, m = fc.get("numberReturned"), fc.get("numberMatched")
    if n is not None:
        val = number(n, lang) if m in (None, n) else f"{number(n, lang)} ({t['matched']}: {number(m, lang)})"
        out.append((t["features"].capitalize(), val))
    if fc.get("shared_length_km") is not None:
        out.append((t["shared_total"], f"{number(fc['shared_length_km'], lang)} km"))
    short = fc.get("excluded_short_contacts")
    if short:
        names = ", ".join(f"{s.get('name')} ({number(s.get('shared_length_km', 0), lang)} km)" for s in short)
        out.append((t["short_contacts"].format(km=number(q.get("min_shared_km", 0.5), lang)), names))
    for key in (
        "settlements_considered",
        "roadless_settlements",
        "roadless_outside_communes",
        "gates_without_location",
    ):
        if fc.get(key) is not None:
            out.append((t[key], number(fc[key], lang)))
    if isinstance(fc.get("counts"), dict):
        out.append(
            (
                t["by_kind"],
                ", ".join(f"{_kind_word(k.rstrip('s'), lang)}: {number(v, lang)}" for k, v in fc["counts"].items()),
            )
        )
    if q.get("question") == "commune-profile" and fc.get("features"):
        p = fc["features"][0].get("properties") or {}
        for key, vi, en in PROFILE_FIGURES:
            if p.get(key) is not None:
                out.append((vi if lang == "vi" else en, cell(key, p[key], lang)))
        for ind in (p.get("indicators") or {}).values():
            if not isinstance(ind, dict) or ind.get("value") is None:
                continue
            name = ind.get("title") if lang == "vi" else ind.get("title_en") or ind.get("title")
            unit = ind.get("unit") if lang == "vi" else ind.get("unit_en") or ind.get("unit")
            out.append((f"{name} ({ind.get('year')})", f"{number(ind['value'], lang)} {unit or ''}".strip()))
    return out


def parameters(fc: dict, lang: str) -> list[tuple[str, str]]:
    """The question as resolved (`query`), parameter by parameter."""
    out = []
    for k, v in (fc.get("query") or {}).items():
        if k == "question":
            continue
        if isinstance(v, dict) and ("name" in v or "code" in v):
            text = unit_name(v, lang)
            if v.get("code") and str(v["code"]) != text:
                text = f"{text} ({v['code']})"
        elif isinstance(v, dict):
            text = ", ".join(f"{a}: {b}" for a, b in v.items() if b is not None)
        elif isinstance(v, list):
            text = ", ".join(str(x) for x in v)
        elif v is None:
            text = "—"
        elif isinstance(v, float) and not isinstance(v, bool):
            text = number(v, lang)
        else:
            text = str(v)
        out.append((k, text))
    return out


def _sentences(d, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.extend(_sentences(v, f"{prefix}{k}."))
        elif isinstance(v, list):
            out.append(f"{prefix}{k}: {', '.join(str(x) for x in v)}")
        elif v is not None and k != "source_sha256":
            out.append(f"{prefix}{k}: {v}")
    return out


def notes(fc: dict) -> list[dict]:
    """The answer's caveats (roadless questions, border zone), part by part, as the library says them."""
    cav = fc.get("caveats")
    if not isinstance(cav, dict):
        return []
    return [{"part": part, "lines": _sentences(v) if isinstance(v, dict) else [str(v)]} for part, v in cav.items()]
