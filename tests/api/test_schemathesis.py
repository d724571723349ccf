"""schemathesis with every check (`--checks all`, positive and negative data, the examples,
coverage, fuzzing and stateful phases) against the running service: zero failures of any kind.

One bounded run (a few examples per operation, deterministic, one worker) against uvicorn on the
session's store: the GeoPackage, or its PostGIS database with GEOBORDER_TEST_STORE=postgis. The
failures are then asserted per group of operations, so a failure names the part of the API (and
the module) it is in.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.realpack

ROOT = Path(__file__).resolve().parents[2]
# positive_data_acceptance per operation: the 400s of rules the schema cannot state (docs/api.md "Fuzzing")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 3
# a request is a failure (Network Error) when it takes longer than this: generous for a cold map
# export or report on 2 shared cores, which the warm-up below mostly takes out of the run
REQUEST_TIMEOUT = 30
# built once by their first request (the full map's rendering, the computed indicators of the
# reports): asked before the run, so the run measures answers, not the service's warm-up
WARM_UP = (
    "/maps/density/export",
    "/maps/density/export?area=all",
    "/reports/review?indicator=poor_households&area=border",
)

# operation label prefix -> group; the first prefix that matches wins
GROUPS = {
    "OGC documents, layers, records": (
        "GET / ",
        "GET /conformance",
        "GET /collections ",
        "GET /collections/gates_unplaced",
        "GET /collections/markers_unplaced",
        "GET /layers",
        "GET /health",
    ),
    "OGC collections and items": ("GET /collections/{collectionId}", "POST /collections/{collectionId}/items"),
    "spatial queries": ("GET /queries/",),
    "maps and tiles": (
        "GET /maps",
        "GET /tiles/",
        "GET /collections/{collectionId}/tiles",
        "GET /collections/{collectionId}/map/",
    ),
    "indicators": ("GET /indicators", "POST /indicators"),
    "records and reports": ("GET /records", "POST /records", "GET /reports", "POST /reports"),
    "stateful": ("Stateful",),
}


def _group(label: str) -> str:
    for name, prefixes in GROUPS.items():
        if any((label + " ").startswith(p) for p in prefixes):
            return name
    return "other"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def service(real_store_path, real_store, tmp_path_factory):
    port = _free_port()
    tmp = tmp_path_factory.mktemp("schemathesis")
    env = dict(
        os.environ,
        GEOBORDER_STORE=getattr(real_store, "url", None) or str(real_store_path),
        GEOBORDER_INDICATORS=str(tmp / "indicators.sqlite"),
    )
    log = open(tmp / "uvicorn.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app_from_env", "--factory", "--host", "127.0.0.1"]
        + ["--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail((tmp / "uvicorn.log").read_text())
                time.sleep(0.1)
        for path in WARM_UP:
            with contextlib.suppress(OSError):  # a 4xx is a warm-up too; the run judges the answers
                urllib.request.urlopen(url + path, timeout=120).read()
        yield url, tmp
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def failures(service) -> dict[str, dict[str, list[str]]]:
    """group -> operation -> failure messages, from one `schemathesis run --checks all`."""
    url, tmp = service
    junit = tmp / "schemathesis.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", url + "/api"]
        + ["--checks", "all", "--mode", "all"]
        + ["-n", str(MAX_EXAMPLES), "--generation-deterministic", "--workers", "1", "--no-color"]
        + ["--request-timeout", str(REQUEST_TIMEOUT)]
        + ["--report", "junit", "--report-junit-path", str(junit)],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert junit.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    out: dict[str, dict[str, list[str]]] = {}
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert len(cases) > 30, proc.stdout[-3000:]
    for case in cases:
        label = case.get("name", "")
        msgs = [
            ((f.get("message") or "") + "\n" + (f.text or ""))[:2000] for f in case if f.tag in ("failure", "error")
        ]
        out.setdefault(_group(label), {})[label] = msgs
    print(proc.stdout[-1500:])
    return out


@pytest.mark.parametrize("group", [*GROUPS, "other"])
def test_schemathesis_all_checks_find_nothing(failures, group):
    found = {label: msgs for label, msgs in failures.get(group, {}).items() if msgs}
    assert found == {}, "\n\n".join(f"{label}:\n" + "\n".join(m) for label, m in found.items())


def test_the_run_covered_the_records_and_every_ogc_document(failures):
    tested = {label for ops in failures.values() for label in ops}
    for label in (
        "GET /collections/gates_unplaced/items",
        "GET /collections/markers_unplaced/items/{recordId}",
        "GET /layers",
        "GET /collections/{collectionId}/items",
        "GET /queries/touching",
    ):
        assert label in tested, sorted(tested)
