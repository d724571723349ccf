"""Feature selection and serialisation for OGC API - Features (no web framework here).

A `LayerFeatures` wraps one layer of the store (a GeoDataFrame in CRS84 lon/lat, indexed by fid)
and answers item queries:

- selection: bbox (spatial index), simple property equality, CQL2 (text or JSON, parsed by
  pygeofilter and evaluated as vectorised pandas / shapely masks), datetime (validated; no layer
  has a temporal property yet, so every feature matches), sortby, offset / limit paging;
- serialisation: the GeoJSON of every feature in CRS84 is built once, at first use of the layer
  (orjson properties + GEOS GeoJSON geometry), so a page of items is a concatenation of bytes.
  Other CRSs reproject only the geometries of the page;
- whole-layer downloads: streamed GeoJSON (chunks), GeoPackage (pyogrio) and CSV.

Hook for other modules (e.g. indicators joined onto communes): `LayerFeatures.with_columns(df)`
returns a new `LayerFeatures` with extra property columns, served the same way.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely
from pygeofilter import ast as cql_ast
from pygeofilter import values as cql_values
from pygeofilter.backends.evaluator import handle
from pygeofilter.backends.geopandas.evaluate import GeoPandasEvaluator

from geoborder.core.crs import SupportedCrs, bbox_literal, bbox_to_crs84, crs84, geoms_from, geoms_to
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.store.base import IN_MEMORY_ITEMS, ItemsEngine, LayerInfo, Store

DEFAULT_LIMIT = 10
MAX_LIMIT = 20_000  # every layer of the store fits one page (communes_2009: 11,163)
GEOMETRY_PROPERTY = "geometry"
CHUNK = 500  # features per chunk of a streamed download

_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


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

GZIP_LEVEL = 6
_GZ_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime, unknown OS
_GZ_FINAL = b"\x03\x00"  # an empty final fixed-Huffman block


def deflate_segment(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    """Raw deflate of `data`, sync-flushed (byte-aligned, not final): segments made this way can be
    concatenated into one deflate stream, since none refers back before its own start (pigz)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


_COMMA = deflate_segment(b",")


class GzipMember:
    """One gzip member assembled from deflate segments (precomputed per feature) and small plain
    pieces compressed on the fly. The CRC and size are of the uncompressed bytes."""

    __slots__ = ("parts", "crc", "size")

    def __init__(self):
        self.parts: list[bytes] = [_GZ_HEADER]
        self.crc = 0
        self.size = 0

    def plain(self, data: bytes) -> None:
        if data:
            self.segment(data, deflate_segment(data, 1))

    def segment(self, data: bytes, deflated: bytes) -> None:
        self.parts.append(deflated)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)

    def take(self) -> bytes:
        """The parts so far (for streaming), emptied."""
        out, self.parts = b"".join(self.parts), []
        return out

    def finish(self) -> bytes:
        self.parts += [_GZ_FINAL, struct.pack("<II", self.crc, self.size & 0xFFFFFFFF)]
        return self.take()


# --------------------------------------------------------------------------- layer features


@dataclass(frozen=True)
class Selection:
    positions: np.ndarray  # row positions of the page, in order
    matched: int  # numberMatched


