"""`open_store`: the one place that chooses a store implementation."""

from __future__ import annotations

from pathlib import Path

from geoborder.core.catalog import Catalog
from geoborder.core.settings import StoreSettings, is_postgres_url
from geoborder.store.base import Store
from geoborder.store.gpkg import GpkgStore


def open_store(location: Path | str, catalog: Catalog | None = None, *, settings: StoreSettings | None = None) -> Store:
    """The store at `location`: a postgresql:// URL gives a PostgisStore (see
    geoborder.store.postgis.store), anything else a GpkgStore (a GeoPackage path).

    `settings`: the caller's settings (the ones given to `create_app`, or the CLI's), for the
    PostGIS refresh interval and pool size; without them the defaults hold. The environment is
    read where a StoreSettings is made, never here."""
    if is_postgres_url(location):
        from geoborder.store.postgis.connection import DEFAULT_POOL_SIZE
        from geoborder.store.postgis.store import DEFAULT_REFRESH_SECONDS, PostgisStore

        refresh = settings.store_refresh_seconds if settings is not None else DEFAULT_REFRESH_SECONDS
        pool = settings.store_pool_size if settings is not None else DEFAULT_POOL_SIZE
        return PostgisStore(str(location), catalog, refresh_seconds=refresh, pool_size=pool)
    return GpkgStore(Path(location), catalog)
