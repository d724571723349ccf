"""The area a map shows: the whole country, the border provinces, the border communes, one
province or a saved named area (geoborder.indicators.saved_areas: its communes of the map's
vintage), as a mask over the rows of communes_<vintage>."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import slug
from geoborder.indicators.saved_areas import find_saved_area, saved_area_names
from geoborder.maps.classes import LABELS

AREAS = ("all", "border", "border_communes")  # or a province code of the vintage, or a saved area's name


@dataclass(frozen=True)
class Area:
    key: str  # "all", "border", "border_communes", a province code or a saved area's name
    vi: str
    en: str
    mask: np.ndarray = field(repr=False, compare=False)  # over the rows of communes_<vintage>

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


def provinces(store, vintage: int) -> list[tuple[str, str]]:
    """(province code, name) of every province of the vintage, by name."""
    communes = store.frame(f"communes_{vintage}")
    pairs = communes[["province_code", "province_name"]].drop_duplicates().astype(str)
    return sorted(map(tuple, pairs.to_numpy()), key=lambda p: p[1])


def border_province_codes(store, vintage: int) -> set[str]:
    return set(store.frame(f"border_communes_{vintage}")["province_code"].astype(str))


def is_builtin(key: str) -> bool:
    """Whether `key` is a built-in area or looks like a province code (neither reads saved areas)."""
    return key in AREAS or str(key).isdigit()


def area(store, vintage: int, key: str, indicators_db=None) -> Area:
    """The area `key`: a built-in one, a province code of the vintage, else the name of an area
    saved in `indicators_db` (its communes of `vintage`; the title is its name)."""
    communes = store.frame(f"communes_{vintage}")
    prov = communes["province_code"].astype(str).to_numpy()
    if key == "all":
        mask = np.ones(len(communes), dtype=bool)
        return Area(key, LABELS["vi"]["all"], LABELS["en"]["all"], mask)
    if key == "border":
        mask = np.isin(prov, list(border_province_codes(store, vintage)))
        return Area(key, LABELS["vi"]["border"], LABELS["en"]["border"], mask)
    if key == "border_communes":
        codes = store.frame(f"border_communes_{vintage}")["commune_code"].astype(str)
        mask = np.isin(communes["commune_code"].astype(str).to_numpy(), codes.to_numpy())
        return Area(key, LABELS["vi"]["border_communes"], LABELS["en"]["border_communes"], mask)
    names = dict(provinces(store, vintage))
    if key in names:
        return Area(key, names[key], names[key], prov == key)
    saved = find_saved_area(indicators_db, key) if indicators_db is not None else None
    if saved is not None:
        mask = np.isin(communes["commune_code"].astype(str).to_numpy(), list(saved.codes(vintage)))
        return Area(saved.name, saved.name, saved.name, mask)
    saved_names = saved_area_names(indicators_db) if indicators_db is not None else []
    raise InvalidParameter(
        f"area: {key!r} is not all, border, border_communes, a province code of the {vintage} units "
        f"(e.g. {', '.join(f'{c} {n}' for c, n in list(names.items())[:3])}; list: /maps) "
        + (
            f"or a saved area ({'; '.join(saved_names)}; list: /reports/areas)"
            if saved_names
            else "or the name of a saved area (none saved yet; see /reports/areas)"
        )
    )


def file_part(key: str) -> str:
    """The area as part of a file name (ASCII: a saved area's name without diacritics)."""
    key = str(key)
    return key if key.isascii() and key.replace("_", "").isalnum() else slug(key).replace("-", "_")[:60] or "area"


def area_choices(store, indicators_db, vintage: int, lang: str = "vi") -> list[tuple[str, str]]:
    """(key, label) of every area a map of `vintage` can show, for a picker: the built-in areas,
    the provinces by name, then the saved areas by name (their key is their name)."""
    t = LABELS["en" if lang == "en" else "vi"]
    out = [("all", t["all"]), ("border", t["border"]), ("border_communes", t["border_communes"])]
    out += provinces(store, vintage)
    out += [(n, n) for n in (saved_area_names(indicators_db) if indicators_db is not None else [])]
    return out
