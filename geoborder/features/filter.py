"""CQL2 in memory: a parsed filter (pygeofilter) evaluated as vectorised pandas / shapely masks
on a layer's frame (the PostGIS twin is geoborder.store.postgis.cql2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast as cql_ast
from pygeofilter import values as cql_values
from pygeofilter.backends.evaluator import handle
from pygeofilter.backends.geopandas.evaluate import GeoPandasEvaluator

from geoborder.core.crs import SupportedCrs, bbox_literal, geoms_from
from geoborder.core.errors import InvalidParameter
from geoborder.features.query import GEOMETRY_PROPERTY


class _Evaluator(GeoPandasEvaluator):
    """pygeofilter's geopandas evaluator, with checked attribute names, filter-crs and errors."""

    def __init__(self, df: gpd.GeoDataFrame, queryables: Sequence[str], filter_crs: SupportedCrs | None):
        super().__init__(df)
        self.queryables = set(queryables)
        self.filter_crs = filter_crs

    @handle(cql_ast.Attribute)
    def attribute(self, node):
        name = node.name
        if name in (GEOMETRY_PROPERTY, "geom", "the_geom"):
            return self.df.geometry
        if name not in self.queryables:
            raise InvalidParameter(
                f"filter: unknown property {name!r}; queryables: {', '.join(sorted(self.queryables))}"
            )
        return self.df[name]

    def _geom(self, g):
        if self.filter_crs is not None and not self.filter_crs.is_crs84:
            return geoms_from(np.array([g], dtype=object), self.filter_crs)[0]
        return g

    @handle(cql_values.Geometry)
    def geometry(self, node):
        return self._geom(shapely.geometry.shape(node))

    @handle(cql_values.Envelope)
    def envelope(self, node):
        return self._geom(shapely.box(node.x1, node.y1, node.x2, node.y2))

    @handle(cql_ast.BBox)
    def bbox(self, node, lhs):
        return lhs.intersects(self._geom(shapely.box(node.minx, node.miny, node.maxx, node.maxy)))

    @handle(cql_ast.TemporalPredicate, subclasses=True)
    def temporal(self, node, lhs, rhs):
        raise InvalidParameter("filter: this collection has no temporal property")

    @handle(cql_ast.Function)
    def function(self, node, *arguments):
        if node.name.lower() in ("lower", "casei") and len(arguments) == 1:  # CASEI(...) parses as lower(...)
            (arg,) = arguments
            return arg.str.lower() if isinstance(arg, pd.Series) else str(arg).lower()
        if node.name.lower() == "bbox":  # the CQL2 BBOX(x1, y1, x2, y2) literal parses as a function
            return self._geom(shapely.box(*bbox_literal(arguments)))
        raise InvalidParameter(f"filter: function {node.name!r} is not supported")


def evaluate_filter(
    df: gpd.GeoDataFrame, tree: Any, queryables: Sequence[str], filter_crs: SupportedCrs | None = None
) -> np.ndarray:
    """A boolean mask over `df` for a pygeofilter AST."""
    try:
        result = _Evaluator(df, queryables, filter_crs).evaluate(tree)
    except InvalidParameter:
        raise
    except (TypeError, ValueError, shapely.errors.GEOSException) as exc:  # e.g. text compared with a number
        raise InvalidParameter(
            f"filter: cannot be evaluated on this collection ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        ) from None
    except Exception as exc:  # an operator or node the evaluator does not support: no internals sent
        raise InvalidParameter(
            f"filter: uses an operator this service does not support ({type(exc).__name__})"
        ) from None
    if isinstance(result, (bool, np.bool_)):
        return np.full(len(df), bool(result))
    if isinstance(result, pd.Series):
        if result.dtype != bool:
            if result.dtype == object or str(result.dtype) == "boolean":
                result = result.fillna(False)
            else:
                raise InvalidParameter("filter: the expression is not a condition (true/false)")
        return result.to_numpy(dtype=bool)
    raise InvalidParameter("filter: the expression is not a condition (true/false)")


# --------------------------------------------------------------------------- gzip from segments
