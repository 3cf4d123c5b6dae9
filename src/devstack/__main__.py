"""`python -m devstack ...` is `copilot dev ...` (the same grammar: copilot_core.cli.run)."""

import sys

from devstack.entry import DEV_EXTRA, DEV_MODULES, _refuse, missing_modules

missing = missing_modules(DEV_MODULES)
if missing:
    sys.exit(_refuse("python -m devstack", DEV_EXTRA, missing))

from copilot_core.cli import run  # noqa: E402 (after the check: its imports need the extra)
from devstack.cli import app  # noqa: E402

run(app, "copilot dev")
