"""`open_store`: the one place that chooses a store implementation."""

from __future__ import annotations

from pathlib import Path

from geoborder.core.catalog import Catalog
from geoborder.core.settings import is_postgres_url
from geoborder.store.base import Store
from geoborder.store.gpkg import GpkgStore


def open_store(path: Path | str, catalog: Catalog | None = None) -> Store:
    """The store named by GEOBORDER_STORE: a postgresql:// URL gives a PostgisStore (see
    geoborder.store.postgis.store), anything else a GpkgStore."""
    if is_postgres_url(path):
        from geoborder.core.settings import StoreSettings
        from geoborder.store.postgis.store import PostgisStore

        settings = StoreSettings()
        return PostgisStore(
            path, catalog, refresh_seconds=settings.store_refresh_seconds, pool_size=settings.store_pool_size
        )
    return GpkgStore(path, catalog)
