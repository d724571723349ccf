"""The service's OpenAPI 3.0 document, self-contained (no remote $ref), served at /api (ogc_openapi.py).

FastAPI writes OpenAPI 3.1; OGC API - Features Part 1 asks for 3.0 (and so do GDAL, QGIS and the
OGC test suite), so the generated document is rewritten to 3.0 here: nullable instead of
`type: null`, `example` instead of schema `examples`, no `const`; the `bbox` parameter gets the
array definition of /req/core/fc-bbox-definition; 422 becomes 400 with the OGC exception schema.

The document tells the truth about each operation (`tell_the_truth`): the JSON answers have the
schemas of api/models.py (no `{"type": "string"}` for a JSON body), every error status the service
answers is listed with the exception schema (400 for unknown or malformed parameters everywhere,
404 where a path names something, 500), `f` offers only the formats the operation serves, tile
z/x/y are bounded by the tile grid and uploads are `format: binary`.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from geoborder.core.tilegrid import MAX_ZOOM, MIN_ZOOM

from .. import models
from ..params import DOCUMENT_FORMATS, OgcFormat
from . import ogc_http as h

REF = "#/components/schemas/"

# the type of a route's `responses` (FastAPI's `responses` parameter): status -> OpenAPI response
Responses = dict[int | str, dict[str, Any]]

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

ERR: dict[str, Any] = {"content": {h.JSON: {"schema": {"$ref": REF + "Exception"}}}}
HTML_CONTENT: dict[str, Any] = {h.HTML: {"schema": {"type": "string"}}}


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


def _is_null(x: Any) -> bool:
    """A 3.1 `{"type": "null"}`, before or after _schema_30 rewrote it."""
    return isinstance(x, dict) and (x.get("type") == "null" or x.get("enum") == [None])


def _schema_30(s: Any) -> Any:
    if isinstance(s, list):
        return [_schema_30(x) for x in s]
    if not isinstance(s, dict):
        return s
    s = {k: _schema_30(v) for k, v in s.items()}
    for key in ("anyOf", "oneOf"):
        if key in s and any(_is_null(x) for x in s[key]):
            rest = [x for x in s[key] if not _is_null(x)]
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
    if s.get("type") == "null":  # 3.0 has no null type: a value that can only be null
        s.update(type="object", nullable=True, enum=[None])
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
    if s.get("type") == "string" and s.get("contentMediaType") == "application/octet-stream":
        s["format"] = "binary"  # an uploaded file (FastAPI writes the 3.1 spelling)
    for drop in ("contentMediaType", "contentEncoding", "$schema", "prefixItems"):
        s.pop(drop, None)
    return s


BBOX_SCHEMA = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}


# --------------------------------------------------------------------------- the truth per operation

#: the formats each operation serves (`f`); every other operation with `f` serves DOCUMENT_FORMATS
FORMATS: dict[str, tuple[OgcFormat, ...]] = {
    "/collections/{collectionId}/items": tuple(OgcFormat),
    # JSON-only documents (params.JsonFormat)
    "/layers": (OgcFormat.json,),
    "/layers/{layer_id}": (OgcFormat.json,),
}
JSON_MEDIA = (h.JSON, h.GEOJSON, h.SCHEMA_JSON, h.OPENAPI_JSON)
TILE_MAX = 2**MAX_ZOOM - 1
#: operations whose query parameters name things that may not exist (a unit, a saved area): 404
NAMED_BY_QUERY = ("/queries/", "/reports/")


def attach_models(doc: dict) -> None:
    """The models of api/models.py for the operations whose routes return a bare Response."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for (method, path), (status, model) in models.ATTACHED.items():
        op = doc.get("paths", {}).get(path, {}).get(method)
        if op is None:
            continue
        js = model.model_json_schema(ref_template=REF + "{model}", mode="serialization")
        for name, sub in js.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas.setdefault(model.__name__, js)
        r = op.setdefault("responses", {}).setdefault(str(status), {"description": "OK"})
        r.setdefault("content", {})[h.JSON] = {"schema": {"$ref": REF + model.__name__}}
        if str(status) != "200":
            op["responses"].pop("200", None)  # FastAPI's default 200 for a route that answers 201


