"""Documents drawn with matplotlib are drawn in the document process (geoborder.reports.process),
so a worker that served a review PDF, a review HTML page and map sheets (PDF and PNG) has imported
neither matplotlib nor fontTools (issue 18), and the documents are the ones drawn in the worker
itself (GEOBORDER_DOCUMENT_PROCESS=0).

The worker is a fresh Python process (this test session imports matplotlib elsewhere): it opens
the test store, imports two made-up indicator tables, serves the requests through TestClient and
writes the documents for the checks here."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from testenv import IN_CI

FIX = Path(__file__).parent.parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]

# the worker's main guarded: a spawned child imports the main module again
WORKER = r"""
import json, sys
from pathlib import Path


def main():
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.db import IndicatorDB
    from geoborder.indicators.importing import import_file
    from geoborder.reports import cache, mapsheet, process
    from geoborder.store.open import open_store

    store_location, out, fix = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    store = open_store(store_location)
    db = IndicatorDB(out / "indicators.sqlite")
    for name, vintage in (("indicators_madeup_sonla_review_2017_2024_pre2025.csv", 2009),
                          ("indicators_madeup_sonla_review_2025.csv", 2025)):
        import_file(store, db, (fix / name).read_bytes(), name, vintage=vintage)
    Q = {"area": "border:Sơn La", "from": 2017, "to": 2025, "indicator": ["poor_households", "poverty_rate"]}
    SON_LA = "vintage=2025&area=14&classes=quantiles&k=5"
    REQUESTS = {
        "review.pdf": ("/reports/review", {**Q, "f": "pdf"}),
        "review.html": ("/reports/review", {**Q, "lang": "en"}),
        "sheet.pdf": (f"/maps/density/export?{SON_LA}&format=pdf", None),
        "sheet.png": (f"/maps/density/export?{SON_LA}&format=png&lang=en", None),
        "national.png": ("/maps/population/export?vintage=2025&area=all&format=png&orientation=landscape", None),
    }
    report = {"status": {}, "types": {}}
    with TestClient(create_app(store=store, indicators=db)) as client:
        for mode in ("child", "worker"):
            if mode == "worker":  # the same documents drawn in the worker itself
                cache.clear_cache()
                mapsheet.clear_cache()
                process.configure(process=False)
            for name, (url, params) in REQUESTS.items():
                r = client.get(url, params=params)
                report["status"][f"{mode}/{name}"] = r.status_code
                report["types"][f"{mode}/{name}"] = r.headers.get("content-type")
                (out / f"{mode}-{name}").write_bytes(r.content)
            if mode == "child":
                report["child_running"] = process.running()
                report["modules"] = sorted({m.split(".")[0] for m in sys.modules} & {"matplotlib", "fontTools"})
    (out / "report.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
"""


@pytest.fixture(scope="module")
def served(real_store_path, request, tmp_path_factory):
    """The worker's report and the folder of its documents."""
    postgis = os.environ.get("GEOBORDER_TEST_STORE", "gpkg").lower() == "postgis"  # the parity run
    location = request.getfixturevalue("published_url") if postgis else str(real_store_path)
    out = tmp_path_factory.mktemp("document_process")
    script = out / "worker.py"
    script.write_text(WORKER)
    run = subprocess.run(
        [sys.executable, str(script), location, str(out), str(FIX)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads((out / "report.json").read_text()), out


def test_the_worker_imports_neither_matplotlib_nor_fonttools(served):
    report, _ = served
    assert set(report["status"].values()) == {200}, report["status"]
    assert report["child_running"] is True  # the documents were drawn in the child
    assert report["modules"] == []


def test_the_documents_are_real_pdf_png_and_html(served):
    report, out = served
    assert report["types"]["child/review.pdf"] == "application/pdf"
    assert report["types"]["child/sheet.pdf"] == "application/pdf"
    assert (out / "child-review.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "child-sheet.pdf").read_bytes()[:5] == b"%PDF-"
    for name, size in (("sheet.png", (1240, 1754)), ("national.png", (1754, 1240))):
        assert report["types"][f"child/{name}"] == "image/png"
        img = Image.open(io.BytesIO((out / f"child-{name}").read_bytes()))
        assert abs(img.size[0] - size[0]) <= 1 and abs(img.size[1] - size[1]) <= 1, (name, img.size)
        assert len(img.convert("RGB").getcolors(2**24)) > 50  # a drawn map, not a blank page
    html = (out / "child-review.html").read_text()
    assert "Border communes of Sơn La" in html and html.count("data:image/png;base64,") >= 4


@pytest.mark.skipif(
    shutil.which("pdftotext") is None and not IN_CI, reason="poppler-utils not installed (under CI: a failure)"
)
def test_the_pdfs_read_as_the_review_and_the_sheet(served):
    _, out = served

    def text(name: str) -> str:
        run = subprocess.run(["pdftotext", "-raw", str(out / name), "-"], capture_output=True, text=True, check=True)
        return " ".join(run.stdout.split())

    review, sheet = text("child-review.pdf"), text("child-sheet.pdf")
    assert "Sơn La" in review and "2017–2025" in review
    assert "Mật độ dân số" in sheet and "Sơn La" in sheet and "Nguồn:" in sheet and "OpenStreetMap" in sheet


def test_the_child_draws_the_same_documents_as_the_worker(served):
    _, out = served
    for name in ("review.html", "sheet.pdf", "sheet.png", "national.png"):
        assert (out / f"child-{name}").read_bytes() == (out / f"worker-{name}").read_bytes(), name

    def stamped(b: bytes) -> bytes:  # the review PDF says when it was made
        import re

        return re.sub(rb"/CreationDate \(D:[0-9Z'+-]+\)", b"", b)

    child, worker = (out / "child-review.pdf").read_bytes(), (out / "worker-review.pdf").read_bytes()
    assert stamped(child) == stamped(worker)