def _json_value(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


class LayerFeatures:
    """One layer prepared for OGC API - Features."""

    def __init__(
        self,
        layer_id: str,
        frame: gpd.GeoDataFrame,
        key_field: str | None = None,
        engine: ItemsEngine = IN_MEMORY_ITEMS,
    ):
        self.layer_id = layer_id
        # the store's items engine: on PostGIS the selection and other-CRS geometries are SQL
        self.engine = engine
        self.frame = frame
        self.key_field = key_field
        self.property_names: list[str] = [c for c in frame.columns if c != frame.geometry.name]
        self.ids = frame.index.to_numpy()
        self._pos = {int(fid): i for i, fid in enumerate(self.ids)}
        self._by_key: dict[str, int] | None = None  # key value -> row position, made on first use
        self._props: list[bytes] | None = None
        self._features: list[bytes] | None = None
        self._gz: list[bytes | None] | None = None  # deflate segment of each feature, made on demand
        self._lock = threading.Lock()
        self._all = np.arange(len(frame))

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def prepared(self) -> bool:
        """The per-feature GeoJSON is built (first use of the layer is done)."""
        return self._features is not None

    # ----------------------------------------------------------------- hook
    def with_columns(self, extra: pd.DataFrame, on: str | None = None) -> LayerFeatures:
        """A new LayerFeatures with `extra` columns joined on `on` (default: the layer key).

        For other modules that add values to a layer (indicators on communes): `extra` is indexed
        by the key values (or has an `on` column); rows without a match get nulls. Existing
        columns of the same name are replaced.
        """
        on = on or self.key_field
        if on is None or on not in self.frame.columns:
            raise InvalidParameter(f"layer {self.layer_id} has no key column {on!r} to join on")
        if on in extra.columns:
            extra = extra.set_index(on)
        replaced = [c for c in extra.columns if c in self.frame.columns]
        joined = self.frame.drop(columns=replaced).join(extra, on=on)
        # the joined columns exist only in memory: a query naming one is selected in memory
        return LayerFeatures(
            self.layer_id,
            gpd.GeoDataFrame(joined, geometry=self.frame.geometry.name, crs=self.frame.crs),
            self.key_field,
            self.engine.excluding(replaced),
        )

    # ----------------------------------------------------------------- serialisation
    def _properties_bytes(self) -> list[bytes]:
        df = self.frame[self.property_names]
        cols = [df[c].to_numpy(dtype=object) for c in self.property_names]
        names = self.property_names
        out = []
        for row in zip(*cols):
            out.append(orjson.dumps({k: _json_value(v) for k, v in zip(names, row)}, option=_ORJSON))
        return out

    def _prepare(self) -> None:
        with self._lock:
            if self._features is not None:
                return
            props = self._properties_bytes()
            geoms = self._geometry_json(self._all, crs84())
            head = [b'{"type":"Feature","id":%d,"geometry":' % int(f) for f in self.ids]
            self._features = [h + g + b',"properties":' + p + b"}" for h, g, p in zip(head, geoms, props)]
            self._props = props
            self._gz = [None] * len(self._features)

    def _geometry_json(self, positions: np.ndarray, crs: SupportedCrs) -> list[bytes]:
        if self.engine.can_transform(crs):
            geoms = self.engine.transformed(self.ids[positions], crs)  # ST_Transform
        else:
            geoms = geoms_to(self.frame.geometry.values[positions], crs)
        return [b"null" if s is None else s.encode() for s in shapely.to_geojson(geoms)]

    def feature_bytes(self, positions: np.ndarray, crs: SupportedCrs | None = None) -> list[bytes]:
        """The GeoJSON Feature of each row position, in `crs` (default CRS84)."""
        if self._features is None:
            self._prepare()
        if crs is None or crs.is_crs84:
            feats = self._features
            return [feats[i] for i in positions]
        geoms = self._geometry_json(positions, crs)
        props = self._props
        return [
            b'{"type":"Feature","id":%d,"geometry":%s,"properties":%s}' % (int(self.ids[i]), g, props[i])
            for i, g in zip(positions, geoms)
        ]

    def add_gzip(self, gz: GzipMember, positions: np.ndarray, first: bool = True) -> None:
        """Append the CRS84 features at `positions` (comma-separated) to a gzip member, from
        deflate segments made once per feature."""
        if self._features is None:
            self._prepare()
        feats, cache = self._features, self._gz
        for k, i in enumerate(positions):
            seg = cache[i]
            if seg is None:
                seg = cache[i] = deflate_segment(feats[i])
            if k or not first:
                gz.segment(b",", _COMMA)
            gz.segment(feats[i], seg)

    # ----------------------------------------------------------------- selection
    def position(self, feature_id: str) -> int:
        """Row position of a feature id: the fid (as items give it), else a value of the layer key
        (e.g. a commune code "03856": not an fid, since fids are written without leading zeros)."""
        fid = feature_id.strip()
        if fid.isdigit() and str(int(fid)) == fid and int(fid) in self._pos:
            return self._pos[int(fid)]
        if self.key_field and self.key_field in self.frame.columns:
            pos = self._key_positions().get(str(feature_id), -1)
            if pos >= 0:
                return pos
        raise NotFound(f"no feature {feature_id!r} in collection {self.layer_id!r}")

    def _key_positions(self) -> dict[str, int]:
        """Row position of each key value (as text), made once; -1 for a value found twice."""
        if self._by_key is None:
            out: dict[str, int] = {}
            for i, v in enumerate(self.frame[self.key_field].astype(str).to_numpy()):
                out[v] = -1 if v in out else i
            self._by_key = out
        return self._by_key

    def _check_property(self, name: str, what: str) -> None:
        if name not in self.property_names:
            raise InvalidParameter(f"{what}: unknown property {name!r}; properties: {', '.join(self.property_names)}")

    def _property_mask(self, df: pd.DataFrame, name: str, value: str) -> np.ndarray:
        self._check_property(name, name)
        col = df[name]
        if pd.api.types.is_bool_dtype(col):
            v = value.strip().lower()
            if v not in ("true", "false", "1", "0"):
                raise InvalidParameter(f"{name}: {value!r} is not true or false")
            return (col == (v in ("true", "1"))).to_numpy()
        if pd.api.types.is_numeric_dtype(col):
            try:
                num = float(value)
            except ValueError:
                raise InvalidParameter(f"{name}: {value!r} is not a number") from None
            return (col == num).to_numpy()
        return (col.astype(object) == value).to_numpy()

    def select(self, q: ItemQuery) -> Selection:
        """Row positions of the page a query asks for, and how many features match in all.

        The store's items engine selects when it can (PostGIS: in SQL), unless the query names a
        property that exists only in memory (indicator values joined on)."""
        if self.engine.handles(q):
            fids, matched = self.engine.select(q)
            pos = self._pos
            return Selection(
                positions=np.fromiter((pos[int(f)] for f in fids), dtype=np.intp, count=len(fids)), matched=matched
            )
        pos = self._all
        if q.bbox is not None:
            pos = np.sort(self.frame.sindex.query(shapely.box(*q.bbox), predicate="intersects"))
        if q.properties or q.filter is not None:
            sub = self.frame.iloc[pos] if len(pos) != len(self.frame) else self.frame
            mask = np.ones(len(pos), dtype=bool)
            for name, value in q.properties.items():
                mask &= self._property_mask(sub, name, value)
            if q.filter is not None:
                mask &= evaluate_filter(sub, q.filter, self.property_names, q.filter_crs)
            pos = pos[mask]
        # datetime: no layer has a temporal property yet: features without one always match
        if q.sortby:
            for name, _ in q.sortby:
                self._check_property(name, "sortby")
            sub = self.frame.iloc[pos][[n for n, _ in q.sortby]].reset_index(drop=True)
            order = sub.sort_values(
                [n for n, _ in q.sortby], ascending=[a for _, a in q.sortby], kind="mergesort", na_position="last"
            ).index.to_numpy()
            pos = pos[order]
        matched = len(pos)
        return Selection(positions=pos[q.offset : q.offset + q.limit], matched=matched)

    def select_all(self, q: ItemQuery) -> np.ndarray:
        """Every matching row position (downloads: no paging)."""
        from dataclasses import replace

        return self.select(replace(q, offset=0, limit=len(self.frame) or 1)).positions

    # ----------------------------------------------------------------- documents
    def feature_document(self, position: int, links: list[dict], crs: SupportedCrs | None = None) -> bytes:
        body = self.feature_bytes(np.array([position]), crs)[0]
        return body[:-1] + b',"links":' + orjson.dumps(links) + b"}"

    def frame_for(self, positions: np.ndarray, crs: SupportedCrs | None = None) -> gpd.GeoDataFrame:
        """The rows as a GeoDataFrame in `crs` (traditional x/y order, for files)."""
        sub = self.frame.iloc[positions]
        if crs is None or crs.is_crs84 or crs.auth == "EPSG:4326":
            return sub.set_crs("EPSG:4326", allow_override=True)
        if self.engine.can_transform(crs):  # ST_Transform
            geoms = self.engine.transformed(self.ids[positions], crs, axis_order=False, rounded=False)
            return gpd.GeoDataFrame(
                sub.drop(columns=sub.geometry.name), geometry=gpd.GeoSeries(geoms, index=sub.index, crs=crs.auth)
            )
        return sub.to_crs(crs.auth)


def feature_collection(parts: list[bytes], *, matched: int, links: list[dict], timestamp: str | None = None) -> bytes:
    """A FeatureCollection page: the features' bytes concatenated, then the paging members."""
    tail = {
        "numberMatched": matched,
        "numberReturned": len(parts),
        "timeStamp": timestamp or now_rfc3339(),
        "links": links,
    }
    return b'{"type":"FeatureCollection","features":[' + b",".join(parts) + b"]," + orjson.dumps(tail)[1:]


def feature_collection_gzip(
    lf: LayerFeatures, positions: np.ndarray, *, matched: int, links: list[dict], timestamp: str | None = None
) -> bytes:
    """The same document as `feature_collection` (CRS84), gzip-encoded from per-feature segments."""
    tail = {
        "numberMatched": matched,
        "numberReturned": len(positions),
        "timeStamp": timestamp or now_rfc3339(),
        "links": links,
    }
    gz = GzipMember()
    gz.plain(b'{"type":"FeatureCollection","features":[')
    lf.add_gzip(gz, positions)
    gz.plain(b"]," + orjson.dumps(tail)[1:])
    return gz.finish()


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- downloads


def iter_geojson(
    lf: LayerFeatures, positions: np.ndarray, crs: SupportedCrs | None = None, *, name: str | None = None
) -> Iterator[bytes]:
    """A whole FeatureCollection in chunks of CHUNK features (constant memory per chunk)."""
    head = {"type": "FeatureCollection", "name": name or lf.layer_id}
    if crs is not None and not crs.is_crs84:
        head["crs"] = {"type": "name", "properties": {"name": crs.uri}}
    yield orjson.dumps(head)[:-1] + b',"numberMatched":%d,"features":[' % len(positions)
    for i in range(0, len(positions), CHUNK):
        chunk = b",".join(lf.feature_bytes(positions[i : i + CHUNK], crs))
        yield chunk if i == 0 else b"," + chunk
    yield b"]}"


def iter_geojson_gzip(lf: LayerFeatures, positions: np.ndarray, *, name: str | None = None) -> Iterator[bytes]:
    """`iter_geojson` in CRS84, gzip-encoded from per-feature segments, chunk by chunk."""
    gz = GzipMember()
    head = orjson.dumps({"type": "FeatureCollection", "name": name or lf.layer_id})
    gz.plain(head[:-1] + b',"numberMatched":%d,"features":[' % len(positions))
    for i in range(0, len(positions), CHUNK):
        lf.add_gzip(gz, positions[i : i + CHUNK], first=(i == 0))
        yield gz.take()
    gz.plain(b"]}")
    yield gz.finish()


def write_gpkg(lf: LayerFeatures, positions: np.ndarray, path, crs: SupportedCrs | None = None) -> None:
    """The rows as a GeoPackage layer named after the collection."""
    import pyogrio

    gdf = lf.frame_for(positions, crs)
    pyogrio.write_dataframe(gdf, path, layer=lf.layer_id, driver="GPKG", geometry_type=None, promote_to_multi=None)


def iter_csv(lf: LayerFeatures, positions: np.ndarray, crs: SupportedCrs | None = None) -> Iterator[bytes]:
    """CSV (UTF-8 with BOM for spreadsheets): the properties, point x/y columns, then WKT."""
    crs = crs or crs84()
    points = all(t in ("Point", None) for t in lf.frame.geometry.iloc[:50].geom_type.unique())
    xy_names = ("lon", "lat") if crs.geographic else ("x", "y")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["id", *lf.property_names, *(xy_names if points else ()), "wkt"])
    yield "\ufeff".encode() + buf.getvalue().encode()
    for i in range(0, len(positions), CHUNK):
        part = positions[i : i + CHUNK]
        sub = lf.frame_for(part, crs)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        geoms = sub.geometry.values
        wkt = shapely.to_wkt(geoms, rounding_precision=crs.decimals, trim=True)
        if points:
            xs, ys = shapely.get_x(geoms), shapely.get_y(geoms)
        cols = [sub[c].to_numpy(dtype=object) for c in lf.property_names]
        for j, fid in enumerate(lf.ids[part]):
            row = [
                int(fid),
                *(
                    "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else v
                    for v in (c[j] for c in cols)
                ),
            ]
            if points:
                row += [
                    "" if np.isnan(xs[j]) else round(float(xs[j]), crs.decimals),
                    "" if np.isnan(ys[j]) else round(float(ys[j]), crs.decimals),
                ]
            row.append(wkt[j] or "")
            w.writerow(row)
        yield buf.getvalue().encode()


