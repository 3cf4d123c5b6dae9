"""`python -m devstack ...` is `copilot dev ...`."""

from devstack.cli import app

app(prog_name="copilot dev")
