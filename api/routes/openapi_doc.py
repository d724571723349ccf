"""The service's OpenAPI 3.0 document, self-contained (no remote $ref), served at /api (ogc_openapi.py).

FastAPI writes OpenAPI 3.1; OGC API - Features Part 1 asks for 3.0 (and so do GDAL, QGIS and the
OGC test suite), so the generated document is rewritten to 3.0 here: nullable instead of
`type: null`, `example` instead of schema `examples`, no `const`; the `bbox` parameter gets the
array definition of /req/core/fc-bbox-definition; 422 becomes 400 with the OGC exception schema.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from . import ogc_http as h

REF = "#/components/schemas/"

_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "hreflang": {"type": "string"},
        "title": {"type": "string"},
        "length": {"type": "integer"},
    },
}
_LINKS = {"type": "array", "items": {"$ref": REF + "Link"}}
_GEOMETRY = {
    "type": "object",
    "nullable": True,
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
                "GeometryCollection",
            ],
        },
        "coordinates": {"type": "array", "items": {}},
        "geometries": {"type": "array", "items": {}},
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"$ref": REF + "Geometry"},
        "properties": {"type": "object", "nullable": True},
        "links": _LINKS,
    },
}
SCHEMAS: dict[str, dict] = {
    "Link": _LINK,
    "Exception": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
    },
    "LandingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": _LINKS},
    },
    "Conformance": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "Collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "links": _LINKS,
            "itemType": {"type": "string"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
            "extent": {
                "type": "object",
                "properties": {
                    "spatial": {
                        "type": "object",
                        "properties": {
                            "bbox": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                            },
                            "crs": {"type": "string"},
                        },
                    }
                },
            },
        },
    },
    "Collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "collections": {"type": "array", "items": {"$ref": REF + "Collection"}},
            "crs": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Queryables": {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"type": "string"},
            "properties": {"type": "object"},
            "$id": {"type": "string"},
            "$schema": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    "Geometry": _GEOMETRY,
    "FeatureGeoJSON": _FEATURE,
    "FeatureCollectionGeoJSON": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": REF + "FeatureGeoJSON"}},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
}

ERR = {"content": {h.JSON: {"schema": {"$ref": REF + "Exception"}}}}
HTML_CONTENT = {h.HTML: {"schema": {"type": "string"}}}


def responses_for(
    schema: str, *, html: bool = False, not_found: bool = False, media: str = h.JSON, extra_media: dict | None = None
) -> dict:
    """The `responses` of an OGC operation: 200 (JSON schema + HTML), 304, 400, 404, 500."""
    content = {media: {"schema": {"$ref": REF + schema}}}
    if html:
        content.update(HTML_CONTENT)
    content.update(extra_media or {})
    out: dict[Any, dict] = {
        200: {"description": "OK", "content": content},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        400: {"description": "A parameter is malformed or unknown", **ERR},
        500: {"description": "Server error", **ERR},
    }
    if not_found:
        out[404] = {"description": "No such collection or feature", **ERR}
    return out


# --------------------------------------------------------------------------- 3.1 -> 3.0


def _schema_30(s: Any) -> Any:
    if isinstance(s, list):
        return [_schema_30(x) for x in s]
    if not isinstance(s, dict):
        return s
    s = {k: _schema_30(v) for k, v in s.items()}
    for key in ("anyOf", "oneOf"):
        if key in s and any(isinstance(x, dict) and x.get("type") == "null" for x in s[key]):
            rest = [x for x in s[key] if not (isinstance(x, dict) and x.get("type") == "null")]
            del s[key]
            if len(rest) == 1:
                only = rest[0]
                if "$ref" in only:
                    s["allOf"] = [only]
                else:
                    s.update(only)
            else:
                s[key] = rest
            s["nullable"] = True
    if isinstance(s.get("type"), list):
        types = [t for t in s["type"] if t != "null"]
        if len(types) < len(s["type"]):
            s["nullable"] = True
        if len(types) == 1:
            s["type"] = types[0]
        else:
            del s["type"]  # several types: OpenAPI 3.0 has no type list; leave it unconstrained
    if "$ref" in s:  # siblings of $ref are ignored in 3.0: keep only the reference
        s = {"$ref": s["$ref"]}
    if "examples" in s and isinstance(s["examples"], list):
        ex = s.pop("examples")
        if ex:
            s["example"] = ex[0]
    if "const" in s:
        s["enum"] = [s.pop("const")]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if bound in s and not isinstance(s[bound], bool):
            s[flag] = s.pop(bound)
            s[bound] = True
    for drop in ("contentMediaType", "contentEncoding", "$schema", "prefixItems"):
        s.pop(drop, None)
    return s


BBOX_SCHEMA = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}


def to_openapi_30(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc["openapi"] = "3.0.3"
    comps = doc.setdefault("components", {})
    schemas = comps.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for name, s in list(schemas.items()):
        schemas[name] = _schema_30(s)
    schemas.update(copy.deepcopy(SCHEMAS))
    for path, item in doc.get("paths", {}).items():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for prm in op.get("parameters", []):
                if "schema" in prm:
                    prm["schema"] = _schema_30(prm["schema"])
                if prm.get("in") == "query":
                    prm["style"] = "form"
                    prm["explode"] = False
                if prm.get("name") == "bbox" and prm.get("in") == "query":
                    prm["schema"] = dict(BBOX_SCHEMA)
                    prm.pop("examples", None)
                    prm["example"] = [103.5, 21.0, 104.5, 22.0]
            responses = op.get("responses", {})
            if path == "/":
                responses["200"] = {
                    "description": "OK",
                    "content": {h.JSON: {"schema": {"$ref": REF + "LandingPage"}}, **copy.deepcopy(HTML_CONTENT)},
                }
            if path == "/api":
                responses["200"] = {
                    "description": "OK",
                    "content": {h.OPENAPI_JSON: {"schema": {"type": "object"}}, **copy.deepcopy(HTML_CONTENT)},
                }
            if "422" in responses:
                del responses["422"]
                responses.setdefault(
                    "400", {"description": "A parameter is malformed or unknown", **copy.deepcopy(ERR)}
                )
            for r in responses.values():
                for media in (r.get("content") or {}).values():
                    if "schema" in media:
                        media["schema"] = _schema_30(media["schema"])
    return doc


def install(app: FastAPI) -> None:
    """Serve the 3.0 document at /openapi.json and /api (one line in create_app)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            raw = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = to_openapi_30(raw)
        return app.openapi_schema

    app.openapi = openapi
