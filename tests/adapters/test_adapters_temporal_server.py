"""A real Temporal server accepts the compiled dynamic config of every preset x modifier.

Each combination starts the Temporal dev server with exactly the compiled dynamic config
(``--dynamic-config-value``), runs a workflow with an activity on a worker built from the Python
adapter's rendered ``WORKER_KWARGS``, and then checks the server log (warn level) for the warning
Temporal writes when a dynamic-config value has the wrong type ("Failed to convert value").
Servers run one after another (~1-2 s each).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from adapter_combos import COMBOS, PY_FILE, combo_id, load_worker_kwargs, snippet
from adapter_workflows import GreetingWorkflow, GreetInput, compose_greeting
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from temporal_dsql_standins import TemporalDevServer

CONVERSION_FAILURE = "Failed to convert value"


@dataclass
class WarnLevelDevServer(TemporalDevServer):
    """The shared dev server, logging warnings so rejected dynamic-config values show up."""

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--log-level") + 1] = "warn"
        return argv


async def run_greeting(server: TemporalDevServer, worker_kwargs: dict[str, object]) -> str:
    # TemporalDevServer.start() returned only once the frontend served get_system_info and knew the
    # namespace, so the first connect succeeds.
    client = await Client.connect(server.address, namespace=server.namespace)
    queue = f"acceptance-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[GreetingWorkflow], activities=[compose_greeting],
                      **worker_kwargs):  # type: ignore[arg-type]
        # Eager start hands the first workflow task straight to this worker and the workflow runs a
        # local activity, so the run does not wait for a few pollers to find the right one of a
        # fresh task queue's many partitions (40 on high-throughput), which takes tens of seconds.
        for attempt in range(100):
            try:
                handle = await client.start_workflow(GreetingWorkflow.run, GreetInput("dsql"), id=f"wf-{queue}",
                                                     task_queue=queue, request_eager_start=True)
                break
            except RPCError as exc:  # frontend's namespace cache lags describe_namespace for a moment
                if exc.status != RPCStatusCode.NOT_FOUND or attempt == 99:
                    raise
                await asyncio.sleep(0.05)
        return await _long_poll_result(handle)


async def _long_poll_result(handle: WorkflowHandle[Any, str], polls: int = 20) -> str:
    """``handle.result()`` is a long poll of the history (wait_new_event). When the server's own
    deadline for it passes first it answers DEADLINE_EXCEEDED, which means "no close event yet", as
    the Go SDK's long-poll iterator treats it: poll again (flake-hunt find at load 16; the bound of
    polls keeps a stuck workflow a failure)."""
    for poll in range(polls):
        try:
            return await handle.result()
        except RPCError as exc:
            if exc.status != RPCStatusCode.DEADLINE_EXCEEDED or poll == polls - 1:
                raise
    raise AssertionError("unreachable")


def conversion_failures(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if CONVERSION_FAILURE in line]


@pytest.fixture(scope="module")
def background_stop() -> Iterator[Callable[[TemporalDevServer], None]]:
    """Stop servers (SIGTERM by PID, 2-10 s each) while the next combination already runs."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stop-dev-server")
    futures: list[Future[None]] = []
    try:
        yield lambda server: futures.append(pool.submit(server.stop))
    finally:
        for future in futures:
            future.result()
        pool.shutdown()


@pytest.mark.standins
@pytest.mark.parametrize("combo", COMBOS, ids=[combo_id(c) for c in COMBOS])
async def test_server_serves_and_runs_a_workflow_with_the_compiled_dynamic_config(
    combo, compiled, tmp_path: Path, background_stop
) -> None:
    result = compiled[combo]
    server = WarnLevelDevServer(workdir=tmp_path, dynamic_config=result.dynamic_config).start()
    try:
        kwargs = load_worker_kwargs(snippet(result, PY_FILE))
        assert await run_greeting(server, kwargs) == "hello dsql"
        # Values are converted when read; the run above read them, so failures are in the log now.
        assert conversion_failures(tmp_path / "temporal.log") == []
    finally:
        background_stop(server)
    argv = server.argv()
    assert sum(a == "--dynamic-config-value" for a in argv) == len(result.dynamic_config) > 0


@pytest.mark.standins
async def test_the_log_check_catches_a_value_of_the_wrong_type(compiled, tmp_path: Path) -> None:
    result = compiled[COMBOS[0]]
    int_key = next(k for k, v in result.dynamic_config.items()
                   if isinstance(v, int) and not isinstance(v, bool) and k.startswith("history.persistenceMaxQPS"))
    server = WarnLevelDevServer(workdir=tmp_path, dynamic_config={**result.dynamic_config, int_key: "abc"}).start()
    try:
        assert await run_greeting(server, {}) == "hello dsql"
    finally:
        server.stop()
    failures = conversion_failures(tmp_path / "temporal.log")
    assert failures and int_key.lower() in failures[0].lower()
