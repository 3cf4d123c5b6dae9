"""`python -m devstack ...` is `copilot dev ...`."""

import sys

from devstack.entry import DEV_EXTRA, DEV_MODULES, _refuse, missing_modules

missing = missing_modules(DEV_MODULES)
if missing:
    sys.exit(_refuse("python -m devstack", DEV_EXTRA, missing))

from devstack.cli import app  # noqa: E402 (after the check: its imports need the extra)

app(prog_name="copilot dev")
