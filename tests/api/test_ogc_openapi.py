"""The OpenAPI definition: OpenAPI 3.0, self-contained, OGC parameter shapes, and a document that
tells the truth: JSON answers with schemas (api/models.py) that real answers validate against,
every error status documented, `f` offering only what is served, bounded tile coordinates.
(schemathesis with every check runs in test_schemathesis.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.realpack


def _refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append(v)
            else:
                _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


@pytest.fixture(scope="module")
def doc(client):
    r = client.get("/api")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    return r.json()


def test_openapi_is_30_and_self_contained(doc):
    assert doc["openapi"].startswith("3.0.")
    refs = _refs(doc, [])
    assert refs, "expected local component references"
    assert all(r.startswith("#/") for r in refs), [r for r in refs if not r.startswith("#/")]
    # every local reference resolves
    for r in set(refs):
        node = doc
        for part in r[2:].split("/"):
            node = node[part]


def test_openapi_validates_against_the_oas30_schema(doc):
    """The OpenAPI 3.0 meta-schema bundled with the OGC test suite (no network needed)."""
    import ogctests
    from openapi_schema_validator import OAS30Validator, validate

    meta = yaml.safe_load((Path(ogctests.__file__).parent / "features/schemas/openapi_schema_v3.0.yaml").read_text())
    validate(doc, meta, cls=OAS30Validator)


def test_items_parameters_have_the_ogc_shapes(doc):
    params = {p["name"]: p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    bbox = params["bbox"]
    assert bbox["in"] == "query" and not bbox.get("required")
    assert bbox["schema"] == {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
    assert bbox["style"] == "form" and bbox["explode"] is False
    assert params["limit"]["schema"]["type"] == "integer"
    assert params["limit"]["schema"]["maximum"] >= 1000
    assert params["datetime"]["schema"]["type"] == "string"
    for name in ("crs", "bbox-crs", "filter", "filter-lang", "filter-crs", "sortby", "offset", "f"):
        assert name in params, name
    responses = doc["paths"]["/collections/{collectionId}/items"]["get"]["responses"]
    assert "422" not in responses and {"200", "400", "404"} <= set(responses)


JSON_MEDIA = ("application/json", "application/geo+json", "application/schema+json")


def _ops(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict):
                yield path, method, op


def test_every_json_answer_has_a_schema_that_is_not_a_string(doc):
    bad = []
    for path, method, op in _ops(doc):
        for code, r in op["responses"].items():
            for media, c in (r.get("content") or {}).items():
                if media in JSON_MEDIA and c.get("schema") in (None, {}, {"type": "string"}):
                    bad.append(f"{method.upper()} {path} {code} {media}")
    assert bad == []


def test_errors_are_documented_and_uploads_are_binary(doc):
    for path, method, op in _ops(doc):
        codes = set(op["responses"])
        assert {"400", "500"} <= codes, (method, path)
        assert "HTTPValidationError" not in str(op["responses"]), (method, path)  # FastAPI's 422 is a 400 here
        if method == "get":
            assert "422" not in codes, path
        if "{" in path:
            assert "404" in codes, (method, path)
        for code, r in op["responses"].items():
            if code[0] in "45":
                assert r["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Exception"}
    upload = doc["paths"]["/indicators/imports"]["post"]
    # 422 is a real answer of the upload (a rejected file, with its report): it stays documented
    assert set(upload["responses"]) >= {"201", "401", "403", "409", "422"} and "200" not in upload["responses"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert doc["components"]["schemas"][body]["properties"]["file"]["format"] == "binary"


def test_tile_coordinates_are_bounded(doc):
    for path, _, op in _ops(doc):
        for p in op.get("parameters", []):
            if "/tiles/" in path and p["name"] in ("z", "x", "y"):
                assert p["schema"]["minimum"] == 0 and p["schema"]["maximum"] == (18 if p["name"] == "z" else 2**18 - 1)


#: operations that answer only with one of several parameters (no one of them is required alone)
NEEDS = {"/queries/nearest-gates": {"commune": "04240"}}


def test_every_offered_format_is_served(client, doc):
    """`f` offers only what the operation serves: each value of the enum is answered (not a 400)."""
    checked = 0
    for path, method, op in _ops(doc):
        f = [p for p in op.get("parameters", []) if p["name"] == "f"]
        required = [p for p in op.get("parameters", []) if p.get("required") and p["in"] == "query"]
        if not f or method != "get" or required:
            continue
        url = path.replace("{collectionId}", "provinces_2025").replace("{featureId}", "14")
        if "{" in url:
            continue
        for value in f[0]["schema"]["enum"]:
            # a rule the schema cannot mark required (nearest-gates: exactly one origin)
            r = client.get(url, params={"f": value, **NEEDS.get(path, {})})
            assert r.status_code == 200, (url, value, r.text[:200])
            checked += 1
    assert checked >= 14


def _resolve(doc, schema):
    """The document's schema with every local $ref inlined (for the validator)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            node = doc
            for part in schema["$ref"][2:].split("/"):
                node = node[part]
            return _resolve(doc, node)
        return {k: _resolve(doc, v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(doc, v) for v in schema]
    return schema


REAL_ANSWERS = [
    "/health",
    "/layers",
    "/layers/gates",
    "/indicators",
    "/indicators/imports",
    "/indicators/population/values?vintage=2025",
    "/maps/legend?indicator=density",
    "/maps/lookup?indicator=density&lon=103.9&lat=21.3",
    "/queries/nearest-gates?lon=103.9&lat=21.3&k=2",
    "/queries/commune-profile?code=04045",
    "/queries/touching?unit=LA-HO",
    "/collections",
    "/collections/gates",
    "/collections/gates_unplaced",
    "/collections/gates_unplaced/items",
    "/collections/gates_unplaced/items/bac-dai",
    "/conformance",
]


@pytest.mark.parametrize("url", REAL_ANSWERS)
def test_real_answers_validate_against_the_documents_own_schemas(client, doc, url):
    from openapi_schema_validator import OAS30Validator, validate

    path = url.split("?")[0]
    template = path if path in doc["paths"] else None
    if template is None:  # the path template the url matches
        template = next(p for p in doc["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path))
    r = client.get(url)
    assert r.status_code == 200, r.text[:300]
    media = r.headers["content-type"].split(";")[0]
    content = doc["paths"][template]["get"]["responses"]["200"]["content"]
    assert media in content, (url, media, list(content))
    validate(r.json(), _resolve(doc, content[media]["schema"]), cls=OAS30Validator)
