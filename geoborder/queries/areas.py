"""`area=` of the spatial questions: a province code of the vintage, or the name of a saved area
(geoborder.indicators.saved_areas: its communes on the units of each vintage). The answer keeps
the area's communes; a village by the commune the build placed it in (its commune_code_<vintage>),
a settlement when its point lies within one of the area's communes, a road when it crosses one.

An answer asked with an area is held under the area's communes (`QueryArea.depends`), so saving
the area again with other communes gives a new answer, and the same communes the same one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import shapely

from geoborder.core.errors import NotFound
from geoborder.indicators.saved_areas import find_saved_area, saved_area_names
from geoborder.queries._common import _commune_layer


@dataclass(frozen=True)
class QueryArea:
    asked: str
    kind: str  # "province" or "saved"
    name: str
    vintage: int
    codes: tuple[str, ...]  # its communes of `vintage`, sorted

    def as_dict(self) -> dict:
        return {"asked": self.asked, "kind": self.kind, "name": self.name, "communes": len(self.codes)}

    @property
    def depends(self) -> tuple:
        """What an answer of this area depends on besides the question: its communes."""
        digest = hashlib.blake2b("\n".join(self.codes).encode(), digest_size=16).hexdigest()
        return ("area", self.kind, self.name, self.vintage, digest)

    def mask(self, store) -> np.ndarray:
        """The area's rows of communes_{vintage}."""
        c = store.frame(_commune_layer(self.vintage))
        return c["commune_code"].astype(str).isin(self.codes).to_numpy()

    def geometries(self, store) -> np.ndarray:
        """The area's communes (EPSG:4326)."""
        c = store.frame(_commune_layer(self.vintage))
        return np.asarray(c.geometry.values, dtype=object)[self.mask(store)]

    def settlements_inside(self, store, points) -> np.ndarray:
        """Which of `points` (EPSG:4326) lie within one of the area's communes."""
        points = np.asarray(points, dtype=object)
        inside = np.zeros(len(points), dtype=bool)
        if len(points):
            hit, _ = shapely.STRtree(self.geometries(store)).query(points, predicate="within")
            inside[hit] = True
        return inside

    def crossing(self, store, lines) -> np.ndarray:
        """Which of `lines` (EPSG:4326) cross one of the area's communes."""
        lines = np.asarray(lines, dtype=object)
        out = np.zeros(len(lines), dtype=bool)
        if len(lines):
            hit, _ = shapely.STRtree(self.geometries(store)).query(lines, predicate="intersects")
            out[hit] = True
        return out


def query_area(store, indicators_db, area, vintage: int) -> QueryArea | None:
    """The area `area` on the units of `vintage`: a province code of those units, else a saved
    area's name; None when none is asked. NotFound (404) names the saved areas and the codes."""
    if area is None or not str(area).strip():
        return None
    key = str(area).strip()
    c = store.frame(_commune_layer(vintage))
    provinces = c["province_code"].astype(str)
    if key in set(provinces):
        name = str(c.loc[(provinces == key).to_numpy(), "province_name"].iloc[0])
        codes = tuple(sorted(c.loc[(provinces == key).to_numpy(), "commune_code"].astype(str)))
        return QueryArea(key, "province", name, vintage, codes)
    saved = find_saved_area(indicators_db, key) if indicators_db is not None else None
    if saved is not None:
        return QueryArea(key, "saved", saved.name, vintage, tuple(saved.codes(vintage)))
    names = saved_area_names(indicators_db) if indicators_db is not None else []
    known = f"the saved areas: {'; '.join(names)}" if names else "no area is saved yet (/reports/areas)"
    raise NotFound(
        f"area: {key!r} is neither a province code of the {vintage} units ({', '.join(sorted(set(provinces)))}) "
        f"nor a saved area; {known}"
    )
