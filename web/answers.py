"""The answer of a spatial question (geoborder.queries) as a page: a Folium map of the
FeatureCollection, its features coloured by role / kind, and a table of the figures.

The router (api/routes/queries.py) computes the same answer as the JSON and hands it here with
the page's URLs; this module makes the template's context (web/templates/answer.html). The map is
drawn from a light copy of each feature (simplified geometry, its row key, name and main
figure), never from the whole properties: the table carries the figures. Leaflet comes from the
app (web/assets.py), so nothing is loaded from the internet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from web.answer_map import map_parts
from web.answer_table import figures, notes, parameters, table
from web.answer_words import TEXT, title_of


@dataclass(frozen=True)
class AnswerUrls:
    """The URLs an answer page links to, made by the router (the library knows no routes)."""

    json: str  # the same answer as JSON (f=json)
    maps: str  # the map pages (/maps)
    other_lang: str  # this page in the other language
    vendor: str  # prefix of the served JS/CSS
    filename: str = "answer.geojson"  # name of the GeoJSON download


# --------------------------------------------------------------------------- the page


def answer_context(store, fc: dict, *, lang: str, urls: AnswerUrls) -> dict:
    """What web/templates/answer.html needs to show one answer."""
    cols, rows = table(fc, lang)
    return {
        "lang": lang,
        "t": TEXT[lang],
        "title": title_of(fc, lang),
        "question": (fc.get("query") or {}).get("question", ""),
        "params": parameters(fc, lang),
        "figures": figures(fc, lang),
        "notes": notes(fc),
        "columns": cols,
        "rows": rows,
        "map": map_parts(store, fc, lang, urls.vendor),
        "urls": urls,
        "error": None,
    }


def _param_of(detail: str, names: tuple[str, ...] = ()) -> str | None:
    """The parameter a message is about: 'k: ...', 'distance_km must be ...' (a parameter of the
    request), 'unknown query parameter(s): x; ...'."""
    m = re.match(r"\s*([a-z_]+):", detail)
    if m:
        return m.group(1)
    m = re.search(r"unknown query parameter\(s\): ([^;]+);", detail)
    if m:
        return m.group(1).split(",")[0].strip()
    m = re.match(r"\s*([a-z_]+)\b", detail)
    return m.group(1) if m and m.group(1) in names else None


def error_context(status: int, detail: str, *, lang: str, urls: AnswerUrls, names: tuple[str, ...] = ()) -> dict:
    """An error of an HTML request: what is wrong in the page's language, the way back, the detail.
    `names`: the request's parameters (a message that starts with one is about it)."""
    t = TEXT[lang]
    param = _param_of(detail, names)
    named = t["param_named"].format(param=param) if param else ""
    if status == 404:
        message, hint = t["error_404"].format(param=named), t["error_hint_404"]
    elif 400 <= status < 500:
        message, hint = t["error_400"].format(param=named), t["error_hint_400"]
    else:
        message, hint = t["error_other"], ""
    return {
        "lang": lang,
        "t": t,
        "title": t["error_title"],
        "urls": urls,
        "error": {"status": status, "message": message, "hint": hint, "detail": detail},
    }
