"""Settings, read from GEOBORDER_* environment variables only when a Settings is made."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_pack() -> Path | None:
    """The pack to use when GEOBORDER_PACK is not set: ../shared/data beside the checkout."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if (candidate / "MANIFEST.md").exists() else None


class StoreSettings(BaseSettings):
    """Where the source pack is read from and where the built store lives."""

    model_config = SettingsConfigDict(env_prefix="GEOBORDER_", extra="ignore")

    pack: Path | None = None
    store: Path = PROJECT_ROOT / "var" / "geoborder.gpkg"

    @field_validator("pack", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return None if v in ("", None) else v

    def resolved_pack(self) -> Path | None:
        return self.pack if self.pack is not None else default_pack()


class ApiSettings(BaseSettings):
    """The web service."""

    model_config = SettingsConfigDict(env_prefix="GEOBORDER_", extra="ignore")

    title: str = "geoborder"
    cors_origins: list[str] = ["*"]
    cache_max_age: int = 300
