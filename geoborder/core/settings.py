"""Settings, read from GEOBORDER_* environment variables only when a Settings is made."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


FETCHED_PACK = PROJECT_ROOT / "var" / "pack"


def is_postgres_url(value) -> bool:
    """A postgresql:// (or postgres://) URL: a PostGIS store or indicator database, not a path."""
    return isinstance(value, str) and value.startswith(("postgresql://", "postgres://"))


def describe_invalid(exc) -> str:
    """A pydantic ValidationError of the settings as one line per setting, named as it is set
    (the GEOBORDER_* environment variable)."""
    model = globals().get(exc.title)
    prefix = model.model_config.get("env_prefix", "") if model is not None else "GEOBORDER_"
    lines = []
    for err in exc.errors():
        name = prefix + "_".join(str(p) for p in err.get("loc", ())).upper()
        lines.append(f"{name}={err.get('input')!r}: {err.get('msg')}")
    return "geoborder: invalid setting: " + "; ".join(lines)


def default_pack() -> Path | None:
    """The pack to use when GEOBORDER_PACK is not set: ../shared/data beside the checkout, else
    the pack `geoborder fetch` wrote (var/pack)."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    if (candidate / "MANIFEST.md").exists():
        return candidate
    return FETCHED_PACK if (FETCHED_PACK / "pack.json").exists() else None


class StoreSettings(BaseSettings):
    """Where the source pack is read from and where the built store lives."""

    model_config = SettingsConfigDict(env_prefix="GEOBORDER_", extra="ignore")

    pack: Path | None = None
    # a GeoPackage path, or a postgresql:// URL of a database written by `geoborder publish`
    store: Path | str = PROJECT_ROOT / "var" / "geoborder.gpkg"
    # PostGIS store: how often (seconds) a worker re-reads the published-version pointer
    store_refresh_seconds: float = Field(default=5.0, ge=0)
    # PostGIS store: connections per worker process (its concurrent SQL requests)
    store_pool_size: int = Field(default=4, ge=1, le=100)
    # the writable indicator database (imports, values, API keys); the store stays read-only:
    # a SQLite path, or a postgresql:// URL (schema geoborder_indicators, shared by every instance)
    indicators: Path | str = PROJECT_ROOT / "var" / "indicators.sqlite"

    @field_validator("pack", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return None if v in ("", None) else v

    @field_validator("store", "indicators", mode="before")
    @classmethod
    def _path_unless_url(cls, v):
        """A postgresql:// URL stays a string; anything else is a path."""
        if isinstance(v, str) and not is_postgres_url(v):
            return Path(v)
        return v

    def resolved_pack(self) -> Path | None:
        return self.pack if self.pack is not None else default_pack()


class ApiSettings(BaseSettings):
    """The web service."""

    model_config = SettingsConfigDict(env_prefix="GEOBORDER_", extra="ignore")

    title: str = "geoborder"
    cors_origins: list[str] = ["*"]
    cache_max_age: int = 300
    # slow and hostile clients (`geoborder run`, api/server.py; docs/api.md "Hostile requests")
    header_timeout: float = 10.0  # seconds to send a request line and headers (idle new connections too)
    keep_alive_timeout: float = 5.0  # seconds an idle keep-alive connection stays open after an answer
    max_url_bytes: int = 32 * 1024  # a longer URL gets 414
    max_connections: int = 2000  # open connections per worker; beyond, uvicorn answers 503
    # the answers of the spatial questions held per worker, in MB of gzip JSON (geoborder/queries/answers.py:
    # a repeated question is a lookup; least recently used answers dropped past it; 0 holds none)
    answer_cache_mb: float = Field(default=16.0, ge=0, le=65536)
    # what a worker's caches bounded in bytes (tiles, map pages, documents, the links) hold together,
    # in MB (geoborder/core/cache.py; the answers have their own budget above)
    cache_mb: float = Field(default=48.0, ge=0, le=65536)
    # build each worker's first-use caches in the background at start-up (geoborder/warmup.py;
    # /health says "warm": false until done); GEOBORDER_WARMUP=0 for tests and small deployments
    warmup: bool = True
    # every this many seconds a worker hands freed heap memory back to the system when glibc holds
    # more than 8 MB free (geoborder/core/heap.py Keeper); 0 never
    heap_trim_seconds: float = Field(default=5.0, ge=0, le=3600)


class FetchSettings(BaseSettings):
    """`geoborder fetch`: where the open sources are downloaded from (GEOBORDER_FETCH_*)."""

    model_config = SettingsConfigDict(env_prefix="GEOBORDER_FETCH_", extra="ignore")

    geoboundaries_url: str = "https://www.geoboundaries.org/api/current"
    osm_url: str = "https://download.geofabrik.de/asia"
    cache: Path = PROJECT_ROOT / "var" / "cache" / "fetch"
