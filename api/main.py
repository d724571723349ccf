"""Assemble the service: settings -> store -> routers. Nothing happens at import time."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.templating import Jinja2Templates

from geoborder.settings import ApiSettings, StoreSettings
from geoborder.store import Store, open_store

from . import errors
from .responses import JSONResponse
from .routes import health, landing, layers

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def create_app(settings: ApiSettings | None = None, *, store: Store | None = None,
               store_settings: StoreSettings | None = None) -> FastAPI:
    """The app. Give a `store` (tests: a small in-memory one), or it opens the configured one."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.store = store if store is not None else open_store((store_settings or StoreSettings()).store)
        yield

    app = FastAPI(title=settings.title, version="0.1.0", lifespan=lifespan,
                  default_response_class=JSONResponse,
                  description="Maps and data of Vietnam's land-border communes and crossing points.")
    app.state.settings = settings
    app.state.templates = Jinja2Templates(env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=jinja2.select_autoescape(["html"])))
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "HEAD", "OPTIONS"],
                       allow_headers=["*"])
    errors.install(app)
    for r in (landing.router, health.router, layers.router):
        app.include_router(r)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (`geoborder run`): settings from GEOBORDER_* variables."""
    return create_app()
