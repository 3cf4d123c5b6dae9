"""Pulumi entry point of the ephemeral dev stack (see dev_stack.py).

`copilot dev infra apply` runs this program inline through the Automation API and needs no
Pulumi.yaml. To drive it with the pulumi CLI instead, put a Pulumi.yaml (runtime: python,
main: stacks/dev) beside it. Config: prefix (default copilot-dev), owner.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dev_stack import dev_stack_program

dev_stack_program()
