"""CQL2 (a pygeofilter AST) translated to a PostGIS WHERE clause, for the PostGIS store.

The text and JSON encodings are parsed by pygeofilter (features.parse_filter); this module walks
the resulting AST with pygeofilter's `Evaluator` and builds a `psycopg.sql.Composed`:

- property names become `sql.Identifier`s, and only names of the layer's table are accepted
  (anything else is an InvalidParameter naming the queryables, before any SQL is sent);
- every value (numbers, text, LIKE patterns, geometries as WKB) is a *bound parameter*
  (`%(pN)s` with a typed cast), never text spliced into the statement;
- operators and functions come from fixed tables here, never from the request.

The semantics are those of the in-memory evaluator (features.evaluate_filter), so the two stores
answer the same: a comparison with a null is false (not unknown), so `NOT (population > 5)`
includes features without a population, as it does in memory; text is ordered by code point
(`COLLATE "C"`); `/` is a floating-point division; CASEI/LOWER and case-insensitive LIKE fold
case with ICU (`und-x-icu`), which, like Python, folds Vietnamese letters; ACCENTI removes the
combining marks of the NFD form (U+0300..U+036F) and writes đ/Đ as d/D, as
features.filter.accent_fold does. AND / OR chains are flat n-ary conditions (a 2,000-term OR is
one level, not 2,000 nested ones). A geometry literal is
in `filter-crs` and is reprojected to CRS84 in Python, with the same code as in memory.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from psycopg import sql
from pygeofilter import ast as cql_ast
from pygeofilter import values as cql_values
from pygeofilter.backends.evaluator import Evaluator, handle

from geoborder.core.crs import SupportedCrs, bbox_literal, geoms_from
from geoborder.core.errors import InvalidParameter

GEOMETRY_NAMES = ("geometry", "geom", "the_geom")
SRID = 4326

_COMPARE = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SPATIAL = {
    "INTERSECTS": "ST_Intersects",
    "DISJOINT": "ST_Disjoint",
    "CONTAINS": "ST_Contains",
    "WITHIN": "ST_Within",
    "TOUCHES": "ST_Touches",
    "CROSSES": "ST_Crosses",
    "OVERLAPS": "ST_Overlaps",
    "EQUALS": "ST_Equals",
}
_ARITH = {"+": "+", "-": "-", "*": "*"}
_CAST = {"num": "double precision", "int": "bigint", "text": "text", "bool": "boolean"}
_ICU = sql.SQL(' COLLATE "und-x-icu"')
_MARKS_RANGE = "[\u0300-\u036f]"  # the combining marks NFD splits off (a regex class, bound as a value)
_MARKS = dict.fromkeys(range(0x300, 0x370))
_MARKS.update({ord("đ"): "d", ord("Đ"): "D"})
_KIND_WORDS = {"text": "text", "num": "a number", "bool": "a boolean"}


def accent_fold(text: str) -> str:
    """`text` without diacritics (CQL2 ACCENTI), for literals: the SQL below does the same."""
    return unicodedata.normalize("NFD", text).translate(_MARKS)


def _chain_operands(node) -> list:
    """The operands of a chain of one AND or OR, left to right, found without recursion."""
    op, out, stack = type(node), [], [node]
    while stack:
        n = stack.pop()
        if type(n) is op:
            stack += [n.rhs, n.lhs]
        else:
            out.append(n)
    return out


def _mismatch_message(node, lhs_kind: str, rhs_kind: str) -> str:
    """Ordering text against a number: the message of the in-memory evaluator."""

    def show(n, kind):
        if isinstance(n, cql_ast.Attribute):
            return f"property {n.name!r} is {_KIND_WORDS[kind]}"
        return f"{n!r} is {_KIND_WORDS[kind]}"

    hint = " (quote a number, '5', to compare it as text)" if "text" in (lhs_kind, rhs_kind) else ""
    return (
        f"filter: {node.op.value!r} cannot order {_KIND_WORDS[lhs_kind]} against {_KIND_WORDS[rhs_kind]}: "
        f"{show(node.lhs, lhs_kind)}, {show(node.rhs, rhs_kind)}{hint}"
    )


def column_kind(dtype: str) -> str:
    """'num', 'bool' or 'text' for a pandas dtype name of a published column."""
    d = dtype.lower()
    if d.startswith(("int", "uint", "float")):
        return "num"
    if d in ("bool", "boolean"):
        return "bool"
    return "text"


@dataclass(frozen=True)
class Expr:
    """A translated node: its SQL, what it is, and the Python value when it is a literal."""

    sql: sql.Composable
    kind: str  # num, text, bool, geom, pred (a condition), null
    literal: Any = None
    is_literal: bool = False


def referenced_properties(tree) -> set[str]:
    """The property names an AST refers to (geometry names excluded); iterative."""
    out: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, cql_ast.Attribute):
            if node.name not in GEOMETRY_NAMES:
                out.add(node.name)
            continue
        subs = node.get_sub_nodes() if hasattr(node, "get_sub_nodes") else None
        stack.extend(subs if isinstance(subs, list) else [subs] if subs is not None else [])
    return out


class SqlFilter(Evaluator):
    """One filter of one request: `where(tree)` gives the condition; `params` its bound values."""

    def __init__(
        self,
        columns: Mapping[str, str],
        filter_crs: SupportedCrs | None = None,
        geometry_column: str = "geometry",
        prefix: str = "f",
    ):
        self.columns = dict(columns)  # name -> pandas dtype, from the published table
        self.filter_crs = filter_crs
        self.geometry_column = geometry_column
        self.params: dict[str, Any] = {}
        self._prefix = prefix

    # ------------------------------------------------------------------ helpers
    def param(self, value, cast: str | None = None) -> sql.Composable:
        name = f"{self._prefix}{len(self.params)}"
        self.params[name] = value
        ph = sql.Placeholder(name)
        return sql.SQL("({}::{})").format(ph, sql.SQL(cast)) if cast else ph

    def _literal(self, value) -> Expr:
        if value is None:
            return Expr(sql.SQL("NULL"), "null", None, True)
        if isinstance(value, bool):
            return Expr(self.param(value, "boolean"), "bool", value, True)
        if isinstance(value, int):
            return Expr(self.param(value, "bigint" if abs(value) < 2**63 else "numeric"), "num", value, True)
        if isinstance(value, float):
            return Expr(self.param(value, "double precision"), "num", value, True)
        if isinstance(value, str):
            return Expr(self.param(value, "text"), "text", value, True)
        raise InvalidParameter(
            f"filter: a value of type {type(value).__name__} is not supported "
            f"(numbers, text, booleans and geometries are)"
        )

    def _geometry(self, geom) -> Expr:
        if self.filter_crs is not None and not self.filter_crs.is_crs84:
            geom = geoms_from(np.array([geom], dtype=object), self.filter_crs)[0]
        if geom is None or geom.is_empty or not np.all(np.isfinite(geom.bounds)):
            raise InvalidParameter("filter: a geometry is empty or outside the area of use of the filter-crs")
        wkb = shapely.to_wkb(geom)
        return Expr(
            sql.SQL("ST_GeomFromWKB({}, {})").format(self.param(wkb, "bytea"), sql.Literal(SRID)), "geom", geom, True
        )

    @staticmethod
    def _pred(cond: sql.Composable) -> Expr:
        """A condition that is never null (null -> false): the in-memory semantics."""
        return Expr(sql.SQL("COALESCE(({}), false)").format(cond), "pred")

    @staticmethod
    def _as_condition(e: Expr) -> sql.Composable:
        if e.kind == "pred":
            return e.sql
        if e.kind == "bool":
            return sql.SQL("COALESCE({}, false)").format(e.sql)
        raise InvalidParameter("filter: the expression is not a condition (true/false)")

    # ------------------------------------------------------------------ entry
    def evaluate(self, node, adopt_result: bool = True):
        # AND / OR chains as one flat condition: no recursion per term
        if isinstance(node, (cql_ast.And, cql_ast.Or)):
            op = sql.SQL(" AND " if isinstance(node, cql_ast.And) else " OR ")
            parts = [self._as_condition(self.evaluate(n, False)) for n in _chain_operands(node)]
            return Expr(sql.SQL("({})").format(op.join(parts)), "pred")
        return super().evaluate(node, adopt_result)

    def where(self, tree) -> sql.Composable:
        try:
            result = self.evaluate(tree)
        except InvalidParameter:
            raise
        except RecursionError:
            raise InvalidParameter("filter: nested too deeply (more than 100 levels)") from None
        except Exception as exc:  # a node type this translator has no handler for
            raise InvalidParameter(
                f"filter: uses an operator this service does not support ({type(exc).__name__})"
            ) from None
        if isinstance(result, Expr):
            return self._as_condition(result)
        raise InvalidParameter("filter: the expression is not a condition (true/false)")

    def adopt(self, node, *sub_args):
        raise InvalidParameter(f"filter: {type(node).__name__} is not supported by this service")

    # ------------------------------------------------------------------ leaves
    @handle(cql_ast.Attribute)
    def attribute(self, node) -> Expr:
        name = node.name
        if name in GEOMETRY_NAMES:
            return Expr(sql.Identifier(self.geometry_column), "geom")
        if name not in self.columns:
            raise InvalidParameter(f"filter: unknown property {name!r}; queryables: {', '.join(sorted(self.columns))}")
        return Expr(sql.Identifier(name), column_kind(self.columns[name]))

    @handle(*cql_values.LITERALS)
    def literal(self, node) -> Expr:
        return self._literal(node)

    @handle(cql_values.Geometry)
    def geometry(self, node) -> Expr:
        try:
            geom = shapely.geometry.shape(node)
        except Exception as exc:
            raise InvalidParameter(f"filter: not a valid geometry ({exc})") from None
        return self._geometry(geom)

    @handle(cql_values.Envelope)
    def envelope(self, node) -> Expr:
        return self._geometry(shapely.box(node.x1, node.y1, node.x2, node.y2))

    # ------------------------------------------------------------------ logic
    @handle(cql_ast.Not)
    def not_(self, node, sub: Expr) -> Expr:
        return Expr(sql.SQL("(NOT {})").format(self._as_condition(sub)), "pred")

    @handle(cql_ast.And, cql_ast.Or)
    def combination(self, node, lhs: Expr, rhs: Expr) -> Expr:
        op = sql.SQL(" AND " if node.op.value == "AND" else " OR ")
        return Expr(sql.SQL("({})").format(op.join([self._as_condition(lhs), self._as_condition(rhs)])), "pred")

    # ------------------------------------------------------------------ comparisons
    def _ordered(self, e: Expr) -> sql.Composable:
        """Text compared or sorted by code point, as Python does."""
        return sql.SQL('({} COLLATE "C")').format(e.sql) if e.kind == "text" else e.sql

    def _mismatch(self, node, lhs: Expr, rhs: Expr, op: str) -> Expr | None:
        """Text against a number: `=` is false and `<>` true (as in memory); ordering is an error."""
        kinds = {lhs.kind, rhs.kind} - {"null"}
        if kinds <= {"num"} or kinds <= {"text"} or kinds <= {"bool"} or len(kinds) < 2:
            return None
        if op in ("=", "<>"):
            return Expr(sql.SQL("true" if op == "<>" else "false"), "pred")
        raise InvalidParameter(_mismatch_message(node, lhs.kind, rhs.kind))

    @handle(cql_ast.Comparison, subclasses=True)
    def comparison(self, node, lhs: Expr, rhs: Expr) -> Expr:
        op = node.op.value
        for e in (lhs, rhs):
            if e.kind in ("geom", "pred"):
                raise InvalidParameter(
                    f"filter: {op!r} compares values, not {'geometries' if e.kind == 'geom' else 'conditions'}"
                )
        mismatch = self._mismatch(node, lhs, rhs, op)
        if mismatch is not None:
            return mismatch
        return self._pred(sql.SQL("{} {} {}").format(self._ordered(lhs), sql.SQL(_COMPARE[op]), self._ordered(rhs)))

    @handle(cql_ast.Between)
    def between(self, node, lhs: Expr, low: Expr, high: Expr) -> Expr:
        for e in (low, high):
            if e.kind != lhs.kind and "null" not in (e.kind, lhs.kind):
                raise InvalidParameter(f"filter: BETWEEN compares {lhs.kind} with {e.kind}")
        cond = self._pred(
            sql.SQL("{} BETWEEN {} AND {}").format(self._ordered(lhs), self._ordered(low), self._ordered(high))
        )
        return self.not_(None, cond) if node.not_ else cond

    @handle(cql_ast.Like)
    def like(self, node, lhs: Expr) -> Expr:
        if lhs.kind != "text":
            raise InvalidParameter("filter: LIKE applies to text properties")
        pattern = _like_pattern(node.pattern, node.wildcard or "%", node.singlechar or "_", node.escapechar or "\\")
        if node.nocase:
            test = sql.SQL("lower({}{}) LIKE {} ESCAPE '\\'").format(lhs.sql, _ICU, self.param(pattern.lower(), "text"))
        else:
            test = sql.SQL("{} LIKE {} ESCAPE '\\'").format(lhs.sql, self.param(pattern, "text"))
        cond = self._pred(test)
        return self.not_(None, cond) if node.not_ else cond

    @handle(cql_ast.In)
    def in_(self, node, lhs: Expr, *options: Expr) -> Expr:
        same = [o for o in options if o.kind == lhs.kind or lhs.kind == "null"]
        if not same:  # nothing of the property's type: no match (as in memory)
            cond = Expr(sql.SQL("false"), "pred")
        else:
            cond = self._pred(sql.SQL("{} IN ({})").format(lhs.sql, sql.SQL(", ").join(o.sql for o in same)))
        return self.not_(None, cond) if node.not_ else cond

    @handle(cql_ast.IsNull)
    def null(self, node, lhs: Expr) -> Expr:
        return Expr(sql.SQL("({} IS {}NULL)").format(lhs.sql, sql.SQL("NOT " if node.not_ else "")), "pred")

    @handle(cql_ast.TemporalPredicate, subclasses=True)
    def temporal(self, node, lhs, rhs):
        raise InvalidParameter("filter: this collection has no temporal property")

    # ------------------------------------------------------------------ spatial
    @handle(cql_ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs: Expr, rhs: Expr) -> Expr:
        if lhs.kind != "geom" or rhs.kind != "geom":
            raise InvalidParameter(f"filter: S_{node.op.value} compares two geometries")
        return self._pred(sql.SQL("{}({}, {})").format(sql.SQL(_SPATIAL[node.op.value]), lhs.sql, rhs.sql))

    @handle(cql_ast.BBox)
    def bbox(self, node, lhs: Expr) -> Expr:
        if lhs.kind != "geom":
            raise InvalidParameter("filter: BBOX applies to a geometry")
        box = self._geometry(shapely.box(node.minx, node.miny, node.maxx, node.maxy))
        return self._pred(sql.SQL("ST_Intersects({}, {})").format(lhs.sql, box.sql))

    # ------------------------------------------------------------------ arithmetic and functions
    @handle(cql_ast.Arithmetic, subclasses=True)
    def arithmetic(self, node, lhs: Expr, rhs: Expr) -> Expr:
        op = node.op.value
        if lhs.kind != "num" or rhs.kind != "num":
            raise InvalidParameter(f"filter: {op!r} needs numbers, not {lhs.kind} and {rhs.kind}")
        if op == "/":  # a true division, as in Python; by zero: null, hence false in a comparison
            return Expr(
                sql.SQL("(({})::double precision / NULLIF(({})::double precision, 0))").format(lhs.sql, rhs.sql), "num"
            )
        return Expr(sql.SQL("({} {} {})").format(lhs.sql, sql.SQL(_ARITH[op]), rhs.sql), "num")

    @handle(cql_ast.Function)
    def function(self, node, *arguments: Expr) -> Expr:
        if node.name.lower() in ("lower", "casei") and len(arguments) == 1:  # CASEI(...) parses as lower(...)
            (arg,) = arguments
            if arg.is_literal:
                return self._literal(str(arg.literal).lower())
            if arg.kind != "text":
                raise InvalidParameter(f"filter: {node.name}() applies to text")
            return Expr(sql.SQL("lower({}{})").format(arg.sql, _ICU), "text")
        if node.name.lower() == "accenti" and len(arguments) == 1:
            (arg,) = arguments
            if arg.is_literal:
                return self._literal(accent_fold(str(arg.literal)))
            if arg.kind != "text":
                raise InvalidParameter(f"filter: {node.name}() applies to text")
            return Expr(
                sql.SQL("translate(regexp_replace(normalize({}, NFD), {}, '', 'g'), 'đĐ', 'dD')").format(
                    arg.sql, self.param(_MARKS_RANGE, "text")
                ),
                "text",
            )
        if node.name.lower() == "bbox":  # the CQL2 BBOX(x1, y1, x2, y2) literal parses as a function
            if not all(a.is_literal for a in arguments):
                raise InvalidParameter("filter: BBOX(...) takes 4 or 6 numbers")
            return self._geometry(shapely.box(*bbox_literal([a.literal for a in arguments])))
        raise InvalidParameter(f"filter: function {node.name!r} is not supported")


def _like_pattern(pattern: str, wildcard: str, single: str, escape: str) -> str:
    """A CQL2 LIKE pattern (its own wildcard, single-character and escape characters) as a SQL
    LIKE pattern with `\\` as the escape character."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "%_\\" else nxt)
            i += 2
            continue
        if ch == wildcard:
            out.append("%")
        elif ch == single:
            out.append("_")
        elif ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)
