"""Task sizes AWS accepts: every task's containers fit in it, and Fargate knows the size.

RegisterTaskDefinition refuses a task whose container `cpu` (or `memory`/`memoryReservation`)
values sum to more than the task's, and Fargate runs only its fixed cpu/memory pairs. Neither is
checked by botocore's parameter validator, so a plan could succeed and the deployment fail.
"""

from __future__ import annotations

from typing import Any

import pytest
from components_helpers import PRESETS, containers, one

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.preview.plan import Plan
from pulumi_temporal_dsql.service import reservations
from pulumi_temporal_dsql.task_definitions import FARGATE_MEMORY_MIB, check_fargate_size

TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLES = ("history", "matching", "frontend", "worker", "ui")


def _assert_fits(task: Any) -> None:
    cpu, memory = int(task.inputs["cpu"]), int(task.inputs["memory"])
    assert memory in FARGATE_MEMORY_MIB.get(cpu, ()), f"{task.name}: {cpu}/{memory} is not a Fargate size"
    defs = containers(task)
    cpu_sum = sum(int(c.get("cpu", 0)) for c in defs)
    # ECS counts the hard limit where one is given, else the reservation.
    memory_sum = sum(int(c.get("memory") or c.get("memoryReservation") or 0) for c in defs)
    assert cpu_sum <= cpu, f"{task.name}: containers reserve {cpu_sum} CPU > task {cpu}"
    assert memory_sum <= memory, f"{task.name}: containers reserve {memory_sum} MiB > task {memory}"


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("copilot", ["false", "true"])
def test_every_task_fits_its_size_and_the_size_is_a_fargate_size(plan_for, preset: str, copilot: str) -> None:  # type: ignore[no-untyped-def]
    plan_: Plan = plan_for(preset, copilot=copilot)
    tasks = plan_.by_type(TASK)
    names = {t.name for t in tasks}
    # Every role, both set-up tasks and (with the copilot) its server and worker are covered.
    expected = {f"temporal-plan-{r}-task" for r in ROLES} | {
        "temporal-plan-schema-task", "temporal-plan-namespace-task"
    }
    if copilot == "true":
        expected |= {"temporal-plan-copilot-temporal-task", "temporal-plan-copilot-worker-task"}
    assert expected <= names, expected - names
    for task in tasks:
        _assert_fits(task)


def test_the_starter_worker_keeps_most_of_its_small_task(plans: dict[str, Plan]) -> None:
    task = one(plans["starter"], TASK, "temporal-plan-worker-task")
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("256", "512")
    temporal = next(c for c in containers(task) if c["name"] == "temporal")
    # The helpers take at most a quarter; the server keeps the rest.
    assert temporal["cpu"] >= 192 and temporal["memoryReservation"] >= 384


@pytest.mark.parametrize("cpu", sorted(FARGATE_MEMORY_MIB))
def test_reservations_sum_to_the_task_for_every_fargate_size(cpu: int) -> None:
    for memory in FARGATE_MEMORY_MIB[cpu]:
        for collector in (True, False):
            sizes = reservations(cpu, memory, collector=collector)
            parts = [sizes.init, sizes.refresher, sizes.temporal, *([sizes.collector] if sizes.collector else [])]
            assert sum(p[0] for p in parts) == cpu and sum(p[1] for p in parts) == memory
            assert sizes.temporal[0] * 4 >= cpu * 3 and sizes.temporal[1] * 4 >= memory * 3


def test_a_size_fargate_refuses_fails_the_plan_naming_the_allowed_values() -> None:
    with pytest.raises(ComponentInputError) as bad_cpu:
        check_fargate_size("temporal-plan-worker-task", 300, 512)
    assert bad_cpu.value.field == "temporal-plan-worker-task.cpu"
    assert "cpu 300" in str(bad_cpu.value) and "256" in str(bad_cpu.value)
    with pytest.raises(ComponentInputError) as bad_memory:
        check_fargate_size("temporal-plan-worker-task", 256, 4096)
    assert "memory 4096" in str(bad_memory.value) and "2048" in str(bad_memory.value)
    check_fargate_size("ok", 256, 512)
