"""`LayerFeatures`: one layer prepared for OGC API - Features.

It wraps one layer of the store (a GeoDataFrame in CRS84 lon/lat, indexed by fid) and answers item
queries: the store's items engine selects what it can (PostGIS: in SQL); the rest is selected here
(bbox by spatial index, property equality, CQL2 masks, sortby, paging). The GeoJSON of every
feature in CRS84 is made once (orjson properties + GEOS geometry): read from the store's features
file, or built at first use of the layer (geoborder.features.text), so a page is a concatenation
of bytes; other CRSs reproject only the geometries of the page.

Feature ids: a layer with a key (catalog `key`, unique and never null) is identified by its key
value, in URLs and in the GeoJSON `id` (a string for text keys such as "00715", a number for
integer keys): keys are stable across builds, fids are not. Layers without a key use the fid.

Hook for other modules (e.g. indicators joined onto communes): `LayerFeatures.with_columns(df)`
returns a new `LayerFeatures` with extra property columns, served the same way; with `in_time`
(the gates for a `datetime=`: those in operation then), a query's `datetime` selects the features
it marks, the others are left out (layers without it: every feature matches, as OGC API -
Features says of features without a temporal property).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from geoborder.core.crs import SupportedCrs, geoms_to
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.features.filter import evaluate_filter
from geoborder.features.gzip import GzipMember
from geoborder.features.precision import keep_valid
from geoborder.features.query import ItemQuery, bbox_parts
from geoborder.features.text import FileText, HeldText
from geoborder.store.base import IN_MEMORY_ITEMS, ItemsEngine

_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True)
class Selection:
    positions: np.ndarray  # row positions of the page, in order
    matched: int  # numberMatched


def _id_field(frame: pd.DataFrame, key_field: str | None) -> str | None:
    """The key column when it can identify features (present, never null, unique), else None."""
    if not key_field or key_field not in frame.columns:
        return None
    col = frame[key_field]
    return key_field if col.notna().all() and col.is_unique else None


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
        in_time: np.ndarray | None = None,
        text: FileText | None = None,
    ):
        self.layer_id = layer_id
        # a boolean per row: the features a query's `datetime` selects (None: every feature)
        self.in_time = in_time
        # the store's items engine: on PostGIS the selection and other-CRS geometries are SQL
        self.engine = engine
        self.frame = frame
        self.key_field = key_field
        self.property_names: list[str] = [c for c in frame.columns if c != frame.geometry.name]
        self.ids = frame.index.to_numpy()  # fids: what store engines select by
        self._pos = {int(fid): i for i, fid in enumerate(self.ids)}
        # the feature id of each row: the key value where the layer has a usable key, else the fid
        self.id_field = _id_field(frame, key_field)
        if self.id_field is None:
            self.feature_ids: list = [int(f) for f in self.ids]
        else:
            col = frame[self.id_field]
            as_int = pd.api.types.is_integer_dtype(col.dtype)
            self.feature_ids = [int(v) if as_int else str(v) for v in col.to_numpy(dtype=object)]
        self._by_key: dict[str, int] | None = None  # key value -> row position, made on first use
        # the GeoJSON of every feature (geoborder.features.text): the store's features file, or
        # built here at first use
        self._text: FileText | HeldText | None = text
        self._lock = threading.Lock()
        self._all = np.arange(len(frame))

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def prepared(self) -> bool:
        """The per-feature GeoJSON is at hand (read from the features file, or built at first use)."""
        return self._text is not None

    @property
    def from_file(self) -> bool:
        """The features' GeoJSON is read from the store's features file (not held in memory)."""
        return isinstance(self._text, FileText)

    def read_from(self, text: FileText) -> None:
        """Serve the features' GeoJSON from the store's features file (checked to be this layer's)."""
        with self._lock:
            self._text = text

    def prepare(self, gzip: bool = False) -> None:
        """Make the per-feature GeoJSON now (and, with `gzip`, every deflate segment): the warm-up."""
        text = self._built()
        if gzip:
            text.segments()

    # ----------------------------------------------------------------- hook
    def with_columns(
        self, extra: pd.DataFrame, on: str | None = None, in_time: pd.Series | None = None
    ) -> LayerFeatures:
        """A new LayerFeatures with `extra` columns joined on `on` (default: the layer key).

        For other modules that add values to a layer (indicators on communes): `extra` is indexed
        by the key values (or has an `on` column); rows without a match get nulls. Existing
        columns of the same name are replaced. `in_time`: a boolean per key value, the features a
        query's `datetime` selects (rows without a value are not selected).
        """
        on = on or self.key_field
        if on is None or on not in self.frame.columns:
            raise InvalidParameter(f"layer {self.layer_id} has no key column {on!r} to join on")
        if on in extra.columns:
            extra = extra.set_index(on)
        replaced = [c for c in extra.columns if c in self.frame.columns]
        joined = self.frame.drop(columns=replaced).join(extra, on=on)
        mask = None
        if in_time is not None:
            mask = self.frame[on].map(in_time).fillna(False).to_numpy(dtype=bool)
        # the joined columns exist only in memory: a query naming one is selected in memory
        return LayerFeatures(
            self.layer_id,
            gpd.GeoDataFrame(joined, geometry=self.frame.geometry.name, crs=self.frame.crs),
            self.key_field,
            self.engine.excluding(replaced),
            mask,
        )

    # ----------------------------------------------------------------- serialisation
    def _property_rows(self):
        """The properties of each row, as the dicts its GeoJSON serialises."""
        df = self.frame[self.property_names]
        cols = [df[c].to_numpy(dtype=object) for c in self.property_names]
        names = self.property_names
        for row in zip(*cols):
            yield {k: _json_value(v) for k, v in zip(names, row)}

    def serialised(self) -> tuple[list[bytes], np.ndarray]:
        """The GeoJSON of every feature (CRS84, as stored) and where its properties start."""
        # one feature at a time, its pieces dropped at once: an orjson result holds a buffer of
        # >= 4 kB whatever its length, so holding the properties of every feature as bytes of
        # their own took 112 MB on the commune layers (and left the heap in holes once freed)
        geoms = shapely.to_geojson(self.frame.geometry.values)
        features: list[bytes] = []
        starts = np.empty(len(geoms), dtype=np.int64)  # where the properties start in each feature
        for i, (f, g, row) in enumerate(zip(self.feature_ids, geoms, self._property_rows())):
            head = b'{"type":"Feature","id":%s,"geometry":%s,"properties":' % (
                orjson.dumps(f),
                b"null" if g is None else g.encode(),
            )
            starts[i] = len(head)
            features.append(b"".join((head, orjson.dumps(row, option=_ORJSON), b"}")))
        return features, starts

    def _built(self) -> FileText | HeldText:
        """The features' text: from the features file, or built here on first use."""
        text = self._text
        if text is None:
            with self._lock:
                if self._text is None:
                    self._text = HeldText(*self.serialised())
                text = self._text
        return text

    def _geometry_json(self, positions: np.ndarray, crs: SupportedCrs) -> list[bytes]:
        if crs.is_crs84:  # not rounded: as stored
            geoms = self.frame.geometry.values[positions]
        else:  # rounded to about 1 cm: what rounding made invalid is snapped to that grid instead
            if self.engine.can_transform(crs):
                geoms = self.engine.transformed(self.ids[positions], crs)  # ST_Transform
            else:
                geoms = geoms_to(self.frame.geometry.values[positions], crs)
            geoms = keep_valid(geoms, self.frame.geometry.values[positions], crs.decimals)
        return [b"null" if s is None else s.encode() for s in shapely.to_geojson(geoms)]

    def feature_bytes(self, positions: np.ndarray, crs: SupportedCrs | None = None) -> list[bytes]:
        """The GeoJSON Feature of each row position, in `crs` (default CRS84)."""
        text = self._built()
        if crs is None or crs.is_crs84:
            return text.features(positions)
        geoms = self._geometry_json(positions, crs)
        fids = self.feature_ids
        return [
            b'{"type":"Feature","id":%s,"geometry":%s,"properties":%s}' % (orjson.dumps(fids[i]), g, props)
            for i, g, props in zip(positions, geoms, text.properties(positions))
        ]

    def features_joined(self, positions: np.ndarray, crs: SupportedCrs | None = None) -> bytes:
        """`feature_bytes` separated by commas (what a FeatureCollection holds)."""
        if crs is None or crs.is_crs84:
            return self._built().joined(positions)
        return b",".join(self.feature_bytes(positions, crs))

    def add_gzip(self, gz: GzipMember, positions: np.ndarray, first: bool = True) -> None:
        """Append the CRS84 features at `positions` (comma-separated) to a gzip member, from
        deflate segments made once per feature."""
        self._built().add_gzip(gz, positions, first)

    # ----------------------------------------------------------------- selection
    def feature_id(self, position: int):
        """The feature id of a row position (the key value, or the fid for a layer without a key)."""
        return self.feature_ids[position]

    def position(self, feature_id: str) -> int:
        """Row position of a feature id, as items give it: the key value on a layer with a key (a
        commune code "00715", a province code "14": never read as an fid), else the fid."""
        if self.id_field is not None:
            pos = self._key_positions().get(feature_id)
            if pos is not None:
                return pos
        elif feature_id.isascii() and feature_id.isdigit() and len(feature_id) <= 18:
            fid = int(feature_id)  # at most 18 digits: no int() of a 4,300-digit text
            if str(fid) == feature_id and fid in self._pos:
                return self._pos[fid]
        shown = feature_id if len(feature_id) <= 40 else feature_id[:40] + "..."
        raise NotFound(f"no feature {shown!r} in collection {self.layer_id!r}")

    def _key_positions(self) -> dict[str, int]:
        """Row position of each feature id (as text), made once."""
        if self._by_key is None:
            self._by_key = {str(v): i for i, v in enumerate(self.feature_ids)}
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
            return (col == (v in ("true", "1"))).fillna(False).to_numpy(dtype=bool)
        if pd.api.types.is_numeric_dtype(col):
            try:
                num = float(value)
            except ValueError:
                raise InvalidParameter(f"{name}: {value!r} is not a number") from None
            return (col == num).fillna(False).to_numpy(dtype=bool)  # Int64: nulls do not match
        return (col.astype(object) == value).to_numpy(dtype=bool)

    def select(self, q: ItemQuery) -> Selection:
        """Row positions of the page a query asks for, and how many features match in all.

        The store's items engine selects when it can (PostGIS: in SQL), unless the query names a
        property that exists only in memory (indicator values joined on), or a `datetime` this
        layer answers (`in_time`: selected in memory)."""
        in_time = self.in_time if q.datetime is not None else None  # None: not selected by date
        if in_time is None and self.engine.handles(q):
            fids, matched = self.engine.select(q)
            by_fid = self._pos
            return Selection(
                positions=np.fromiter((by_fid[int(f)] for f in fids), dtype=np.intp, count=len(fids)), matched=matched
            )
        pos: np.ndarray = self._all
        if q.bbox is not None:
            # a box crossing the antimeridian (minx > maxx) is two boxes
            boxes = shapely.box(*np.asarray(bbox_parts(q.bbox)).T)
            pos = np.unique(self.frame.sindex.query(boxes, predicate="intersects")[1])
        if in_time is not None:  # the features of the date(s) asked for; features of other layers always match
            pos = pos[in_time[pos]]
        if q.properties or q.filter is not None:
            sub = self.frame.iloc[pos] if len(pos) != len(self.frame) else self.frame
            mask = np.ones(len(pos), dtype=bool)
            for name, value in q.properties.items():
                mask &= self._property_mask(sub, name, value)
            if q.filter is not None:
                mask &= evaluate_filter(sub, q.filter, self.property_names, q.filter_crs)
            pos = pos[mask]
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
