"""Issue 15: /maps/{indicator}/export, the map as a printable PDF or PNG sheet, on the real store
(marked `parity` by tests/api/conftest.py, so it runs on PostGIS too). The rendered pages are
looked at pixel by pixel in tests/realpack/test_map_export_documents.py."""

from __future__ import annotations

import io
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from testenv import IN_CI

SON_LA = "vintage=2025&area=14&classes=quantiles&k=5"


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "map.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


@pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI, reason="poppler-utils not installed (under CI: a failure)"
)
def test_pdf_says_title_legend_sources_and_version_of_the_pages_map(client, tmp_path):
    r = client.get(f"/maps/density/export?{SON_LA}&format=pdf&paper=A4&orientation=portrait")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    assert r.headers["content-disposition"].endswith('.pdf"') and "density_2025_14" in r.headers["content-disposition"]
    legend = client.get(f"/maps/legend?indicator=density&{SON_LA}").json()
    text = _text(r.content, tmp_path)
    assert "Mật độ dân số" in text and "Sơn La" in text and "người/km²" in text
    for e in legend["legend"]:
        if e["class"] >= 0 or e["count"]:
            assert e["label"] in text, e["label"]  # the class bounds as the page's legend writes them
    assert legend["data_version"] in text and r.headers["x-data-version"] == legend["data_version"]
    assert "Nguồn:" in text and "ODbL 1.0" in text and "OpenStreetMap contributors" in text
    assert "Đường biên giới quốc gia" in text and "Cửa khẩu quốc tế" in text and "km" in text


@pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI, reason="poppler-utils not installed (under CI: a failure)"
)
def test_the_map_parameters_are_the_pages(client, tmp_path):
    q = "vintage=2025&area=14&classes=equal_interval&k=3"
    legend = client.get(f"/maps/legend?indicator=density&{q}&lang=en").json()
    text = _text(client.get(f"/maps/density/export?{q}&lang=en").content, tmp_path)
    labels = [e["label"] for e in legend["legend"] if e["class"] >= 0]
    assert len(labels) == legend["k"] and all(lab in text for lab in labels)
    assert "equal interval" in text and "Population density" in text and "Sources:" in text and "licence" in text
    other = client.get(f"/maps/legend?indicator=density&{SON_LA}&lang=en").json()
    assert [e["label"] for e in other["legend"] if e["class"] >= 0][1] not in text  # not another map's classes


def test_png_is_the_paper_at_150_dpi(client):
    for paper, orientation, size in (
        ("A4", "portrait", (1240, 1754)),
        ("A4", "landscape", (1754, 1240)),
        ("A3", "portrait", (1754, 2481)),
    ):
        r = client.get(f"/maps/density/export?{SON_LA}&format=png&paper={paper}&orientation={orientation}&lang=en")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
        img = Image.open(io.BytesIO(r.content))
        assert abs(img.size[0] - size[0]) <= 1 and abs(img.size[1] - size[1]) <= 1, (paper, orientation, img.size)


def test_bad_export_parameters_are_400(client):
    for url, word in [
        (f"/maps/density/export?{SON_LA}&format=svg", "format"),
        (f"/maps/density/export?{SON_LA}&paper=A5", "paper"),
        (f"/maps/density/export?{SON_LA}&orientation=sideways", "orientation"),
        ("/maps/happiness/export", "happiness"),
        ("/maps/density/export?area=99", "area"),
        ("/maps/density/export?basemap=osm", "basemap"),  # a page option, not a map parameter
    ]:
        r = client.get(url)
        assert r.status_code == 400, (url, r.text)
        assert word in r.text, (url, r.text)


def test_the_map_page_has_export_buttons_that_produce_a_pdf_and_a_png(client):
    html = client.get(f"/maps/density?{SON_LA}&lang=vi").text
    assert "@media print" in html and "print-color-adjust: exact" in html
    for fmt, media in (("pdf", "application/pdf"), ("png", "image/png")):
        marker = f'id="gb-export-{fmt}" href="'
        assert marker in html
        href = html.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
        q = parse_qs(urlsplit(href).query)
        assert urlsplit(href).path == "/maps/density/export" and q["format"] == [fmt] and q["area"] == ["14"]
        r = client.get(href)
        assert r.status_code == 200 and r.headers["content-type"] == media, r.text
