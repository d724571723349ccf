"""Thresholds of a report: 'new_rural_criteria_met>=10', 'road_to_centre_hardened=yes'."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold
from geoborder.indicators.catalog import IndicatorCatalog, load_indicators

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "=": operator.eq}
YES = {"yes", "co", "true", "dat", "1"}
NO = {"no", "khong", "false", "chua dat", "0"}


@dataclass(frozen=True)
class Threshold:
    indicator: str
    op: str
    value: float

    def test(self, v: float) -> bool:
        return bool(OPS[self.op](float(v), self.value))

    def label(self, boolean: bool = False, lang: str = "vi") -> str:
        if boolean and self.op == "=":
            yes = self.value == 1
            return ("= có" if yes else "= không") if lang == "vi" else ("= yes" if yes else "= no")
        return f"{self.op} {self.value:g}"

    def as_dict(self) -> dict:
        return {"indicator": self.indicator, "op": self.op, "value": self.value}


def parse_threshold(text: str, catalog: IndicatorCatalog | None = None) -> Threshold:
    """'new_rural_criteria_met>=10', 'road_to_centre_hardened=yes' -> a Threshold."""
    catalog = catalog or load_indicators()
    m = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(>=|<=|>|<|=)\s*(.+?)\s*", str(text))
    if not m:
        raise InvalidParameter(f"threshold {text!r}: write indicator>=value (>=, >, <=, <, =), e.g. poverty_rate<10")
    name, op, raw = m.groups()
    ind = catalog.get(name)
    w = fold(raw)
    if w in YES:
        value = 1.0
    elif w in NO:
        value = 0.0
    else:
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            raise InvalidParameter(f"threshold {text!r}: {raw!r} is not a number or yes/no") from None
    if ind.type == "boolean" and value not in (0.0, 1.0):
        raise InvalidParameter(f"threshold {text!r}: {name} is yes/no")
    return Threshold(name, op, value)