# --------------------------------------------------------------------------- queryables

_JSON_TYPES = {
    "code": "string",
    "name": "string",
    "text": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
}
_GEOM_FORMATS = {
    "Point": "geometry-point",
    "MultiLineString": "geometry-multilinestring",
    "MultiPolygon": "geometry-multipolygon",
}


def queryables(lf: LayerFeatures, fields: Sequence | None, geometry_type: str, lang: str = "vi") -> dict:
    """JSON Schema of the properties a filter may use (catalog titles where known)."""
    by_name = {f.name: f for f in (fields or ())}
    props: dict[str, dict] = {
        GEOMETRY_PROPERTY: {
            "title": "Geometry",
            "format": _GEOM_FORMATS.get(geometry_type, "geometry-any"),
            "x-ogc-role": "primary-geometry",
        }
    }
    for name in lf.property_names:
        f = by_name.get(name)
        if f is not None:
            d = {"title": f.title(lang), "type": _JSON_TYPES.get(f.type, "string")}
            if f.unit:
                d["x-ogc-unit"] = f.unit
        else:
            dt = lf.frame[name].dtype
            t = (
                "boolean"
                if pd.api.types.is_bool_dtype(dt)
                else "integer"
                if pd.api.types.is_integer_dtype(dt)
                else "number"
                if pd.api.types.is_numeric_dtype(dt)
                else "string"
            )
            d = {"title": name, "type": t}
        props[name] = d
    return {"type": "object", "properties": props, "additionalProperties": False}


