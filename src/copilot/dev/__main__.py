"""`python -m copilot.dev ...` is `copilot dev ...`."""

from copilot.dev.cli import app

app(prog_name="copilot dev")
