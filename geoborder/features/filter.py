"""CQL2 in memory: a parsed filter (pygeofilter) evaluated as vectorised pandas / shapely masks
on a layer's frame (the PostGIS twin is geoborder.store.postgis.cql2)."""

from __future__ import annotations

import functools
import operator
import unicodedata
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
from geoborder.features.query import GEOMETRY_PROPERTY, MAX_FILTER_DEPTH

# ACCENTI: the combining marks NFD splits off (U+0300..U+036F) removed, and đ/Đ (a letter of its
# own, not a mark) written d/D: "Mường Lèo" -> "Muong Leo", "Đồng Văn" -> "Dong Van". The
# PostGIS twin (store.postgis.cql2) does the same in SQL.
_MARKS = dict.fromkeys(range(0x300, 0x370))
_MARKS.update({ord("đ"): "d", ord("Đ"): "D"})


def accent_fold(text: str) -> str:
    """`text` without diacritics (CQL2 ACCENTI)."""
    return unicodedata.normalize("NFD", text).translate(_MARKS)


def chain_operands(node) -> list:
    """The operands of a chain of one AND or OR (`a OR b OR c ...`, however long), left to right,
    found without recursion: a 2,000-term chain is one level, not 2,000."""
    op, out, stack = type(node), [], [node]
    while stack:
        n = stack.pop()
        if type(n) is op:
            stack += [n.rhs, n.lhs]
        else:
            out.append(n)
    return out


def value_kind(v) -> str | None:
    """'text', 'num' or 'bool' for an evaluated operand (a column or a literal); None otherwise."""
    if isinstance(v, pd.Series):
        if pd.api.types.is_bool_dtype(v.dtype):
            return "bool"
        if pd.api.types.is_numeric_dtype(v.dtype):
            return "num"
        if pd.api.types.is_string_dtype(v.dtype) or v.dtype == object:
            return "text"
        return None
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "num"
    if isinstance(v, str):
        return "text"
    return None


_KIND_WORDS = {"text": "text", "num": "a number", "bool": "a boolean"}


def mismatch_message(node, lhs_kind: str, rhs_kind: str) -> str:
    """The message for ordering text against a number (the same on both stores)."""

    def show(n, kind):
        if isinstance(n, cql_ast.Attribute):
            return f"property {n.name!r} is {_KIND_WORDS[kind]}"
        return f"{n!r} is {_KIND_WORDS[kind]}"

    hint = " (quote a number, '5', to compare it as text)" if "text" in (lhs_kind, rhs_kind) else ""
    return (
        f"filter: {node.op.value!r} cannot order {_KIND_WORDS[lhs_kind]} against {_KIND_WORDS[rhs_kind]}: "
        f"{show(node.lhs, lhs_kind)}, {show(node.rhs, rhs_kind)}{hint}"
    )


class _Evaluator(GeoPandasEvaluator):
    """pygeofilter's geopandas evaluator, with checked attribute names, filter-crs and errors."""

    def __init__(self, df: gpd.GeoDataFrame, queryables: Sequence[str], filter_crs: SupportedCrs | None):
        super().__init__(df)
        self.queryables = set(queryables)
        self.filter_crs = filter_crs

    def evaluate(self, node, adopt_result: bool = True):
        # AND / OR chains evaluated as one n-ary operation: no recursion per term
        if isinstance(node, (cql_ast.And, cql_ast.Or)):
            parts = [self.evaluate(n, False) for n in chain_operands(node)]
            return functools.reduce(operator.and_ if isinstance(node, cql_ast.And) else operator.or_, parts)
        result = super().evaluate(node, adopt_result)
        if isinstance(result, pd.Series) and str(result.dtype) == "boolean":
            # a comparison with a null (Int64 columns) is false, not unknown: as in SQL (COALESCE)
            result = result.fillna(False).astype(bool)
        return result

    @handle(cql_ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        kl, kr = value_kind(lhs), value_kind(rhs)
        if kl and kr and kl != kr:  # text against a number: = is false, <> true, ordering refused
            if node.op.value in ("=", "<>"):
                return pd.Series(node.op.value == "<>", index=self.df.index, dtype=bool)
            raise InvalidParameter(mismatch_message(node, kl, kr))
        return super().comparison(node, lhs, rhs)

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
        if node.name.lower() == "accenti" and len(arguments) == 1:
            (arg,) = arguments
            if isinstance(arg, pd.Series):
                return arg.map(lambda v: accent_fold(v) if isinstance(v, str) else v)
            return accent_fold(str(arg))
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
    except RecursionError:
        raise InvalidParameter(f"filter: nested too deeply (more than {MAX_FILTER_DEPTH} levels)") from None
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
