"""The map classes' colours come from branca's ColorBrewer schemes and are the ones the service
drew before (the hex table that geoborder.maps.choropleth carried until issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from geoborder.maps import choropleth as C
from geoborder.maps.colours import NO_DATA_COLOR, class_colors

# ColorBrewer sequential schemes as the service drew them, per number of classes
BEFORE = {
    "YlOrRd": {
        2: ["#ffeda0", "#f03b20"],
        3: ["#ffeda0", "#feb24c", "#f03b20"],
        4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
        5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
        6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
        7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
        8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
        9: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
    },
    "YlGnBu": {
        2: ["#edf8b1", "#2c7fb8"],
        3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
        4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
        5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
        6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
        7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
        8: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
        9: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"],
    },
}


@pytest.mark.parametrize("higher_is_better, scheme", [(None, "YlOrRd"), (False, "YlOrRd"), (True, "YlGnBu")])
@pytest.mark.parametrize("k", range(C.K_MIN, C.K_MAX + 1))
def test_every_palette_and_k_has_the_colours_of_before(higher_is_better, scheme, k):
    assert list(class_colors(k, higher_is_better=higher_is_better)) == BEFORE[scheme][k]
    # and through the classification the maps use: k equal intervals of 0..99 are k classes
    c, _ = C.classify(np.arange(100.0), "equal_interval", k, higher_is_better=higher_is_better)
    assert c.n_classes == k and list(c.colors) == BEFORE[scheme][k]


def test_one_class_is_the_middle_colour_and_no_data_stays_grey():
    c, yb = C.classify(np.array([7.0, 7.0, np.nan]), "quantiles", 5)
    assert c.colors == ("#feb24c",) and list(yb) == [0, 0, -1]
    c, _ = C.classify(np.array([7.0, 7.0]), "quantiles", 5, higher_is_better=True)
    assert c.colors == ("#7fcdbb",)
    legend = C.legend(c, C.indicator("density"), "en")
    assert legend[-1] == {
        "class": -1,
        "color": NO_DATA_COLOR,
        "lower": None,
        "upper": None,
        "label": "No data",
        "count": 0,
    }
    assert NO_DATA_COLOR == "#c8c8c8"


def test_a_legend_of_before():
    """The legend of five quantile classes, colour by colour as /maps/legend gave it."""
    c, _ = C.classify(np.arange(1.0, 11.0), "quantiles", 5)
    assert [e["color"] for e in C.legend(c, C.indicator("density"), "vi")] == [
        "#ffffb2",
        "#fecc5c",
        "#fd8d3c",
        "#f03b20",
        "#bd0026",
        "#c8c8c8",
    ]
