"""The OpenAPI definition: OpenAPI 3.0, self-contained, OGC parameter shapes, and a bounded
schemathesis run over the OGC operations (no 5xx, no response that contradicts the document)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.realpack

# /api itself is left out by schemathesis (it is the schema it loads); the tests above cover it
OGC_PATHS = {
    "/",
    "/conformance",
    "/collections",
    "/collections/{collectionId}",
    "/collections/{collectionId}/queryables",
    "/collections/{collectionId}/items",
    "/collections/{collectionId}/items/{featureId}",
}


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


def test_schemathesis_finds_no_server_error_and_no_schema_violation(real_store):
    """A bounded property-based run over every OGC operation (a few examples each, derandomised)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from api.main import create_app

    app = create_app(store=real_store)
    app.state.store = real_store  # the ASGI transport does not run the lifespan that sets it
    schema = schemathesis.openapi.from_asgi("/api", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    tested = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path not in OGC_PATHS or op.method.upper() != "GET":
            continue
        tested.append(f"{op.method.upper()} {op.path}")

        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def run(case):
            case.call_and_validate(checks=checks)

        run()
    assert len(tested) == len(OGC_PATHS)
    assert {
        "GET /collections/{collectionId}/items",
        "GET /collections/{collectionId}/items/{featureId}",
        "GET /collections/{collectionId}/queryables",
        "GET /conformance",
        "GET /collections",
    } <= set(tested)
