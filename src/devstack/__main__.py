"""`python -m devstack ...` is `copilot dev ...` (the same grammar: copilot_core.cli.run)."""

from copilot_core.cli import run
from devstack.cli import app

run(app, "copilot dev")
