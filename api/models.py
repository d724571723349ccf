"""Response models (pydantic) of the service's JSON answers, for the OpenAPI document.

The routes build their answers as plain dicts (the library's documents, orjson-encoded); these
models describe them in /api: routes declare them with `responses={200: {"model": ...}}`, and
openapi_doc.py attaches the ones of routes that only return a Response. Every model allows
extra members (a document may grow a member without breaking clients), and says which members
are always there and of what type. tests/api/test_ogc_openapi.py validates real answers
against the document's own schemas.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Link(_Open):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


# --------------------------------------------------------------------------- GeoJSON


class Geometry(_Open):
    type: Literal[
        "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"
    ]
    coordinates: list[Any] | None = None


class Feature(_Open):
    type: Literal["Feature"]
    id: str | int | None = None
    geometry: Geometry | None
    properties: dict[str, Any] | None


class QueryFeatureCollection(_Open):
    """The answer of a spatial question: a GeoJSON FeatureCollection with the question as resolved."""

    type: Literal["FeatureCollection"]
    query: dict[str, Any]
    numberMatched: int = Field(ge=0)
    numberReturned: int = Field(ge=0)
    features: list[Feature]


# --------------------------------------------------------------------------- records (no geometry)


class Record(_Open):
    """A feature without a location (OGC API - Records / Features Part 1: `geometry: null`)."""

    type: Literal["Feature"]
    id: str
    geometry: None
    properties: dict[str, Any]
    links: list[Link] = []


class RecordCollectionInfo(_Open):
    """/collections/{table}: a collection of records (itemType `record`)."""

    id: str
    title: str
    description: str
    itemType: Literal["record"]
    links: list[Link]


class RecordCollection(_Open):
    type: Literal["FeatureCollection"]
    features: list[Record]
    links: list[Link]
    timeStamp: str
    numberMatched: int = Field(ge=0)
    numberReturned: int = Field(ge=0)


# --------------------------------------------------------------------------- /health, /layers


class Health(_Open):
    status: str
    data_version: str
    built_at: str | None = None
    layers: int = Field(ge=0)


class LayerField(_Open):
    name: str
    type: str
    unit: str | None
    title: str


class UnplacedRecords(_Open):
    """The features of a layer kept without a location, with their reasons (a record collection)."""

    table: str
    count: int = Field(ge=0)
    reasons: dict[str, int]
    href: str


class Layer(_Open):
    id: str
    title: str
    title_vi: str
    title_en: str
    kind: str
    geometry_type: str
    key_field: str | None
    vintage: int | None
    feature_count: int = Field(ge=0, description="Features with a geometry (the collection's items)")
    total_count: int = Field(ge=0, description="feature_count plus the features kept without a location")
    unplaced: UnplacedRecords | None = Field(None, description="Point layers: the features without a location")
    bbox: list[float] | None
    source_file: str
    licence: str
    attribution: str
    source_vintage: str
    source_sha256: str
    repaired: int
    links: list[Link]


class LayerDetail(Layer):
    fields: list[LayerField]


class LayerList(_Open):
    data_version: str
    built_at: str | None
    layers: list[Layer]


# --------------------------------------------------------------------------- indicators


class Indicator(_Open):
    name: str
    title: str
    title_vi: str
    title_en: str
    unit: str | None
    type: str
    source: str


class IndicatorList(_Open):
    indicators: list[Indicator]


class ImportList(_Open):
    imports: list[dict[str, Any]]


class ImportReport(_Open):
    """One import with its report (what matched, what did not)."""


class ReformLinks(_Open):
    summary: dict[str, Any]
    count: int = Field(ge=0)
    units: list[dict[str, Any]]


class IndicatorValue(_Open):
    commune_code: str
    value: float | None


class IndicatorValues(_Open):
    indicator: Indicator
    vintage: int
    year: int | None
    count: int = Field(ge=0)
    values: list[IndicatorValue]


# --------------------------------------------------------------------------- maps


class LegendClass(_Open):
    class_: int = Field(alias="class")
    color: str
    lower: float | None
    upper: float | None
    label: str
    count: int = Field(ge=0)


class Legend(_Open):
    indicator: str
    title: str
    unit: str | None
    year: int | None
    vintage: int
    area: str
    classes: str
    k: int
    legend: list[LegendClass]
    links: dict[str, str]


class Lookup(_Open):
    lon: float
    lat: float
    commune: dict[str, Any] | None


# --------------------------------------------------------------------------- operations of others' routes

#: (method, path) -> (status, model) for the routes that return a Response without a model
#: (their modules are not the document's): openapi_doc.attach_models puts these in the document
ATTACHED: dict[tuple[str, str], tuple[int, type[BaseModel]]] = {
    ("get", "/health"): (200, Health),
    ("get", "/indicators"): (200, IndicatorList),
    ("get", "/indicators/imports"): (200, ImportList),
    ("post", "/indicators/imports"): (201, ImportReport),
    ("get", "/indicators/imports/{import_id}"): (200, ImportReport),
    ("get", "/indicators/links"): (200, ReformLinks),
    ("get", "/indicators/{name}/values"): (200, IndicatorValues),
    ("get", "/maps/legend"): (200, Legend),
    ("get", "/maps/lookup"): (200, Lookup),
}
