"""`open_indicators`: the one place that chooses the indicator database implementation."""

from __future__ import annotations

from pathlib import Path

from geoborder.core.settings import is_postgres_url
from geoborder.indicators.db import IndicatorDB, IndicatorStore
from geoborder.indicators.db_postgis import PostgisIndicatorDB


def open_indicators(location: Path | str) -> IndicatorStore:
    """The indicator database at `location`: a postgresql:// URL (shared by every instance of a
    PostGIS deployment), else the path of the SQLite file."""
    if is_postgres_url(location):
        return PostgisIndicatorDB(str(location))
    return IndicatorDB(location)
