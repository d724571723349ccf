"""Third-party browser assets (JS/CSS), installed as Python packages by `make install`, never copied here.

Leaflet and jQuery come from the PyPI packages xstatic-leaflet and xstatic-jquery (declared in
pyproject.toml); the app serves each package's data folder under /static/vendor/<name>/ and the
map pages point folium's default_js / default_css at those URLs, so a page needs no CDN.
Bootstrap and the awesome-markers plugin that folium loads by default are not used by the map
pages (no Bootstrap widgets, circle markers instead of icon markers), so they are left out.
"""

from __future__ import annotations

import importlib
from pathlib import Path

STATIC_PREFIX = "/static"
VENDOR_PREFIX = f"{STATIC_PREFIX}/vendor"

# name -> xstatic module
VENDOR_PACKAGES = {"leaflet": "xstatic.pkg.leaflet", "jquery": "xstatic.pkg.jquery"}


def vendor_dirs() -> dict[str, Path]:
    """The folder of each vendored package (raises ImportError with the fix if one is missing)."""
    out = {}
    for name, module in VENDOR_PACKAGES.items():
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise ImportError(f"{module} is not installed: run `make install`") from exc
        out[name] = Path(mod.BASE_DIR)
    return out


def map_js(prefix: str = VENDOR_PREFIX) -> list[tuple[str, str]]:
    """folium default_js for the map pages, all served by the app."""
    return [("leaflet", f"{prefix}/leaflet/leaflet.js"), ("jquery", f"{prefix}/jquery/jquery.min.js")]


def map_css(prefix: str = VENDOR_PREFIX) -> list[tuple[str, str]]:
    return [("leaflet_css", f"{prefix}/leaflet/leaflet.css")]
