"""The README's local-stack blocks run as written, in order, against one `copilot dev up` stack.

The first block brings the stack up (`copilot dev up`), the later ones `eval "$(copilot dev env)"`
and curl the API, and the teardown block runs last. Every block runs in its own `bash -euo
pipefail`; what they share is the stack's state directory, through COPILOT_DEV_STATE_DIR (the
variable `copilot dev` itself reads), so the blocks are exactly as written.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
import pytest
from readme_blocks import as_run_here, readme_blocks, scratch_checkout, shell_env

pytestmark = pytest.mark.standins

BLOCKS = [b for b in readme_blocks() if b.kind == "local-stack"]
TEARDOWN = [b for b in readme_blocks() if b.kind == "local-stack teardown"]


def test_the_local_stack_blocks_run_as_written(tmp_path: Path) -> None:
    assert BLOCKS and "copilot dev up" in BLOCKS[0].code, "the first local-stack block brings the stack up"
    assert TEARDOWN and "copilot dev down" in TEARDOWN[-1].code
    # pytest's tmp_path is 0700 under root: the postgres user could not reach its data directory.
    state = Path(tempfile.mkdtemp(prefix="readme-stack-"))
    state.chmod(0o755)
    work = scratch_checkout(tmp_path)
    env = shell_env(COPILOT_DEV_STATE_DIR=str(state), COLUMNS="80")
    outputs: list[str] = []
    try:
        for block in BLOCKS:
            completed = subprocess.run(["bash", "-euo", "pipefail", "-c", as_run_here(block, tmp_path)],
                                       cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False)
            assert completed.returncode == 0, (f"{block}\n{block.code}\n--- stdout\n{completed.stdout[-4000:]}"
                                               f"\n--- stderr\n{completed.stderr[-4000:]}")
            statuses = re.findall(r"^exit (\d+)$", completed.stdout, flags=re.M)
            assert len(statuses) == block.code.count('|| echo "exit $?"'), completed.stdout
            assert all(int(status) != 0 for status in statuses)
            outputs.append(completed.stdout)
        follow_the_api_log(env)
        for block in TEARDOWN:
            completed = subprocess.run(["bash", "-euo", "pipefail", "-c", as_run_here(block, tmp_path)],
                                       cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False)
            assert completed.returncode == 0, completed.stderr
    finally:
        subprocess.run([sys.executable, "-m", "temporal_dsql_devstack", "down", "--purge", "--state-dir", str(state)],
                       capture_output=True, timeout=240, check=False)
    joined = "\n".join(outputs)
    # What the README says the examples show, they show.
    assert '"label": "golden"' in joined, "the label filter lists the profile created with that label"
    assert '"is_baseline": true' in joined
    assert re.search(r'"field": ?"time_window_start"', joined), "the bad request answers a problem naming its field"
    assert re.search(r'"health_state": "(happy|stressed|critical|unknown)"', joined)
    # `copilot dev logs api` right after `up` shows uvicorn's error log (start-up) and its access log.
    assert "Application startup complete" in joined


def follow_the_api_log(env: dict[str, str]) -> None:
    """`copilot dev logs -f api` shows the API's access log: a request made while it follows appears."""
    ps = subprocess.run(["copilot", "dev", "ps", "--format", "json"], env=env, capture_output=True, text=True,
                        timeout=120, check=True)
    api = next(s for s in json.loads(ps.stdout)["services"] if s["name"] == "api")
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(["copilot", "dev", "logs", "-f", "api", "-n", "5"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as follower:
        assert follower.stdout is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or []], daemon=True)
        reader.start()
        try:
            marker = "/no-such-page-asked-by-the-log-test"  # unique: a 404 nothing else asks for
            assert httpx.get(f"{api['url']}{marker}", timeout=30).status_code == 404
            seen: list[str] = []
            while True:
                line = lines.get(timeout=120)  # generous: the follower polls the file every 0.5 s
                seen.append(line)
                if marker in line:
                    assert f'"GET {marker} HTTP/1.1" 404' in line, line  # uvicorn's access-log line
                    break
        finally:
            follower.terminate()
            follower.wait(timeout=60)
