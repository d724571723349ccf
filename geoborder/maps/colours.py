"""Colours of the map classes: ColorBrewer sequential schemes (Cynthia Brewer, colorbrewer2.org),
as branca (a folium dependency) ships them."""

from __future__ import annotations

from functools import cache

from branca.utilities import color_brewer

NO_DATA_COLOR = "#c8c8c8"
WORSE_SCHEME = "YlOrRd"  # "higher is worse" or neutral: yellow -> red
BETTER_SCHEME = "YlGnBu"  # "higher is better": yellow -> green -> blue


@cache
def scheme_colors(scheme: str, n: int) -> tuple[str, ...]:
    """The ColorBrewer sub-scheme of `n` classes. ColorBrewer starts at 3 classes: 2 classes take
    the two ends of the 3-class scheme, 1 class its middle."""
    if n < 3:
        three = color_brewer(scheme, 3)
        return (three[1],) if n == 1 else (three[0], three[2])
    return tuple(color_brewer(scheme, n))


def class_colors(n: int, *, higher_is_better: bool | None) -> tuple[str, ...]:
    """The colours of `n` classes, lowest first: yellow -> blue when higher is better, else yellow -> red."""
    return scheme_colors(BETTER_SCHEME if higher_is_better else WORSE_SCHEME, n) if n else ()
