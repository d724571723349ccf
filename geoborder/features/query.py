"""Item queries: the parameters of OGC API - Features requests, parsed and checked (bbox,
datetime, CQL2 text/JSON through pygeofilter, sortby), and the `ItemQuery` a store engine answers."""

from __future__ import annotations

import re
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
    """`bbox=a,b,c,d` (or 6 numbers) in `bbox_crs` axis order -> a CRS84 lon/lat box."""
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
    if lo[1] > hi[1] or (not crs.geographic and lo[0] > hi[0]):
        raise InvalidParameter(f"bbox: {value!r}: the lower corner must come first (lower <= upper on each axis)")
    if crs.geographic:
        lat = (lo[0], hi[0]) if crs.swap_xy else (lo[1], hi[1])
        if min(lat) < -90 or max(lat) > 90:
            raise InvalidParameter(f"bbox: {value!r}: latitude out of range [-90, 90] for {crs.uri}")
    box = (lo[0], lo[1], hi[0], hi[1])
    return bbox_to_crs84(box, crs)


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


def parse_filter(text: str | None, lang: str | None) -> Any:
    """A CQL2 filter (text or JSON) as a pygeofilter AST; malformed -> InvalidParameter."""
    if text is None or text.strip() == "":
        return None
    lang = (lang or "cql2-text").lower()
    try:
        if lang == "cql2-text":
            from pygeofilter.parsers.cql2_text import parse

            return parse(text)
        if lang == "cql2-json":
            from pygeofilter.parsers.cql2_json import parse

            return parse(orjson.loads(text))
    except InvalidParameter:
        raise
    except Exception as exc:  # lark / json / pygeofilter errors: the message says where
        msg = " ".join(str(exc).split())[:300]
        raise InvalidParameter(f"filter: malformed {lang}: {msg}") from None
    raise InvalidParameter(f"filter-lang: {lang!r} is not supported; use cql2-text or cql2-json")


def parse_sortby(value: str | None) -> tuple[tuple[str, bool], ...]:
    if value is None or value.strip() == "":
        return ()
    out = []
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
        out.append((part, asc))
    return tuple(out)


# --------------------------------------------------------------------------- CQL2 evaluation
