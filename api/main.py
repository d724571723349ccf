"""Assemble the service: settings -> store -> routers. Nothing happens at import time."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
from fastapi import Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from geoborder import __version__
from geoborder.core.cache import set_budget as set_cache_budget
from geoborder.core.heap import Keeper as HeapKeeper
from geoborder.core.heap import configure as configure_heap
from geoborder.core.settings import ApiSettings, StoreSettings
from geoborder.indicators.open import open_indicators
from geoborder.records.open import records_for
from geoborder.store.base import Store
from geoborder.store.open import open_store
from geoborder.warmup import Warmup
from web.assets import VENDOR_PREFIX, vendor_dirs

from . import errors
from .caching import ConditionalGetMiddleware, CORSMiddleware, HeadMiddleware, PinVersionMiddleware
from .fastlane import FastLane, LaneApp
from .params import check_query
from .responses import JSONResponse
from .routes import (
    health,
    landing,
    layers,
    maps,
    ogc_collections,
    ogc_conformance,
    ogc_items,
    ogc_openapi,
    openapi_doc,
    tiles,
)
from .routes import indicators as indicator_routes
from .routes import map_export as map_export_routes
from .routes import queries as query_routes
from .routes import records as record_routes
from .routes import reports as report_routes

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
# answers from this size on are gzipped for a client that takes it; level 9 costs seconds on a 10 MB layer
GZIP_MINIMUM_SIZE = 1024
GZIP_LEVEL = 1


def create_app(
    settings: ApiSettings | None = None,
    *,
    store: Store | None = None,
    store_settings: StoreSettings | None = None,
    indicators=None,
) -> FastAPI:
    """The app. Give a `store` (tests: a small in-memory one), or it opens the configured one.

    `indicators`: an IndicatorDB (tests: one in a temporary folder), else the configured file."""
    settings = settings or ApiSettings()
    # glibc's arenas capped and its mmap threshold fixed before the worker's threads first allocate
    # (geoborder/core/heap.py): the app is made first, whichever store it opens
    configure_heap()
    set_cache_budget(settings.cache_mb)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # the settings given reach the store: the environment is read once, here, when none are given
        where = store_settings or StoreSettings()
        app.state.store = store if store is not None else open_store(where.store, settings=where)
        app.state.indicators = indicators if indicators is not None else open_indicators(where.indicators)
        # the border records live in the indicator database; their tables are made on first use, which
        # changes the database's revision (the key of the indicator joins and ETags): make them now,
        # before anything is keyed on it
        if app.state.indicators is not None:
            records_for(app.state.indicators)
        # the first-use caches of this worker, built in the background (geoborder/warmup.py): start-up
        # is not delayed, /health says "warm": false until done; the items routes share its FeatureCache
        app.state.warmup = None
        if settings.warmup:
            app.state.warmup = Warmup(app.state.store, app.state.indicators).start()
            app.state.ogc_features = app.state.warmup.features
        # freed heap memory handed back to the system while the worker serves (core/heap.py)
        keeper = HeapKeeper(settings.heap_trim_seconds).start()
        yield
        keeper.stop()
        if app.state.warmup is not None:
            app.state.warmup.stop()
        # what this app opened (not what a caller passed in): PostGIS connection pools
        for opened, given in ((app.state.indicators, indicators), (app.state.store, store)):
            if given is None:
                opened.close()

    # FastAPI's /docs and /redoc load Swagger/ReDoc from CDNs that an office network cannot
    # reach: the API is documented at /api (OpenAPI JSON) and /api?f=html instead
    app = LaneApp(
        title=settings.title,
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
        description="Maps and data of Vietnam's land-border communes and crossing points.",
        # every route: 400 for a query parameter it does not declare, or one given twice
        dependencies=[Depends(check_query)],
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=jinja2.select_autoescape(["html"])
        )
    )
    # one feature by id without query parameters, and plain pages (limit, offset, bbox), are answered
    # inside this middleware (ogc_items.fast_answer): the framework's routing and dependency
    # resolution cost more than the feature itself, and a third of a page
    app.add_middleware(ConditionalGetMiddleware, max_age=settings.cache_max_age, fast=ogc_items.fast_answer)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    # one data version per request (PostGIS: the pointer may move while a request is answered)
    app.add_middleware(PinVersionMiddleware)
    # an upload is refused by its headers (size, key) before its body is read
    app.add_middleware(indicator_routes.UploadGuard)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS"],
        allow_headers=["*"],
    )
    app.add_middleware(HeadMiddleware)  # HEAD = the GET without its body, on every GET route
    # the same hot reads, when they are plain GETs, answered before all of the above with the headers
    # those middlewares would add (api/fastlane.py): they cost more than the answer
    app.lane = FastLane(
        ogc_items.fast_answer, max_age=settings.cache_max_age, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL
    )
    errors.install(app)
    for r in (landing.router, health.router, layers.router):
        app.include_router(r)
    app.include_router(ogc_conformance.router)
    app.include_router(ogc_openapi.router)
    app.include_router(ogc_collections.router)
    app.include_router(ogc_items.router)
    app.include_router(indicator_routes.router)
    app.include_router(query_routes.router)
    app.include_router(record_routes.router)
    app.include_router(maps.router)
    app.include_router(map_export_routes.router)
    app.include_router(tiles.router)
    app.include_router(report_routes.router)
    for name, folder in vendor_dirs().items():  # Leaflet, jQuery (xstatic packages) for the map pages
        app.mount(f"{VENDOR_PREFIX}/{name}", StaticFiles(directory=folder), name=f"vendor-{name}")
    openapi_doc.install(app)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (`geoborder run`): settings from GEOBORDER_* variables."""
    return create_app()
