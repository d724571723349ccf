"""CRS helpers: the metric CRS of derivations and reprojection of shapely arrays."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer


@lru_cache(maxsize=64)
def transformer(src: str, dst: str) -> Transformer:
    """A cached lon/lat-ordered (always_xy) transformer between two CRS strings."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Reproject an array of shapely geometries, vectorised over all coordinates."""
    t = transformer(src, dst)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
