"""matplotlib (~29 MB per worker) is imported when a sheet, a chart or a PDF is drawn, not when a
worker imports the app (issue 18)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_app_and_the_map_sheet_does_not_import_matplotlib():
    code = (
        "import sys, api.main, geoborder.reports.mapsheet, geoborder.reports.mapsheet_text; "
        "print(any(m == 'matplotlib' or m.startswith('matplotlib.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
