"""The document process (geoborder.reports.process): functions run in a spawned child, its
exceptions come back as the same type and message, a dead child is replaced, an idle one is shut
down, and the snapshot of the store it is given answers as the store does."""

from __future__ import annotations

import os
import pickle
import signal
import time

import geopandas as gpd
import pytest
import shapely

from geoborder.core.errors import BuildError, InvalidParameter, NotFound
from geoborder.reports import process
from geoborder.reports.documents import review_layers
from geoborder.reports.snapshot import snapshot
from geoborder.store.memory import MemoryStore


@pytest.fixture(autouse=True)
def fresh_child():
    """Each test starts without a child and with the default settings, and stops its child."""
    saved = process.settings()
    process.shutdown()
    process.configure(process=True, idle_seconds=60)
    yield
    process.shutdown()
    process.configure(process=saved.process, idle_seconds=saved.idle_seconds)


@pytest.fixture(scope="module")
def store():
    communes = gpd.GeoDataFrame(
        {
            "commune_code": ["00001", "00002", "00003"],
            "name": ["Mường Lèo", "Mường Lạn", "Tô Hiệu"],
            "province_code": ["14", "14", "15"],
            "province_name": ["Sơn La", "Sơn La", "Điện Biên"],
        },
        geometry=[shapely.box(103.5 + i / 10, 21.0, 103.6 + i / 10, 21.1) for i in range(3)],
        crs=4326,
    )
    return MemoryStore({"communes_2025": communes})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_function_runs_in_a_child_process():
    pid = process.call("os:getpid")
    assert pid != os.getpid() and _alive(pid) and process.running()
    assert process.call("os:getpid") == pid  # the same child for the next document


def test_a_library_error_in_the_child_is_the_same_exception_here():
    with pytest.raises(InvalidParameter) as raised:
        process.call("geoborder.reports.mapsheet_layout:check_options", "svg", "A4", "portrait")
    assert str(raised.value) == "format: write pdf or png, not 'svg'"
    assert "check_options" in str(raised.value.__cause__)  # the child's traceback as the cause
    assert process.call("os:getpid") != os.getpid()  # the child lives on after an error


def test_a_missing_layer_is_the_stores_not_found(store):
    """provinces() of the pre-2025 units reads communes_2009, which the store has not: the
    snapshot keeps the store's NotFound, raised in the child and here as the store raises it."""
    with pytest.raises(NotFound) as here:
        store.frame("communes_2009")
    with pytest.raises(NotFound) as there:
        process.draw("geoborder.maps.areas:provinces", store, {"communes_2009": None}, 2009)
    assert str(there.value) == str(here.value)


def test_an_error_with_keyword_arguments_comes_back_whole():
    exc = BuildError("no geometry", file="communes.shp", layer="communes_2025", row=7)
    back = pickle.loads(pickle.dumps(process._Failure.of(exc))).exception()
    assert type(back) is BuildError and str(back) == str(exc)
    assert (back.file, back.layer, back.row, back.message) == ("communes.shp", "communes_2025", 7, "no geometry")


def test_an_error_of_a_module_not_imported_here_is_a_runtime_error_naming_it():
    failure = process._Failure("matplotlib._api", "Oops", ("bad",), {}, "bad", "Traceback ...")
    exc = failure.exception()
    assert type(exc) is RuntimeError and str(exc) == "matplotlib._api.Oops: bad"


def test_the_drawing_gets_a_snapshot_and_draws_what_it_draws_in_the_worker(store):
    layers = {"communes_2025": None}
    there = process.draw("geoborder.maps.areas:provinces", store, layers, 2025)
    process.configure(process=False)
    here = process.draw("geoborder.maps.areas:provinces", store, layers, 2025)
    assert there == here == [("14", "Sơn La"), ("15", "Điện Biên")]


def test_drawing_in_the_worker_starts_no_child(store):
    process.configure(process=False)
    assert process.draw("geoborder.maps.areas:provinces", store, {}, 2025)[0] == ("14", "Sơn La")
    assert not process.running()


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("GEOBORDER_DOCUMENT_PROCESS", "0")
    monkeypatch.setenv("GEOBORDER_DOCUMENT_IDLE_SECONDS", "5")
    s = process.DocumentSettings()
    assert s.process is False and s.idle_seconds == 5


def test_a_killed_child_is_replaced():
    pid = process.call("os:getpid")
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:  # reaped by the pool's manager thread
        time.sleep(0.05)
    again = process.call("os:getpid")
    assert again != pid and _alive(again)


def test_a_child_that_dies_during_a_document_is_replaced_once_then_the_error_is_raised():
    """os._exit kills the child that runs it: the document is tried once more in a new child
    (which dies too), then BrokenProcessPool is raised (a 500); the next document gets a child."""
    from concurrent.futures.process import BrokenProcessPool

    first = process.call("os:getpid")
    with pytest.raises(BrokenProcessPool):
        process.call("os:_exit", 3)
    after = process.call("os:getpid")
    assert after != first and _alive(after)


def test_an_idle_child_is_shut_down():
    process.configure(idle_seconds=0.5)
    pid = process.call("os:getpid")
    assert process.running()
    deadline = time.monotonic() + 10
    while (process.running() or _alive(pid)) and time.monotonic() < deadline:  # stopped, then joined
        time.sleep(0.05)
    assert not process.running() and not _alive(pid)
    assert process.call("os:getpid") != pid  # the next document starts a new one


def test_the_snapshot_is_picklable_and_has_only_the_layers_given(store):
    snap = pickle.loads(pickle.dumps(snapshot(store, {"communes_2025": lambda f: f[f["province_code"] == "14"]})))
    assert snap.version == store.version and snap.build_info() == (store.build_info() or {})
    assert list(snap.frame("communes_2025")["commune_code"]) == ["00001", "00002"]
    assert snap.catalog.layer("communes_2025").vi == store.catalog.layer("communes_2025").vi
    with pytest.raises(LookupError, match="not in the document's snapshot"):
        snap.frame("provinces_2025")
    with pytest.raises(KeyError):
        snap.catalog.layer("provinces_2025")


def test_a_review_gives_the_child_the_communes_on_its_maps():
    report = {
        "indicators": [
            {"maps": {"first": {"units": 2009, "values": {"1": 1.0}}, "last": {"units": 2025, "values": {"a": 2.0}}}},
            {"maps": {"first": None, "last": {"units": 2025, "values": {"b": None}}}},
        ]
    }
    layers = review_layers(report)
    assert set(layers) == {"communes_2009", "communes_2025"}
    frame = gpd.GeoDataFrame({"commune_code": ["a", "b", "c"]}, geometry=[shapely.Point(0, 0)] * 3)
    assert list(layers["communes_2025"](frame)["commune_code"]) == ["a", "b"]


def test_the_child_exits_when_its_worker_is_killed(tmp_path):
    """A worker killed outright (SIGKILL) takes its document process with it: no orphan is left."""
    import subprocess
    import sys

    code = (
        "from geoborder.reports import process\n"
        "import os, sys, time\n"
        "print(process.call('os:getpid'), flush=True)\n"
        "time.sleep(60)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(worker.stdout.readline())
        assert _alive(child)
        worker.kill()
        worker.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        worker.kill()


def test_a_script_read_from_standard_input_draws_in_its_own_process():
    """A spawned child runs the main module again: from `python - <<EOF` it cannot, so a document
    asked for there is drawn in that process instead of failing with BrokenProcessPool."""
    import subprocess
    import sys

    code = "from geoborder.reports import process\nprint(process._spawnable())\n"
    out = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
