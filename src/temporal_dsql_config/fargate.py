"""Task sizes ECS accepts: Fargate's CPU/memory table and what fits an EC2 container instance.

Fargate refuses any other cpu/memory pair at RegisterTaskDefinition/RunTask time, long after a
plan succeeds (and after the DSQL cluster exists), so the compiler derives only these sizes and a
guard rail refuses an explicit override outside them. botocore's ECS model types cpu and memory as
plain strings (no enum), so the table is AWS's documented one ("Task size", Amazon ECS Developer
Guide); tests/data/fargate_task_sizes.tsv keeps it with its source and the tests compare the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ECS_RESERVED_MEMORY_MIB",
    "FARGATE_CPU_UNITS",
    "FARGATE_MEMORY_MIB",
    "Ec2Capacity",
    "ec2_capacity",
    "fargate_cpu_at_least",
    "fargate_memory_at_least",
    "is_fargate_size",
    "nearest_fargate_sizes",
]

# CPU units -> the memory (MiB) Fargate allows with it (Linux).
FARGATE_MEMORY_MIB: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
FARGATE_CPU_UNITS: tuple[int, ...] = tuple(sorted(FARGATE_MEMORY_MIB))


def is_fargate_size(cpu: int, memory_mib: int) -> bool:
    return memory_mib in FARGATE_MEMORY_MIB.get(cpu, ())


def fargate_cpu_at_least(cpu: int) -> int:
    """The smallest Fargate CPU size >= cpu (the largest, 16 vCPU, when cpu is beyond it)."""
    return next((c for c in FARGATE_CPU_UNITS if c >= cpu), FARGATE_CPU_UNITS[-1])


def fargate_memory_at_least(cpu: int, memory_mib: int) -> int:
    """The smallest memory Fargate allows with ``cpu`` (a Fargate size) that is >= memory_mib."""
    allowed = FARGATE_MEMORY_MIB[cpu]
    return next((m for m in allowed if m >= memory_mib), allowed[-1])


def nearest_fargate_sizes(cpu: int, memory_mib: int) -> list[tuple[int, int]]:
    """Up to two valid (cpu, memory) pairs closest to the requested one: the smallest valid size
    that is at least as large in both, and the largest valid size at most as large in both."""
    up_cpu = fargate_cpu_at_least(cpu)
    up = (up_cpu, fargate_memory_at_least(up_cpu, memory_mib))
    down: tuple[int, int] | None = None
    for c in reversed(FARGATE_CPU_UNITS):
        fitting = [m for m in FARGATE_MEMORY_MIB[c] if m <= memory_mib]
        if c <= cpu and fitting:
            down = (c, fitting[-1])
            break
    return [p for p in dict.fromkeys([up, *([down] if down else [])]) if p]


# The ECS agent and the OS keep part of an instance: ECS_RESERVED_MEMORY (which the cluster's
# user data sets) plus what the kernel holds before the agent registers the instance. AWS:
# "Container instance memory management" (Amazon ECS Developer Guide): an instance registers less
# memory than its type advertises; reserve for the agent and the OS. We count 256 MiB for the agent
# (ECS_RESERVED_MEMORY) and 6 % of the installed memory for the kernel and page tables.
ECS_RESERVED_MEMORY_MIB = 256
KERNEL_SHARE = 0.06

# Graviton families the capacity provider runs (the images are ARM64): memory per vCPU in GiB.
_FAMILY_GIB_PER_VCPU = {"m": 4, "c": 2, "r": 8}
_GRAVITON = re.compile(r"(?P<family>[mcr])(?P<gen>[6-8])g[a-z]*\.(?P<size>medium|large|xlarge|(?P<n>\d+)xlarge|metal)")
_T4G = {"t4g.nano": (2, 0.5), "t4g.micro": (2, 1), "t4g.small": (2, 2), "t4g.medium": (2, 4),
        "t4g.large": (2, 8), "t4g.xlarge": (4, 16), "t4g.2xlarge": (8, 32)}


@dataclass(frozen=True, slots=True)
class Ec2Capacity:
    instance_type: str
    vcpus: int
    memory_mib: int

    @property
    def cpu_units(self) -> int:
        return 1024 * self.vcpus

    @property
    def task_memory_mib(self) -> int:
        """Memory left for tasks after the kernel's share and the ECS agent's reservation."""
        return int(self.memory_mib * (1 - KERNEL_SHARE)) - ECS_RESERVED_MEMORY_MIB

    def fits(self, cpu: int, memory_mib: int) -> bool:
        return cpu <= self.cpu_units and memory_mib <= self.task_memory_mib


def ec2_capacity(instance_type: str) -> Ec2Capacity | None:
    """vCPUs and memory of a Graviton instance type, from AWS's naming (medium = 1 vCPU, large = 2,
    xlarge = 4, Nxlarge = 4N; m: 4 GiB per vCPU, c: 2, r: 8); None for types this cannot size."""
    if instance_type in _T4G:
        vcpus, gib = _T4G[instance_type]
        return Ec2Capacity(instance_type, vcpus, int(gib * 1024))
    match = _GRAVITON.fullmatch(instance_type)
    if match is None or match["size"] == "metal":
        return None
    size = match["size"]
    vcpus = {"medium": 1, "large": 2, "xlarge": 4}.get(size) or 4 * int(match["n"])
    return Ec2Capacity(instance_type, vcpus, vcpus * _FAMILY_GIB_PER_VCPU[match["family"]] * 1024)
