"""/queries/...: the spatial questions of geoborder.queries, as GeoJSON FeatureCollections.

Parameters are small dataclass dependencies (api/query_params.py); the handlers only call the library. Range checks live in the library, so the
API, the CLI and Python callers get the same 400 messages.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from geoborder import queries as q

from .. import models
from ..deps import OptionalIndicatorsDep, StoreDep
from ..query_params import GatesParams, ProfileParams, RoadlessParams, TouchingParams, ZoneParams
from ..responses import GeoJSONResponse
from .openapi_doc import ERR

router = APIRouter(prefix="/queries", tags=["spatial queries"])


ERRORS = {
    400: {"description": "A parameter is malformed or out of range, or a code is not in the store", **ERR},
    404: {"description": "A name matches no unit; the message lists the closest names", **ERR},
}
FC = {
    "description": "A GeoJSON FeatureCollection; the query as resolved is in `query`",
    "model": models.QueryFeatureCollection,
}


def _geo(fc: dict) -> GeoJSONResponse:
    return GeoJSONResponse(fc)


@router.get(
    "/touching",
    summary="Communes touching a unit across the border or within Vietnam",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def touching(store: StoreDep, p: Annotated[TouchingParams, Depends()]):
    """Communes that touch a partner unit (from the border segments) or a Vietnamese province /
    district (polygon adjacency with a tolerance measured from the data), with the shared boundary
    length in km per commune (`shared_length_km`)."""
    return _geo(
        q.touching(
            store, p.unit, vintage=p.vintage, within=p.within, min_shared_km=p.min_shared_km, geometry=p.geometry
        )
    )


@router.get(
    "/roadless-villages",
    summary="Settlements far from any road",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def roadless(store: StoreDep, p: Annotated[RoadlessParams, Depends()]):
    """Villages (`layer=villages`, the default) or towns farther than `min_distance_m` from every
    road, with the distance to and the name of the nearest road and the commune of each one;
    `caveats` names the road layer used, the precision of the positions and what was not judged."""
    return _geo(q.roadless_villages(store, **asdict(p)))


@router.get(
    "/roadless-villages/by-commune",
    summary="Roadless settlements counted per commune",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def roadless_by_commune(store: StoreDep, p: Annotated[RoadlessParams, Depends()]):
    return _geo(q.roadless_by_commune(store, **asdict(p)))


@router.get(
    "/nearest-gates",
    summary="The k nearest border gates to a point, a commune or a settlement",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def nearest_gates(store: StoreDep, p: Annotated[GatesParams, Depends()]):
    """Give exactly one origin: lon and lat, commune, or geonameid. Only gates with a location
    count; `location_quality` says whether a source gives it (published) or the build derived it."""
    return _geo(q.nearest_gates(store, **asdict(p)))


@router.get(
    "/border-zone",
    summary="Communes, settlements and roads within N km of the border",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def border_zone(store: StoreDep, p: Annotated[ZoneParams, Depends()]):
    """Each feature has `feature_kind` (commune / settlement / village / road) and
    `distance_to_border_m`; roads also `length_in_zone_km`."""
    return _geo(q.border_zone(store, **asdict(p)))


@router.get(
    "/commune-profile",
    summary="One commune: figures, border, gates, markers, seat, settlements, indicators, lineage",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def commune_profile(store: StoreDep, p: Annotated[ProfileParams, Depends()], indicators: OptionalIndicatorsDep):
    """The first feature is the commune with every figure in its properties, including `indicators`
    (the latest value of each indicator with its year and unit: computed ones, and reported ones
    imported into the indicator database) and `lineage` (2025: the 2009 communes it came from, by
    name and by area overlap; 2009: the 2025 communes it went into), `villages` and
    `villages_within_km`. Seat, gates, markers, settlements and villages follow as point features
    with a `role`."""
    return _geo(q.commune_profile(store, p.code, indicators_db=indicators, villages_within_km=p.villages_within_km))