# --------------------------------------------------------------------------- per-store cache


def indicator_columns(store, indicators_db, layer_id: str, year: int | None) -> pd.DataFrame | None:
    """Reported indicator values to join onto a commune layer, indexed by commune_code.

    One column per indicator that has values for the layer's unit vintage: the value of `year`,
    or (year None) each commune's latest value with its year in `<name>_year`. None when the
    layer takes no indicators or there are none; a `year` without any value is refused.
    """
    from geoborder.indicators.catalog import LAYER_VINTAGE

    vintage = LAYER_VINTAGE.get(layer_id)
    if vintage is None:
        if year is not None:
            raise InvalidParameter(
                f"year: {layer_id} carries no indicator values; commune layers do ({', '.join(LAYER_VINTAGE)})"
            )
        return None
    available = indicators_db.available(vintage) if indicators_db is not None else {}
    if year is not None:
        years = sorted({y for ys in available.values() for y in ys})
        if year not in years:
            raise InvalidParameter(
                f"year: no indicator values for {year} on {vintage} units; years "
                f"with values: {', '.join(map(str, years)) or 'none (nothing imported)'}"
            )
        available = {n: ys for n, ys in available.items() if year in ys}
    if not available:
        return None
    cols = {}
    for name in available:
        cur = indicators_db.current(name, vintage=vintage, year=year).set_index("commune_code")
        cols[name] = cur["value"]
        if year is None:
            cols[f"{name}_year"] = cur["year"].astype("Int64")
    return pd.DataFrame(cols)


