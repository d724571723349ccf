"""Spatial questions on the store: who touches whom, roadless settlements, nearest gates, the
border zone and one commune's profile. Every answer is a GeoJSON FeatureCollection (a dict) with
the figures as properties; the API and the CLI (`geoborder query ...`) only call these functions.

Measures are taken in the catalog's metric CRS (VN-2000 / UTM 48N, EPSG:3405). The metric
geometries of a layer are computed once per store and data version (`_metric`), so repeated
questions cost only the query itself; and each answer is computed once per parameters and data
version (`answers`): every question has a twin `<question>_answer` that gives the held bytes
(`Answer`: gzip JSON, what the API sends), the question itself gives them as a dict.

Errors: a malformed or out-of-range parameter, or a *code* that is not in the store, raises
InvalidParameter (HTTP 400); a *name* that resolves to nothing raises NotFound (HTTP 404) with the
closest names the store knows.

One module per question, on shared parts:
  _common    metric cache (keyed by store.version), parameter validation, commune helpers
  _output    the GeoJSON of the answers (coordinates as arrays, for one orjson call)
  answers    the answer cache: bytes per (question, parameters, data version, revisions), bounded in bytes
  names      unit resolution: codes, names and aliases (layers/partner_names.toml), suggestions
  _border    border segments per commune, the border line as an edge tree
  touching   communes touching a unit; the adjacency tolerance and how it was measured
  roadless   settlements far from any road, one by one or per commune
  gates      the nearest border gates
  zone       the border zone
  profile    one commune's profile, indicator values and 2009 <-> 2025 lineage
  _local     the spatial primitives in memory (LocalSpatial); each question asks
             `store.spatial_engine(LocalSpatial(store))` for its engine, so a PostGIS store answers
             them in SQL (geoborder.store.postgis.queries.PostgisSpatial: the same answers)
"""

from __future__ import annotations

from geoborder.queries._border import MAX_ZONE_KM
from geoborder.queries._common import NEIGHBOURHOOD_KM, VINTAGES, WGS84, metric_geometries
from geoborder.queries.answers import ANSWERS, Answer, set_budget
from geoborder.queries.gates import MAX_K, nearest_gates, nearest_gates_answer
from geoborder.queries.names import (
    PARTNER_NAMES_PATH,
    Unit,
    load_partner_names,
    looks_like_code,
    resolve_partner,
    resolve_unit,
    resolve_vn_unit,
)
from geoborder.queries.profile import (
    LINEAGE_LIST_SHARE,
    LINEAGE_MIN_SHARE,
    LINEAGE_NAME_MAX_KM,
    commune_profile,
    commune_profile_answer,
    split_before_merger,
)
from geoborder.queries.roadless import (
    MAX_ROAD_DISTANCE_M,
    nearest_roads,
    roadless_by_commune,
    roadless_by_commune_answer,
    roadless_villages,
    roadless_villages_answer,
)
from geoborder.queries.touching import ADJACENCY_TOLERANCE_M, touching, touching_answer
from geoborder.queries.zone import ZONE_PARTS, ZONE_ROAD_STEP_M, border_zone, border_zone_answer

__all__ = [
    "ADJACENCY_TOLERANCE_M",
    "ANSWERS",
    "LINEAGE_LIST_SHARE",
    "LINEAGE_MIN_SHARE",
    "LINEAGE_NAME_MAX_KM",
    "MAX_K",
    "MAX_ROAD_DISTANCE_M",
    "MAX_ZONE_KM",
    "NEIGHBOURHOOD_KM",
    "PARTNER_NAMES_PATH",
    "VINTAGES",
    "WGS84",
    "ZONE_PARTS",
    "ZONE_ROAD_STEP_M",
    "Answer",
    "Unit",
    "border_zone",
    "border_zone_answer",
    "commune_profile",
    "commune_profile_answer",
    "load_partner_names",
    "looks_like_code",
    "metric_geometries",
    "nearest_gates",
    "nearest_gates_answer",
    "nearest_roads",
    "resolve_partner",
    "resolve_unit",
    "resolve_vn_unit",
    "roadless_by_commune",
    "roadless_by_commune_answer",
    "roadless_villages",
    "roadless_villages_answer",
    "set_budget",
    "split_before_merger",
    "touching",
    "touching_answer",
]
