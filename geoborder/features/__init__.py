"""OGC API - Features on the store: item queries, selection, encoding and downloads.

query      the parameters of a request parsed and checked (bbox, datetime, CQL2, sortby): ItemQuery
filter     CQL2 evaluated in memory (pygeofilter -> pandas / shapely masks)
layer      LayerFeatures: one layer selected (the store's items engine first) and encoded
gzip       gzip pages made of per-feature deflate segments
documents  FeatureCollection pages, streamed downloads (GeoJSON, GeoPackage, CSV), queryables
cache      FeatureCache: the LayerFeatures of a store per data version, indicators joined on
"""

from geoborder.features.cache import FeatureCache, indicator_columns
from geoborder.features.documents import (
    feature_collection_gzip,
    feature_page,
    iter_csv,
    iter_geojson,
    iter_geojson_gzip,
    queryables,
    write_gpkg,
)
from geoborder.features.layer import LayerFeatures, Selection
from geoborder.features.query import (
    CHUNK,
    DEFAULT_LIMIT,
    GEOMETRY_PROPERTY,
    MAX_LIMIT,
    DatetimeInterval,
    ItemQuery,
    bbox_parts,
    parse_bbox,
    parse_datetime,
    parse_filter,
    parse_filter_json,
    parse_sortby,
)

__all__ = [
    "CHUNK",
    "DEFAULT_LIMIT",
    "GEOMETRY_PROPERTY",
    "MAX_LIMIT",
    "DatetimeInterval",
    "FeatureCache",
    "ItemQuery",
    "LayerFeatures",
    "Selection",
    "bbox_parts",
    "feature_page",
    "feature_collection_gzip",
    "indicator_columns",
    "iter_csv",
    "iter_geojson",
    "iter_geojson_gzip",
    "parse_bbox",
    "parse_datetime",
    "parse_filter",
    "parse_filter_json",
    "parse_sortby",
    "queryables",
    "write_gpkg",
]
