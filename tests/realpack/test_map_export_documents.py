"""Issue 15: the printed maps on the real store, looked at as a reader would. Each PDF is rendered
with pdftoppm and read with pdftotext: the legend's swatches are the classes' colours, every class
colour is on the map, the largest commune of each class shows its class's colour where it lies,
the north arrow and scale bar are drawn, and the text says the title, the legend labels, the
sources with their licences and the data version. National maps frame the mainland and show
Hoàng Sa and Trường Sa in an inset. A national and a Sơn La page are saved under test-output/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from PIL import Image
from testenv import IN_CI

from geoborder.maps import choropleth as C
from geoborder.reports import mapsheet

OUT = Path(__file__).resolve().parents[2] / "test-output"
DPI = 100
pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None and not IN_CI, reason="poppler-utils not installed (under CI: a failure)"
)


def _rgb(hex_color: str) -> np.ndarray:
    h = hex_color.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=int)


def _page(pdf: bytes, tmp_path, name: str) -> np.ndarray:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-singlefile", str(path), str(tmp_path / name)], check=True)
    return np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"), dtype=int)


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def _crop(img: np.ndarray, box) -> np.ndarray:
    """The pixels of a box given in page fractions from the lower left corner."""
    H, W = img.shape[:2]
    x, y, w, h = box
    return img[int((1 - y - h) * H) : int((1 - y) * H), int(x * W) : int((x + w) * W)]


def _near(pixels: np.ndarray, color: str, tol: int = 3) -> np.ndarray:
    return np.abs(pixels - _rgb(color)).max(axis=-1) <= tol


def _check_sheet(store, ch, sheet, img, text):
    # the legend: each swatch is its class's colour
    rows = [e for e in ch.legend("vi") if e["class"] >= 0 or e["count"] > 0]
    assert [c for c, _, _ in sheet.swatches] == [e["class"] for e in rows]
    for cls, color, box in sheet.swatches:
        x, y, w, h = box
        inner = _crop(img, (x + w * 0.25, y + h * 0.25, w * 0.5, h * 0.5))
        assert _near(inner, color).mean() > 0.9, (cls, color)
    # the map: every class colour covers part of it (the inset left out)
    mp = _crop(img, sheet.boxes["map"]).copy()
    if "inset" in sheet.boxes:
        mx, my, mw, mh = sheet.boxes["map"]
        ix, iy, iw, ih = sheet.boxes["inset"]
        H, W = mp.shape[:2]
        mp[int((1 - (iy - my + ih) / mh) * H) :, int((ix - mx) / mw * W) :] = 255
    for i, color in enumerate(ch.classification.colors):
        assert _near(mp, color).sum() > 40, (i, color)
    # ... and where each class's largest commune is, its class's colour
    communes = store.frame(ch.layer_id)
    x0, x1, y0, y1 = sheet.extent
    bx, by, bw, bh = sheet.boxes["map"]
    H, W = img.shape[:2]
    metric = communes.geometry.to_crs(3405).area.to_numpy()
    for cls in range(ch.k):
        rows = np.flatnonzero((ch.classes == cls) & (shapely.get_x(shapely.centroid(communes.geometry.values)) < 109.5))
        big = rows[np.argmax(metric[rows])]
        circle = shapely.maximum_inscribed_circle(communes.geometry.values[big])
        p = shapely.get_point(circle, 0)
        px = int((bx + (p.x - x0) / (x1 - x0) * bw) * W)
        py = int((1 - (by + (p.y - y0) / (y1 - y0) * bh)) * H)
        patch = img[py - 1 : py + 2, px - 1 : px + 2]
        assert _near(patch, ch.classification.colors[cls], tol=4).mean() >= 0.5, (cls, communes.iloc[big]["name"])
    # the north arrow: a dark and a white half, in its box; the scale bar: dark and white segments
    arrow = _crop(img, sheet.boxes["north_arrow"])
    dark = (arrow.max(axis=-1) < 70).mean()
    assert 0.05 < dark < 0.6, dark
    bar = _crop(img, sheet.boxes["scale_bar"])
    assert (bar.max(axis=-1) < 70).mean() > 0.01
    # the text
    for part in (sheet.texts["title"], sheet.texts["version"], sheet.texts["scale"], *sheet.texts["legend"]):
        assert part in text, part
    for part in sheet.texts["source_parts"]:
        assert part in text, part
    assert ch.version in text


def test_son_la_a4_portrait_in_vietnamese(real_store, tmp_path):
    ch = C.choropleth(real_store, None, C.MapSpec("density", vintage=2025, area="14"))
    sheet = mapsheet.render(real_store, ch, fmt="pdf", paper="A4", orientation="portrait", lang="vi")
    img, text = _page(sheet.data, tmp_path, "son_la"), _text(sheet.data, tmp_path)
    _check_sheet(real_store, ch, sheet, img, text)
    assert "inset" not in sheet.boxes  # Sơn La has no islands
    assert "Mật độ dân số" in text and "Vùng: Sơn La" in text and "B" in text
    assert "Hủa Phăn" in text  # the Lao province across the border, named in Vietnamese
    assert "Lóng Sập" in text and "Chiềng Khương" in text  # the gates named
    for licence in ("ODbL 1.0", "CC BY 4.0"):
        assert licence in text
    OUT.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "son_la.png", OUT / "map_export_son_la_density_A4_portrait_vi.png")


def test_national_map_frames_the_mainland_and_insets_the_islands(real_store, tmp_path):
    ch = C.choropleth(real_store, None, C.MapSpec("density", vintage=2025, area="all"))
    sheet = mapsheet.render(real_store, ch, fmt="pdf", paper="A4", orientation="portrait", lang="vi")
    img, text = _page(sheet.data, tmp_path, "national"), _text(sheet.data, tmp_path)
    _check_sheet(real_store, ch, sheet, img, text)
    # the mainland framed: the map's east edge well short of Trường Sa (to 117.8°E); its south edge
    # near Cà Mau (8.4°N), not the southern reefs (6.9°N); the inset holds both archipelagos
    x0, x1, y0, y1 = sheet.extent
    assert x1 < 116 and y0 > 7.5
    ix0, ix1, iy0, iy1 = sheet.inset_extent
    assert ix0 <= 111.2 and ix1 >= 117.8 and iy0 <= 6.9 and iy1 >= 17.1
    inset = _crop(img, sheet.boxes["inset"])
    assert (inset.max(axis=-1) < 120).mean() > 0.002  # the islands' outlines are drawn
    assert "Hoàng Sa" in text and "Trường Sa" in text and "Quần đảo Hoàng Sa và Trường Sa" in text
    assert "LÀO" in text and "TRUNG QUỐC" in text and "CAMPUCHIA" in text
    OUT.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "national.png", OUT / "map_export_national_density_A4_portrait_vi.png")


def test_english_landscape_a3_of_the_pre_2025_units(real_store, tmp_path):
    ch = C.choropleth(real_store, None, C.MapSpec("population", vintage=2009, area="303", k=4))
    sheet = mapsheet.render(real_store, ch, fmt="pdf", paper="A3", orientation="landscape", lang="en")
    img, text = _page(sheet.data, tmp_path, "son_la_2009"), _text(sheet.data, tmp_path)
    assert img.shape[1] > img.shape[0]  # landscape
    _check_sheet(real_store, ch, sheet, img, text)
    assert "Population" in text and "pre-2025 units" in text and "Sources:" in text and "licence" in text


def test_the_cli_writes_the_sheet(real_store_path, tmp_path):
    from geoborder.cli.main import main

    out = tmp_path / "son_la.pdf"
    db = tmp_path / "indicators.sqlite"
    args = ["map", "density", "--area", "Sơn La", "--out", str(out), "--store", str(real_store_path), "--db", str(db)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:5] == b"%PDF-" and "Sơn La" in _text(out.read_bytes(), tmp_path)
    r = CliRunner().invoke(main, [*args[:3], "Atlantis", *args[4:]])
    assert r.exit_code == 2 and "Atlantis" in r.output
    r = CliRunner().invoke(main, [*args[:5], str(tmp_path / "x.svg"), *args[6:]])
    assert r.exit_code == 2 and ".pdf or .png" in r.output
