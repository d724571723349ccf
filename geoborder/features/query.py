"""Item queries: the parameters of OGC API - Features requests, parsed and checked (bbox,
datetime, CQL2 text/JSON through pygeofilter, sortby), and the `ItemQuery` a store engine answers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import orjson

from geoborder.core.crs import SupportedCrs, bbox_to_crs84, crs84
from geoborder.core.errors import InvalidParameter

DEFAULT_LIMIT = 10
MAX_LIMIT = 20_000  # every layer of the store fits one page (communes_2009: 11,163)
GEOMETRY_PROPERTY = "geometry"
CHUNK = 500  # features per chunk of a streamed download


# --------------------------------------------------------------------------- query


@dataclass(frozen=True)
class DatetimeInterval:
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class ItemQuery:
    """What a client asked for, already parsed and validated."""

    bbox: tuple[float, float, float, float] | None = None  # CRS84 lon/lat
    datetime: DatetimeInterval | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    filter: Any = None  # pygeofilter AST
    filter_crs: SupportedCrs | None = None
    sortby: tuple[tuple[str, bool], ...] = ()  # (property, ascending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    crs: SupportedCrs | None = None  # output CRS (None: CRS84)


def parse_bbox(value: str | None, bbox_crs: SupportedCrs | None = None) -> tuple[float, float, float, float] | None:
    """`bbox=a,b,c,d` (or 6 numbers) in `bbox_crs` axis order -> a CRS84 lon/lat box.

    In a geographic CRS a box whose lower longitude is greater than its upper one crosses the
    antimeridian (OGC API - Features, 7.15.3): it is kept as such, minx > maxx in the CRS84 box,
    meaning [minx, 180] and [-180, maxx] (see `bbox_parts`). Latitudes (and both axes of a
    projected CRS) must come lower first."""
    if value is None or value == "":
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        nums = tuple(float(p) for p in parts)
    except ValueError:
        raise InvalidParameter(f"bbox: {value!r} must be 4 or 6 comma-separated numbers") from None
    if len(nums) not in (4, 6):
        raise InvalidParameter(
            f"bbox: got {len(nums)} numbers ({value!r}); give 4 (minx,miny,maxx,maxy) or 6 (with heights)"
        )
    if not all(np.isfinite(nums)):
        raise InvalidParameter(f"bbox: {value!r} contains a number that is not finite")
    lo, hi = (nums[:2], nums[2:]) if len(nums) == 4 else (nums[:2], nums[3:5])
    crs = bbox_crs or crs84()
    lon_axis, lat_axis = (1, 0) if crs.swap_xy else (0, 1)
    ordered = (lat_axis,) if crs.geographic else (0, 1)
    if any(lo[i] > hi[i] for i in ordered):
        raise InvalidParameter(f"bbox: {value!r}: the lower corner must come first (lower <= upper on each axis)")
    if crs.geographic:
        if min(lo[lat_axis], hi[lat_axis]) < -90 or max(lo[lat_axis], hi[lat_axis]) > 90:
            raise InvalidParameter(f"bbox: {value!r}: latitude out of range [-90, 90] for {crs.uri}")
        if lo[lon_axis] > hi[lon_axis]:  # across the antimeridian: each side converted on its own
            if max(abs(lo[lon_axis]), abs(hi[lon_axis])) > 180:
                raise InvalidParameter(f"bbox: {value!r}: longitude out of range [-180, 180] for {crs.uri}")
            east, west = list(lo + hi), list(lo + hi)
            east[2 + lon_axis], west[lon_axis] = 180.0, -180.0
            e, w = bbox_to_crs84(tuple(east), crs), bbox_to_crs84(tuple(west), crs)
            return (e[0], min(e[1], w[1]), w[2], max(e[3], w[3]))
    return bbox_to_crs84((lo[0], lo[1], hi[0], hi[1]), crs)


def bbox_parts(bbox: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    """The boxes a CRS84 bbox covers: itself, or the two sides of the antimeridian when minx > maxx."""
    x0, y0, x1, y1 = bbox
    if x0 <= x1:
        return [bbox]
    return [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$")


def _instant(text: str, whole: str) -> datetime | None:
    if text in ("", ".."):
        return None
    if not _RFC3339.match(text):
        raise InvalidParameter(
            f"datetime: {whole!r} is not an RFC 3339 date-time, date or interval (a/b, '..' for open ends)"
        )
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        return datetime.fromisoformat(text.replace("z", "Z").replace("t", "T").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"datetime: {whole!r} is not a valid date-time") from None


def parse_datetime(value: str | None) -> DatetimeInterval | None:
    if value is None or value == "":
        return None
    if "/" in value:
        a, _, b = value.partition("/")
        if "/" in b or (a in ("", "..") and b in ("", "..")):
            raise InvalidParameter(f"datetime: {value!r}: an interval needs at least one bounded end")
        start, end = _instant(a, value), _instant(b, value)
        if start and end and start > end:
            raise InvalidParameter(f"datetime: {value!r}: the start is after the end")
        return DatetimeInterval(start, end)
    t = _instant(value, value)
    if t is None:
        raise InvalidParameter(f"datetime: {value!r} is not an instant")
    return DatetimeInterval(t, t)


MAX_FILTER_DEPTH = 100  # nesting levels of a filter (AND/OR chains count once, whatever their length)


def parse_filter(text: str | None, lang: str | None) -> Any:
    """A CQL2 filter (text or JSON) as a pygeofilter AST; malformed -> InvalidParameter.

    Text literals (and names) are NFC-normalised first, as the stored names are: a name typed
    with combining accents (NFD, as some keyboards and macOS file names give it) matches."""
    if text is None or text.strip() == "":
        return None
    lang = (lang or "cql2-text").lower()
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidParameter(f"filter-lang: {lang!r} is not supported; use cql2-text or cql2-json")
    if lang == "cql2-json":
        return parse_filter_json(text)
    try:
        from pygeofilter.parsers.cql2_text import parse

        return _checked(parse(unicodedata.normalize("NFC", text)))
    except InvalidParameter:
        raise
    except RecursionError:
        raise _too_deep() from None
    except Exception as exc:  # lark / pygeofilter errors: the message says where
        msg = " ".join(str(exc).split())[:300]
        raise InvalidParameter(f"filter: malformed cql2-text: {msg}") from None


def parse_filter_json(doc: Any) -> Any:
    """A CQL2-JSON filter (decoded, or the bytes of a POST body) as a pygeofilter AST."""
    if isinstance(doc, (bytes, str)):
        try:
            doc = orjson.loads(doc)
        except orjson.JSONDecodeError as exc:
            raise InvalidParameter(f"filter: malformed cql2-json: {' '.join(str(exc).split())[:300]}") from None
    try:
        from pygeofilter.parsers.cql2_json import parse

        return _checked(parse(_json_filter(doc)))
    except InvalidParameter:
        raise
    except RecursionError:
        raise _too_deep() from None
    except Exception as exc:
        msg = " ".join(str(exc).split())[:300]
        raise InvalidParameter(f"filter: malformed cql2-json: {msg}") from None


def _too_deep() -> InvalidParameter:
    return InvalidParameter(
        f"filter: nested too deeply (more than {MAX_FILTER_DEPTH} levels); long lists of alternatives "
        "can be written as a flat OR chain or as IN (...)"
    )


def _json_filter(doc: Any) -> Any:
    """The decoded CQL2-JSON with every string NFC-normalised and the functions pygeofilter does
    not read as operators (`{"op": "accenti", ...}`) written as function calls; iterative."""
    if not isinstance(doc, dict):
        raise InvalidParameter("filter: a cql2-json filter is a JSON object")
    root: list = [doc]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, k = stack.pop()
        v = parent[k]
        if isinstance(v, str):
            parent[k] = unicodedata.normalize("NFC", v)
        elif isinstance(v, list):
            v = parent[k] = list(v)
            stack.extend((v, i) for i in range(len(v)))
        elif isinstance(v, dict):
            v = dict(v)
            if str(v.get("op", "")).lower() == "accenti":
                v = {"function": {"name": "accenti", "arguments": v.get("args", [])}}
            parent[k] = v
            stack.extend((v, key) for key in v)
    return root[0]


def _checked(tree: Any) -> Any:
    """The AST, refused if nested deeper than MAX_FILTER_DEPTH (a chain of one AND or OR is one level)."""
    from pygeofilter import ast as cql_ast

    stack: list[tuple[Any, int, Any]] = [(tree, 0, None)]
    while stack:
        node, depth, chain = stack.pop()
        if not hasattr(node, "get_sub_nodes"):
            continue
        op = type(node) if isinstance(node, (cql_ast.And, cql_ast.Or)) else None
        d = depth if op is not None and op is chain else depth + 1
        if d > MAX_FILTER_DEPTH:
            raise _too_deep()
        subs = node.get_sub_nodes()
        for sub in subs if isinstance(subs, list) else [subs] if subs is not None else []:
            stack.append((sub, d, op))
    return tree


def parse_sortby(value: str | None) -> tuple[tuple[str, bool], ...]:
    if value is None or value.strip() == "":
        return ()
    out: list[tuple[str, bool]] = []
    for part in value.split(","):
        part = part.strip()
        asc = True
        if part[:1] in "+-" and part:
            asc, part = part[0] == "+", part[1:].strip()
        elif part.lower().endswith((" asc", " desc")):
            part, _, d = part.rpartition(" ")
            asc = d.lower() == "asc"
        if not part:
            raise InvalidParameter(f"sortby: {value!r} has an empty property name")
        if any(part == name for name, _ in out):
            raise InvalidParameter(f"sortby: property {part!r} is given more than once in {value!r}")
        out.append((part, asc))
    return tuple(out)


# --------------------------------------------------------------------------- CQL2 evaluation
