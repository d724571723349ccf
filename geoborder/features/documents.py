"""The documents made from a `LayerFeatures`: FeatureCollection pages (plain and gzip), streamed
whole-layer downloads (GeoJSON, GeoPackage, CSV) and the queryables schema."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import shapely

from geoborder.core.crs import SupportedCrs, crs84
from geoborder.features.gpkg_write import write_gpkg_layer
from geoborder.features.gzip import GzipMember
from geoborder.features.layer import LayerFeatures
from geoborder.features.precision import rounded
from geoborder.features.query import CHUNK, GEOMETRY_PROPERTY
from geoborder.features.records import TITLES as RECORD_TITLES


def feature_page(
    features: bytes, returned: int, *, matched: int, links: list[dict], timestamp: str | None = None
) -> bytes:
    """A FeatureCollection page of `returned` features, given comma-separated
    (LayerFeatures.features_joined), then the paging members."""
    tail = {
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": timestamp or now_rfc3339(),
        "links": links,
    }
    return b"".join((b'{"type":"FeatureCollection","features":[', features, b"],", orjson.dumps(tail)[1:]))


def feature_collection_gzip(
    lf: LayerFeatures, positions: np.ndarray, *, matched: int, links: list[dict], timestamp: str | None = None
) -> bytes:
    """The same document as `feature_page` (CRS84), gzip-encoded from per-feature segments."""
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
    head: dict[str, object] = {"type": "FeatureCollection", "name": name or lf.layer_id}
    if crs is not None and not crs.is_crs84:
        head["crs"] = {"type": "name", "properties": {"name": crs.uri}}
    yield orjson.dumps(head)[:-1] + b',"numberMatched":%d,"features":[' % len(positions)
    for i in range(0, len(positions), CHUNK):
        chunk = lf.features_joined(positions[i : i + CHUNK], crs)
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
    """The rows as a GeoPackage 1.2 layer named after the collection (geoborder.features.gpkg_write:
    without GDAL in the worker)."""
    write_gpkg_layer(lf.frame_for(positions, crs), Path(path), lf.layer_id)


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
        wkt = shapely.to_wkt(rounded(geoms, crs.decimals), rounding_precision=crs.decimals, trim=True)
        if points:
            xs, ys = shapely.get_x(geoms), shapely.get_y(geoms)
        cols = [sub[c].to_numpy(dtype=object) for c in lf.property_names]
        for j, pos in enumerate(part):
            row = [
                lf.feature_id(pos),
                *(
                    "" if v is None or v is pd.NA or (isinstance(v, float) and not np.isfinite(v)) else v
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
        if f is None and name in RECORD_TITLES:  # records joined on (gates, markers)
            title, t, fmt = RECORD_TITLES[name]
            props[name] = {"title": title, "type": t, **({"format": fmt} if fmt else {})}
            continue
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
