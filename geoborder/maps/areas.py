"""The area a map shows: the whole country, the border provinces, the border communes or one
province, as a mask over the rows of communes_<vintage>."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geoborder.core.errors import InvalidParameter
from geoborder.maps.classes import LABELS

AREAS = ("all", "border", "border_communes")  # or a province code of the vintage


@dataclass(frozen=True)
class Area:
    key: str  # "all", "border", "border_communes" or a province code
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


def area(store, vintage: int, key: str) -> Area:
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
    if key not in names:
        raise InvalidParameter(
            f"area: {key!r} is not all, border, border_communes or a province code of the {vintage} units "
            f"(e.g. {', '.join(f'{c} {n}' for c, n in list(names.items())[:3])}; list: /maps)"
        )
    return Area(key, names[key], names[key], prov == key)