def tell_the_truth(path: str, op: dict) -> None:
    """Responses and parameters of one operation as the service answers them."""
    responses = op.setdefault("responses", {})
    params = op.get("parameters", [])
    for code, r in responses.items():
        content = r.get("content") or {}
        # a JSON body without a schema (FastAPI's default media beside the declared one): drop it
        # when the operation declares its JSON answer under another media type, else say "object"
        for media in [m for m in content if m in JSON_MEDIA]:
            if content[media].get("schema") in ({}, {"type": "string"}, None):
                if any(m in JSON_MEDIA and content[m].get("schema") not in ({}, None) for m in content if m != media):
                    del content[media]
                else:
                    content[media]["schema"] = {"type": "object"}
        if code[0] in "45" and not content:
            r.update(copy.deepcopy(ERR))
    responses.setdefault("400", {"description": "A parameter is malformed or unknown", **copy.deepcopy(ERR)})
    if any(p.get("in") == "path" for p in params) or path.startswith(NAMED_BY_QUERY):
        responses.setdefault("404", {"description": "Not found (the message says what)", **copy.deepcopy(ERR)})
    if any(p.get("in") == "header" and p.get("name", "").lower() == "x-api-key" for p in params):
        responses.setdefault("401", {"description": "No API key (X-API-Key)", **copy.deepcopy(ERR)})
        responses.setdefault("403", {"description": "The API key is not valid", **copy.deepcopy(ERR)})
    responses.setdefault("500", {"description": "Server error", **copy.deepcopy(ERR)})
    ok = (responses.get("200") or {}).get("content") or {}
    if h.HTML in ok:  # an operation that answers HTML (map pages, f=html answers): its errors may be pages too
        for code, r in responses.items():
            if code[0] == "4":
                r.setdefault("content", {}).setdefault(h.HTML, {"schema": {"type": "string"}})
    for p in params:
        schema = p.get("schema", {})
        if p.get("name") == "f" and p.get("in") == "query":
            allowed = FORMATS.get(path, DOCUMENT_FORMATS)
            p["schema"] = {"type": "string", "enum": [f.value for f in allowed]}
        if "/tiles/" in path and p.get("in") == "path" and p.get("name") in ("z", "x", "y"):
            schema.setdefault("minimum", MIN_ZOOM if p["name"] == "z" else 0)
            schema.setdefault("maximum", MAX_ZOOM if p["name"] == "z" else TILE_MAX)


def _inline_nullable_refs(node: Any, schemas: dict) -> Any:
    """`allOf: [$ref], nullable: true` (a 3.1 `X | None`) says nothing to a 3.0 validator, which
    checks null against X: inline a nullable copy of X instead."""
    if isinstance(node, list):
        return [_inline_nullable_refs(x, schemas) for x in node]
    if not isinstance(node, dict):
        return node
    all_of = node.get("allOf")
    if node.get("nullable") and isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        target = schemas.get(all_of[0]["$ref"].rsplit("/", 1)[-1])
        if isinstance(target, dict):
            rest = {k: v for k, v in node.items() if k != "allOf"}
            return _inline_nullable_refs({**copy.deepcopy(target), **rest}, schemas)
    return {k: _inline_nullable_refs(v, schemas) for k, v in node.items()}


def to_openapi_30(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    attach_models(doc)
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
            if "HTTPValidationError" in str(responses.get("422", "")):  # FastAPI's own: answered as 400
                del responses["422"]
                responses.setdefault(
                    "400", {"description": "A parameter is malformed or unknown", **copy.deepcopy(ERR)}
                )
            tell_the_truth(path, op)
            for r in responses.values():
                for media in (r.get("content") or {}).values():
                    if "schema" in media:
                        media["schema"] = _schema_30(media["schema"])
    doc["components"]["schemas"] = _inline_nullable_refs(schemas, schemas)
    doc["paths"] = _inline_nullable_refs(doc.get("paths", {}), schemas)
    return doc


def install(app: FastAPI) -> None:
    """Serve the 3.0 document at /openapi.json and /api (one line in create_app)."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            raw = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = to_openapi_30(raw)
        return app.openapi_schema

    # FastAPI's documented hook (docs: "Extending OpenAPI") replaces `app.openapi` on the instance;
    # the class declares it as a method, so mypy refuses the assignment
    app.openapi = openapi  # type: ignore[method-assign]
