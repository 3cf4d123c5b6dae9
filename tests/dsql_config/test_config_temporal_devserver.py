"""The emitted dynamic config against a real Temporal server (the dev server stand-in).

Temporal ignores unknown keys silently but logs "Failed to convert value, using default" when a
value has the wrong type for its key. The server runs with every compiled key plus one control key
of the wrong type, a workflow is started so history and matching read their task-queue keys, and
the log must name the control key and none of ours.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_standins.temporal import TemporalDevServer, temporal_binary

CONTROL_KEY = "frontend.persistenceNamespaceMaxQPS"  # an Int key the compiler never emits
CONVERT_FAILED = re.compile(r'Failed to convert value, using default" key=(\S+)')


class _WarnLevelDevServer(TemporalDevServer):
    """The stand-in at log level warn, where conversion failures are logged."""

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--log-level") + 1] = "warn"
        return argv


def _cli(server: TemporalDevServer, *args: str) -> str:
    """Run a temporal CLI command; retried because a freshly started server on a busy machine can
    still time out its first calls (the commands are idempotent)."""
    argv = [str(temporal_binary()), *args, "--address", server.address, "--namespace", server.namespace,
            "--command-timeout", "30s"]
    for attempt in range(3):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
        if done.returncode == 0:
            return done.stdout
        time.sleep(2.0 * (attempt + 1))
    raise AssertionError(f"{' '.join(args)} failed: {done.stderr}")


def _failed_keys(workdir: Path) -> set[str]:
    return set(CONVERT_FAILED.findall((workdir / "temporal.log").read_text()))


@pytest.mark.standins
def test_every_emitted_value_converts_in_a_real_temporal_server(tmp_path: Path) -> None:
    result = ConfigCompiler(sdk_adapters=[], platform_adapters=[]).compile("high-throughput", "batch-processor")
    assert CONTROL_KEY not in result.dynamic_config
    dynamic_config: dict[str, object] = {**result.dynamic_config, CONTROL_KEY: "not-a-number"}
    server = _WarnLevelDevServer(workdir=tmp_path, dynamic_config=dynamic_config)
    with server:
        _cli(server, "workflow", "start", "--task-queue", "config-check", "--type", "ConfigCheck",
             "--workflow-id", "config-check-1", "--id-conflict-policy", "UseExisting")
        assert "ConfigCheck" in _cli(server, "workflow", "describe", "--workflow-id", "config-check-1")
        # Keys are converted when first read, some by background loops: wait until the control key
        # has been read (the server reads the persistence limits periodically), then a little more.
        deadline = time.monotonic() + 60
        while CONTROL_KEY.lower() not in _failed_keys(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)
    failed = _failed_keys(tmp_path)
    assert CONTROL_KEY.lower() in failed  # the check can fail
    ours = {key.lower() for key in result.dynamic_config}
    assert failed & ours == set()
