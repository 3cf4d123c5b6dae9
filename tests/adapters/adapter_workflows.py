"""A trivial workflow + activity for the dynamic-config acceptance runs (importable, no side effects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta  # noqa: TID251 - temporalio's activity timeouts take datetime.timedelta

from temporalio import activity, workflow


@dataclass
class GreetInput:
    name: str


@activity.defn
async def compose_greeting(arg: GreetInput) -> str:
    return f"hello {arg.name}"


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, arg: GreetInput) -> str:
        # A local activity: the whole run completes inside the eagerly started first workflow task
        # (no wait for pollers to find a fresh task queue's partitions; see the test module).
        return await workflow.execute_local_activity(
            compose_greeting, arg, start_to_close_timeout=timedelta(seconds=10)
        )
