"""Parameters of a map (/maps/..., the choropleth tiles): the same on every endpoint, so the page,
its tiles, lookup and download are the same map."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query

from geoborder.core.errors import InvalidParameter
from geoborder.maps import change as X
from geoborder.maps import choropleth as C
from geoborder.maps.shared import SharedSpec


class ClassMethod(StrEnum):
    quantiles = "quantiles"
    natural_breaks = "natural_breaks"
    equal_interval = "equal_interval"


class Measure(StrEnum):
    difference = "difference"
    percent = "percent"


class Basemap(StrEnum):
    none = "none"
    osm = "osm"


@dataclass
class MapParams:
    """The map a planner chose (everything but the indicator)."""

    vintage: Annotated[
        int,
        Query(
            description="Unit vintage: 2025 (units after the 1 July 2025 reform) or 2009 "
            "(pre-2025 units, 2009 census geography).",
            openapi_examples={"2025": {"value": 2025}, "2009": {"value": 2009}},
        ),
    ] = 2025
    area: Annotated[
        str,
        Query(
            description="`all` (whole country), `border` (the border provinces), "
            "`border_communes` (the border communes only) or a province code of "
            "the vintage (2025: GSO 2-digit, e.g. 14 = Sơn La; 2009: census "
            "3-digit, e.g. 303 = Sơn La), or the name of a saved area (see /reports/areas).",
            openapi_examples={"Sơn La (2025)": {"value": "14"}, "border": {"value": "border"}, "all": {"value": "all"}},
        ),
    ] = "border"
    year: Annotated[
        int | None,
        Query(
            description="Year of the values; default: the year of the commune layer's "
            "attributes (computed indicators) or the latest imported year "
            "(reported indicators).",
            openapi_examples={"2025": {"value": 2025}},
        ),
    ] = None
    classes: Annotated[
        ClassMethod,
        Query(
            description="Classification (mapclassify): quantiles, natural_breaks (Fisher-Jenks) or equal_interval.",
            openapi_examples={"quantiles": {"value": "quantiles"}, "natural breaks": {"value": "natural_breaks"}},
        ),
    ] = ClassMethod.quantiles
    k: Annotated[
        int, Query(ge=C.K_MIN, le=C.K_MAX, description="Number of classes.", openapi_examples={"5": {"value": 5}})
    ] = C.K_DEFAULT
    base_year: Annotated[
        int | None,
        Query(
            alias="from",
            description="A change map: the change of the indicator from this year to `year` (both "
            "on the same unit vintage), drawn with a diverging palette whose classes are symmetric "
            "around 0. A commune without a value in either year has no data.",
            openapi_examples={"2017": {"value": 2017}},
        ),
    ] = None
    measure: Annotated[
        Measure,
        Query(
            description="With `from`: difference (`year` − `from`, in the indicator's unit; "
            "percentage points for shares) or percent (% change; a commune whose `from` value is 0 "
            "has no data).",
            openapi_examples={"difference": {"value": "difference"}, "percent": {"value": "percent"}},
        ),
    ] = Measure.difference

    classes_with: Annotated[
        int | None,
        Query(
            description="Classify this map together with the values of this other year (same "
            "indicator, units and area): two maps of two years then share one legend, a colour "
            "means the same value on both (the side-by-side page does this).",
            openapi_examples={"2017": {"value": 2017}},
        ),
    ] = None

    def spec(self, indicator: str) -> C.MapSpec:
        """The map asked for: a change map (a ChangeSpec) when `from` is given."""
        if self.base_year is not None:
            if self.classes_with is not None:
                raise InvalidParameter("classes_with: a change map has its own classes; give `from` or `classes_with`")
            return X.ChangeSpec(
                indicator=indicator,
                vintage=self.vintage,
                area=self.area,
                year=self.year,
                method=self.classes.value,
                k=self.k,
                base_year=self.base_year,
                measure=self.measure.value,
            ).check()
        if self.classes_with is not None:
            if self.measure != Measure.difference:
                raise InvalidParameter("measure: a measure of change needs `from`, the first year of the change")
            return SharedSpec(
                indicator=indicator,
                vintage=self.vintage,
                area=self.area,
                year=self.year,
                method=self.classes.value,
                k=self.k,
                classes_with=self.classes_with,
            ).check()
        if self.measure != Measure.difference:
            raise InvalidParameter("measure: a measure of change needs `from`, the first year of the change")
        return C.MapSpec(
            indicator=indicator,
            vintage=self.vintage,
            area=self.area,
            year=self.year,
            method=self.classes.value,
            k=self.k,
        ).check()

    def query(self, indicator: str | None = None, *, change: bool = True, **extra) -> dict:
        """The map's parameters as a query; `change=False`: without those of a change map (the
        picker, the map of one year)."""
        q: dict[str, Any] = {"indicator": indicator} if indicator else {}
        q.update({"vintage": self.vintage, "area": self.area, "classes": self.classes.value, "k": self.k})
        if self.year is not None:
            q["year"] = self.year
        if change and self.classes_with is not None:
            q["classes_with"] = self.classes_with
        if change and self.base_year is not None:
            q["from"] = self.base_year
            q["measure"] = self.measure.value
        q.update({k: v for k, v in extra.items() if v is not None})
        return q


MapParamsDep = Annotated[MapParams, Depends()]
IndicatorQuery = Annotated[
    str,
    Query(
        description="Indicator name (see /maps or /indicators).",
        openapi_examples={"density": {"value": "density"}, "population": {"value": "population"}},
    ),
]
