"""`python -m temporal_dsql_devstack ...` is `copilot dev ...` (the same grammar: temporal_dsql_core.cli.run)."""

import sys

from temporal_dsql_devstack.entry import DEV_EXTRA, DEV_MODULES, _refuse, missing_modules

missing = missing_modules(DEV_MODULES)
if missing:
    sys.exit(_refuse("python -m temporal_dsql_devstack", DEV_EXTRA, missing))

from temporal_dsql_core.cli import run  # noqa: E402 (after the check: its imports need the extra)
from temporal_dsql_devstack.cli import app  # noqa: E402

run(app, "copilot dev")
