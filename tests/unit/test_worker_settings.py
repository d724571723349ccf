"""The worker's memory settings of issue 18 (GEOBORDER_CACHE_MB, GEOBORDER_ANSWER_CACHE_MB,
GEOBORDER_HEAP_TRIM_SECONDS, GEOBORDER_DOCUMENT_IDLE_SECONDS): a value that does not validate is
refused with one line naming the variable, and `geoborder run` stops before building anything."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from geoborder.cli.main import main
from geoborder.core.settings import ApiSettings


@pytest.mark.parametrize(
    "name,value",
    [
        ("GEOBORDER_CACHE_MB", "-1"),
        ("GEOBORDER_CACHE_MB", "lots"),
        ("GEOBORDER_ANSWER_CACHE_MB", "-5"),
        ("GEOBORDER_HEAP_TRIM_SECONDS", "-1"),
        ("GEOBORDER_HEAP_TRIM_SECONDS", "99999"),
    ],
)
def test_a_bad_memory_setting_is_refused_and_run_builds_nothing(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as e:
        ApiSettings()
    assert name.removeprefix("GEOBORDER_").lower() in str(e.value)
    store = tmp_path / "geoborder.gpkg"
    monkeypatch.setenv("GEOBORDER_STORE", str(store))
    r = CliRunner().invoke(main, ["run"])
    assert r.exit_code == 2 and f"invalid setting: {name}={value!r}" in r.output, r.output
    assert not store.exists() and list(tmp_path.iterdir()) == []  # nothing built, nothing fetched


def test_the_defaults_validate():
    s = ApiSettings()
    assert s.cache_mb == 48 and s.answer_cache_mb == 16 and s.heap_trim_seconds == 5


def test_a_bad_document_idle_time_is_refused(monkeypatch):
    from geoborder.reports import process

    monkeypatch.setenv("GEOBORDER_DOCUMENT_IDLE_SECONDS", "0")
    with pytest.raises(ValidationError, match="idle_seconds"):
        process.DocumentSettings()