class FeatureCache:
    """The LayerFeatures of one store, made at first use of each layer (one per process), and
    remade when the store switches to another data version (PostGIS publish / rollback).

    Commune layers also come with the reported indicator values joined on (see
    indicator_columns), cached by indicator-database revision and year."""

    def __init__(self, store: Store):
        self.store = store
        self._layers: dict[tuple[str, str], LayerFeatures] = {}
        self._joined: dict[tuple, LayerFeatures] = {}
        self._lock = threading.Lock()

    def get(
        self, layer_id: str, indicators_db=None, year: int | None = None, revision: str | None = None
    ) -> LayerFeatures:
        """`revision`: the indicator database's revision if the caller already read it (the
        conditional-GET middleware does, for the ETag), so it is not read twice per request."""
        base = self._base(layer_id)
        if indicators_db is None and year is None:
            return base
        if indicators_db is None:
            revision = ""
        elif revision is None:
            revision = indicators_db.revision()
        key = (self.store.version, layer_id, revision, year)
        lf = self._joined.get(key)
        if lf is None:
            extra = indicator_columns(self.store, indicators_db, layer_id, year)
            lf = base if extra is None else base.with_columns(extra, on="commune_code")
            with self._lock:  # keep the joins of the current revision only
                self._joined = {k: v for k, v in self._joined.items() if k[:3] == key[:3] or k[1] != layer_id}
                self._joined[key] = lf
        return lf

    def _make(self, layer_id: str, info: LayerInfo) -> LayerFeatures:
        frame, engine = self.store.items(layer_id)
        return LayerFeatures(layer_id, frame, info.key_field, engine)

    def peek(self, layer_id: str, indicator_revision: str = "") -> LayerFeatures | None:
        """The LayerFeatures `get(layer_id, db)` would return (no year), if it is already made
        (for the current store version and indicator revision, "" without a database), else None:
        never reads or joins anything."""
        version = self.store.version
        if not indicator_revision:
            return self._layers.get((version, layer_id))
        return self._joined.get((version, layer_id, indicator_revision, None))

    def _base(self, layer_id: str) -> LayerFeatures:
        version = self.store.version
        key = (version, layer_id)
        lf = self._layers.get(key)
        if lf is None:
            info = self.store.layer(layer_id)  # NotFound for an unknown collection
            with self._lock:
                lf = self._layers.get(key)
                if lf is None:
                    lf = self._make(layer_id, info)
                    # keep only the current version's layers
                    self._layers = {k: v for k, v in self._layers.items() if k[0] == version}
                    self._layers[key] = lf
        return lf
