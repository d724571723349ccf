"""Dependencies shared by the routers: the store, the indicator database, the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from geoborder.core.errors import Unavailable
from geoborder.indicators.db import IndicatorStore
from geoborder.store.base import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


# the dependencies are `async def`: FastAPI runs a plain `def` in the thread pool, a hop that costs
# more than reading an attribute (issue 18)
async def store_dependency(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(store_dependency)]


async def optional_indicators(request: Request) -> IndicatorStore | None:
    """The app's indicator database, None when it has none (maps and profiles then show
    computed indicators only)."""
    return getattr(request.app.state, "indicators", None)


OptionalIndicatorsDep = Annotated[IndicatorStore | None, Depends(optional_indicators)]


async def require_indicators(db: OptionalIndicatorsDep) -> IndicatorStore:
    """The app's indicator database; a 503 when it has none."""
    if db is None:
        raise Unavailable("the indicator database is not open")
    return db


IndicatorsDep = Annotated[IndicatorStore, Depends(require_indicators)]


async def language(
    lang: Annotated[
        str | None, Query(pattern="^(vi|en)$", description="Language of titles and labels: vi (default) or en.")
    ] = None,
) -> str:
    return lang or "vi"


LangDep = Annotated[str, Depends(language)]
