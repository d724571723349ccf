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


def _rgb(color: str) -> tuple[float, float, float]:
    c = color.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    return (int(c[0:2], 16) / 255, int(c[2:4], 16) / 255, int(c[4:6], 16) / 255)


def over(color: str, alpha: float, backdrop: str) -> str:
    """`color` at opacity `alpha` composited over `backdrop` (what the eye sees through a
    translucent panel)."""
    a, b = _rgb(color), _rgb(backdrop)
    return "#" + "".join(f"{round((alpha * x + (1 - alpha) * y) * 255):02x}" for x, y in zip(a, b))


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two colours, 1 to 21 (AA: 4.5 for text, 3 for large text and
    graphical objects)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
