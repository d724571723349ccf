"""Parameters of the spatial questions (/queries/...), as small dataclass dependencies: their
descriptions and examples land in the OpenAPI document. Range checks live in the library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Query

Vintage = Annotated[
    int,
    Query(
        description="Commune vintage: 2025 (after the July 2025 reform) or 2009 (pre-2025 units, with districts).",
        openapi_examples={"2025": {"value": 2025}, "pre-2025": {"value": 2009}},
        json_schema_extra={"enum": [2025, 2009]},  # the library refuses any other (400)
    ),
]


Area = Annotated[
    str | None,
    Query(
        description="Only what lies in this area: a province code of the vintage, or the name of a saved area "
        "(/reports/areas: its communes on the units of the vintage). Communes are those of the area; a village "
        "counts by the commune it was placed in, a settlement when it lies within one of them, a road (border "
        "zone) when it crosses one. An unknown area is a 404 that lists the saved areas.",
        openapi_examples={"Lào Cai (2025 code)": {"value": "08"}, "a saved area": {"value": "Biên giới Sơn La"}},
    ),
]


@dataclass
class TouchingParams:
    unit: Annotated[
        str,
        Query(
            description="The unit touched: a partner country (LAO, CHN, KHM, 'Lào', 'Trung Quốc'), a Lao "
            "province (ISO code like LA-HO, or a name: 'Houaphanh', 'Hủa Phăn'), a Lao district, a "
            "Chinese province (CN.YN Yunnan / Vân Nam, CN.GX Guangxi / Quảng Tây), or a Vietnamese "
            "province (either vintage) or pre-2025 district ('Lào Cai', 'Si Ma Cai', "
            "'Châu Thành, An Giang').",
            openapi_examples={
                "Lao province by name": {"value": "Houaphanh"},
                "Lao province, Vietnamese name": {"value": "Hủa Phăn"},
                "Chinese province": {"value": "CN.YN"},
                "country": {"value": "Campuchia"},
                "pre-2025 district (vintage=2009)": {"value": "Si Ma Cai"},
            },
        ),
    ]
    vintage: Vintage = 2025
    within: Annotated[
        str | None,
        Query(
            description="Only communes of this Vietnamese province (code or name) or, for vintage 2009, district.",
            openapi_examples={"Sơn La (2025 code)": {"value": "14"}, "Xín Mần district (2009)": {"value": "Xín Mần"}},
        ),
    ] = None
    min_shared_km: Annotated[
        float | None,
        Query(
            description="Shortest shared boundary that counts as touching, in km (default 0.5: shorter "
            "contacts are corners caused by misalignment).",
            openapi_examples={"default": {"value": 0.5}},
            json_schema_extra={"minimum": 0, "maximum": 1000},
        ),
    ] = None
    geometry: Annotated[
        Literal["commune", "shared"],
        Query(description="Geometry of each feature: the commune polygon or the shared boundary line."),
    ] = "commune"
    area: Area = None


@dataclass
class RoadlessParams:
    layer: Annotated[
        Literal["villages", "towns"] | None,
        Query(
            description="Which points: villages (GeoNames villages and hamlets of the border provinces; the "
            "default when the store holds them) or towns (the settlements of `places`: towns and larger villages).",
            openapi_examples={"villages": {"value": "villages"}, "towns": {"value": "towns"}},
        ),
    ] = None
    min_distance_m: Annotated[
        float,
        Query(
            description="Villages (or towns) farther than this from every road, in metres (metric CRS EPSG:3405).",
            openapi_examples={"2 km": {"value": 2000}, "5 km": {"value": 5000}},
            json_schema_extra={"minimum": 0, "maximum": 100_000},
        ),
    ] = 2000.0
    countries: Annotated[
        str,
        Query(
            description="Settlements of these countries (ISO 3166 alpha-2, comma-separated), or 'all'; the "
            "villages are Vietnam's only (VN or all).",
            openapi_examples={"Vietnam": {"value": "VN"}, "every country": {"value": "all"}},
        ),
    ] = "VN"
    road_classes: Annotated[
        str | None,
        Query(
            description="Only roads of these classes (comma-separated: Quốc Gia, Cấp Tỉnh, Cấp Huyện, Asean; "
            "diacritics optional). Railways never count as roads.",
            openapi_examples={"national roads": {"value": "Quốc Gia"}},
        ),
    ] = None
    border_km: Annotated[
        float | None,
        Query(
            description="Only settlements within this distance of the border line, in km (0-100].",
            openapi_examples={"10 km": {"value": 10}},
            json_schema_extra={"exclusiveMinimum": 0, "maximum": 100},
        ),
    ] = None
    partner: Annotated[
        str | None,
        Query(
            description="With border_km: only the part of the border facing this partner country / province / Lao district.",
            openapi_examples={"Laos": {"value": "LAO"}, "Houaphanh": {"value": "LA-HO"}},
        ),
    ] = None
    vintage: Vintage = 2025
    area: Area = None


@dataclass
class GatesParams:
    lon: Annotated[
        float | None,
        Query(
            description="Origin longitude (EPSG:4326), with lat.",
            openapi_examples={"Sơn La city": {"value": 103.91}},
            json_schema_extra={"minimum": -180, "maximum": 180},
        ),
    ] = None
    lat: Annotated[
        float | None,
        Query(
            description="Origin latitude (EPSG:4326), with lon.",
            openapi_examples={"Sơn La city": {"value": 21.33}},
            json_schema_extra={"minimum": -90, "maximum": 90},
        ),
    ] = None
    commune: Annotated[
        str | None,
        Query(
            description="Origin: a commune's seat, by 2025 GSO code (5 digits) or 2009 census code (7 digits).",
            openapi_examples={"Mường Lèo (2025)": {"value": "04240"}},
        ),
    ] = None
    geonameid: Annotated[
        str | None,
        Query(
            description="Origin: a settlement or a village, by GeoNames id.",
            openapi_examples={"Cát Cát": {"value": "10631710"}},
        ),
    ] = None
    k: Annotated[
        int,
        Query(
            description="How many gates (1-100).",
            openapi_examples={"three": {"value": 3}},
            json_schema_extra={"minimum": 1, "maximum": 100},
        ),
    ] = 3
    international_only: Annotated[bool, Query(description="Only international gates.")] = False
    published_only: Annotated[
        bool, Query(description="Only gates whose position a source publishes (not placed by the build).")
    ] = False
    partner: Annotated[
        str | None, Query(description="Only gates to this country.", openapi_examples={"China": {"value": "CHN"}})
    ] = None


@dataclass
class ZoneParams:
    distance_km: Annotated[
        float,
        Query(
            description="Width of the zone from the border line, in km (0-100].",
            openapi_examples={"10 km": {"value": 10}},
            json_schema_extra={"exclusiveMinimum": 0, "maximum": 100},
        ),
    ] = 10.0
    partner: Annotated[
        str | None,
        Query(
            description="Only the part of the border facing this partner country / province / Lao district.",
            openapi_examples={"Houaphanh": {"value": "Houaphanh"}, "Yunnan": {"value": "Vân Nam"}},
        ),
    ] = None
    vintage: Vintage = 2025
    include: Annotated[
        str | None,
        Query(
            description="Which features: communes, settlements, villages, roads (comma-separated; default all "
            "the store holds).",
            openapi_examples={
                "all": {"value": "communes,settlements,villages,roads"},
                "villages": {"value": "villages"},
                "communes": {"value": "communes"},
            },
        ),
    ] = None
    countries: Annotated[
        str,
        Query(
            description="Settlements of these countries (ISO2, comma-separated), or 'all'.",
            openapi_examples={"Vietnam": {"value": "VN"}},
        ),
    ] = "VN"
    area: Area = None


@dataclass
class ProfileParams:
    code: Annotated[
        str,
        Query(
            description="Commune code: 5-digit 2025 GSO code or 7-digit 2009 census code.",
            json_schema_extra={"pattern": r"\S"},  # not empty (the library: 400)
            openapi_examples={
                "Lóng Sập (2025)": {"value": "04045"},
                "Mường Lèo (2025)": {"value": "04240"},
                "Xã Lóng Sập (2009)": {"value": "3031939"},
            },
        ),
    ]
    villages_within_km: Annotated[
        float,
        Query(
            description="Count the commune's villages within this distance of the border line, in km (0-100].",
            openapi_examples={"10 km": {"value": 10}},
            json_schema_extra={"exclusiveMinimum": 0, "maximum": 100},
        ),
    ] = 10.0
