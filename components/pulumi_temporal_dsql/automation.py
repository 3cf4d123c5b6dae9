"""Pulumi Automation API for the ephemeral dev stack (`copilot dev infra apply | destroy`).

Nothing in src/ may import pulumi, so `temporal_dsql_devstack.infra` reaches this module by name through
importlib only when a command runs. The dev stack program (stacks/dev/dev_stack.py) runs inline,
so no Pulumi.yaml is needed. State goes to PULUMI_BACKEND_URL when set, else to a local file
backend under ~/.temporal-dsql/pulumi (no Pulumi Cloud login needed for a throwaway stack).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = [
    "DEV_PROJECT",
    "apply_dev_stack",
    "destroy_dev_stack",
    "dev_stack_module",
    "dev_stack_outputs",
    "inline_program",
    "pulumi_cli",
]

DEV_PROJECT = "temporal-dsql-dev"
DEFAULT_BACKEND = Path.home() / ".temporal-dsql" / "pulumi"


def pulumi_cli() -> str | None:
    """Path of the pulumi CLI the Automation API drives, or None when it is not installed."""
    return shutil.which("pulumi")


def _checkout_root() -> Path:
    """The checkout this module runs from: the dev stack program (stacks/dev/) is developer tooling
    that lives in the repository, not in the wheel (deployments never come here)."""
    for candidate in [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]:
        if (candidate / "stacks" / "dev" / "dev_stack.py").is_file():
            return candidate
    raise ComponentInputError("the dev stack program (stacks/dev/dev_stack.py) is not here", field="stacks/dev",
                              suggestion="Run `copilot dev infra` from a checkout of temporal-dsql.")


def dev_stack_module(root: Path | None = None) -> ModuleType:
    """stacks/dev/dev_stack.py of this checkout (stacks/ is a program directory, not a package)."""
    path = (root or _checkout_root()) / "stacks" / "dev" / "dev_stack.py"
    if "_temporal_dsql_dev_stack" in sys.modules:
        return sys.modules["_temporal_dsql_dev_stack"]
    spec = importlib.util.spec_from_file_location("_temporal_dsql_dev_stack", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ComponentInputError(f"the dev stack program {path} is missing", field="stacks/dev",
                                  suggestion="Run from a checkout of temporal-dsql.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def inline_program(prefix: str = "copilot-dev", owner: str | None = None) -> Callable[[], None]:
    """The Pulumi program function the Automation API runs (also run under mocks by the tests)."""
    module = dev_stack_module()

    def program() -> None:
        module.dev_stack_program(module.DevStackArgs(prefix=prefix, owner=owner))

    return program


def _stack(stack_name: str, region: str, prefix: str, owner: str | None) -> Any:
    from pulumi import automation as auto

    backend = os.environ.get("PULUMI_BACKEND_URL")
    if not backend:
        DEFAULT_BACKEND.mkdir(parents=True, exist_ok=True)
        backend = f"file://{DEFAULT_BACKEND}"
    env = {"PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "")}
    options = auto.LocalWorkspaceOptions(
        env_vars=env,
        project_settings=auto.ProjectSettings(name=DEV_PROJECT, runtime="python",
                                              backend=auto.ProjectBackend(url=backend)),
    )
    stack = auto.create_or_select_stack(stack_name=stack_name, project_name=DEV_PROJECT,
                                        program=inline_program(prefix, owner), opts=options)
    stack.set_config("aws:region", auto.ConfigValue(value=region))
    return stack


def _plain_outputs(outputs: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(getattr(value, "value", value)) for name, value in outputs.items()}


def apply_dev_stack(stack_name: str, *, region: str, prefix: str = "copilot-dev", owner: str | None = None,
                    on_output: Callable[[str], None] = print) -> dict[str, str]:
    """`pulumi up` the dev stack; its outputs (OUTPUT_NAMES) as strings."""
    stack = _stack(stack_name, region, prefix, owner)
    result = stack.up(on_output=on_output)
    return _plain_outputs(result.outputs)


def destroy_dev_stack(stack_name: str, *, region: str, prefix: str = "copilot-dev",
                      on_output: Callable[[str], None] = print, remove: bool = True) -> None:
    stack = _stack(stack_name, region, prefix, None)
    stack.destroy(on_output=on_output)
    if remove:
        stack.workspace.remove_stack(stack_name)


def dev_stack_outputs(stack_name: str, *, region: str, prefix: str = "copilot-dev") -> dict[str, str]:
    return _plain_outputs(_stack(stack_name, region, prefix, None).outputs())
