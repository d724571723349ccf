"""/health: is the service up, and on which data version."""

from fastapi import APIRouter

from ..deps import StoreDep

router = APIRouter(tags=["service"])


@router.get("/health", summary="Service health and data version")
def health(store: StoreDep) -> dict:
    info = store.build_info()
    return {
        "status": "ok",
        "data_version": store.version,
        "built_at": info.get("built_at"),
        "layers": len(store.layers()),
    }
