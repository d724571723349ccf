"""What the tests need to know about where they run, importable from any folder of tests/.

(Not in conftest.py: there is more than one conftest.py under tests/, and `from conftest import`
would get whichever pytest imported last.)
"""

from __future__ import annotations

import os

# under CI a missing real pack, PostgreSQL/PostGIS or browser fails the tests that need it, with
# the reason; elsewhere those tests are skipped
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
