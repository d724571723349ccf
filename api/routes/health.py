"""/health: is the service up, on which data version, and are this worker's caches warm."""

from fastapi import APIRouter, Request

from ..deps import StoreDep

router = APIRouter(tags=["service"])


@router.get("/health", summary="Service health, data version and warm-up")
def health(request: Request, store: StoreDep) -> dict:
    """Always 200 while the service answers, warm or not (a load balancer keeps routing to a worker
    that is still warming: its first requests are only slower). `warm` is false while the
    background warm-up builds this worker's first-use caches, `warming` the steps left; with
    GEOBORDER_WARMUP=0, `warmup` is "off". When the data version moved on (PostGIS publish), the
    next /health starts a warm-up of the new version."""
    info = store.build_info()
    body = {
        "status": "ok",
        "data_version": store.version,
        "built_at": info.get("built_at"),
        "layers": len(store.layers()),
    }
    warmup = getattr(request.app.state, "warmup", None)
    if warmup is None:
        return {**body, "warm": False, "warming": [], "warmup": "off"}
    warmup = request.app.state.warmup = warmup.current()
    return {**body, **warmup.status()}
