"""Shared fixtures: the real source pack, a store built from it once per session, an app on it.

Tests that need the real pack fail with a clear message under CI (CI=true) when it is missing,
and are skipped elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from testenv import IN_CI

from geoborder.core.settings import StoreSettings

# no background warm-up in test apps (tests/api/test_warmup.py turns it on)
os.environ.setdefault("GEOBORDER_WARMUP", "0")

# the PostgreSQL/PostGIS test cluster and the fixtures on it (tests of the PostGIS store)
pytest_plugins = ["pg_fixtures"]


def real_pack_path() -> Path | None:
    return StoreSettings().resolved_pack()


@pytest.fixture(scope="session")
def real_pack() -> Path:
    pack = real_pack_path()
    if pack is None or not (pack / "MANIFEST.md").exists():
        msg = (
            "the real source pack is missing: expected ../shared/data beside the checkout "
            "or GEOBORDER_PACK pointing at it"
        )
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return pack


@pytest.fixture(scope="session")
def real_store_path(real_pack, tmp_path_factory) -> Path:
    """The real pack built once per test session into a temporary GeoPackage, with its features
    file and tile file beside it, as `geoborder build` and `geoborder run` write them."""
    from geoborder.build.pipeline import build
    from geoborder.features.cache import ensure_feature_file
    from geoborder.tiles.render import ensure_tile_file

    path = tmp_path_factory.mktemp("store") / "geoborder.gpkg"
    build(real_pack, path, emit=lambda m: None)
    ensure_feature_file(path)
    ensure_tile_file(path)
    return path


# GEOBORDER_TEST_STORE=postgis: the store behind `real_store` and `client` is the real store
# published into the test PostGIS cluster, so the same API tests run against both
# implementations (`make test` runs the tests marked `parity`, tests/api/, a second time this way)
TEST_STORE = os.environ.get("GEOBORDER_TEST_STORE", "gpkg").lower()


@pytest.fixture(scope="session")
def real_store(real_store_path, request):
    from geoborder.store.open import open_store

    if TEST_STORE == "postgis":
        from geoborder.store.postgis.store import PostgisStore

        store = PostgisStore(request.getfixturevalue("published_url"), refresh_seconds=0)
        yield store
        store.close()
        return
    if TEST_STORE != "gpkg":
        pytest.fail(f"GEOBORDER_TEST_STORE={TEST_STORE!r}: use gpkg (default) or postgis")
    yield open_store(real_store_path)


@pytest.fixture(scope="session")
def client(real_store, tmp_path_factory):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.open import open_indicators

    # a throwaway indicator database: tests never write into var/
    db = open_indicators(tmp_path_factory.mktemp("indicators") / "indicators.sqlite")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c
