"""`copilot dev infra apply | destroy`: the ephemeral AWS resources of the dev stack.

The stack program is stacks/dev/dev_stack.py; it runs through the Pulumi Automation API, which
drives the `pulumi` CLI. src/ never imports pulumi (import-linter contract), so the Automation
API code lives in `pulumi_temporal_dsql.automation` and is imported here by module name, only
when a command runs. After `apply`, the stack's outputs are written into the dev `.env` under
the variable names the copilot (CopilotSettings, prefix COPILOT_) and the runtime image
(TEMPORAL_SQL_HOST, AWS_REGION, DSQL_*) read.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from temporal_dsql_devstack.errors import DevStackError

__all__ = [
    "AUTOMATION_MODULE",
    "DEV_ENV_KEYS",
    "InfraResult",
    "PulumiUnavailable",
    "env_values",
    "infra_apply",
    "infra_destroy",
    "merge_env_file",
]

AUTOMATION_MODULE = "pulumi_temporal_dsql.automation"
PULUMI_INSTALL_HINT = (
    "Install the Pulumi CLI (https://www.pulumi.com/docs/install/, e.g. `brew install pulumi` or the "
    "install script there), make sure `pulumi version` works, then run the command again. Nothing was "
    "created or destroyed."
)

# Stack output -> the .env variables it fills.
DEV_ENV_KEYS: Mapping[str, tuple[str, ...]] = {
    "aws_region": ("AWS_REGION", "COPILOT_AWS_REGION"),
    "monitored_dsql_endpoint": ("TEMPORAL_SQL_HOST", "CLUSTER_ENDPOINT"),
    "monitored_rate_limiter_table": ("DSQL_DISTRIBUTED_RATE_LIMITER_TABLE",),
    "copilot_dsql_endpoint": ("COPILOT_DSQL_ENDPOINT",),
    "kb_id": ("COPILOT_KB_ID",),
    "kb_data_source_id": ("COPILOT_KB_DATA_SOURCE_ID",),
    "kb_source_bucket": ("COPILOT_KB_BUCKET",),
    "profile_bucket": ("PROFILE_BUCKET",),
    "developer_policy_arn": ("DEV_DEVELOPER_POLICY_ARN",),
}


class PulumiUnavailable(DevStackError):
    """The pulumi CLI (which the Automation API drives) is not installed."""


@dataclass(frozen=True)
class InfraResult:
    outputs: dict[str, str]
    env: dict[str, str]
    env_file: Path | None


def env_values(outputs: Mapping[str, str]) -> dict[str, str]:
    """The .env entries for a stack's outputs; an output the stack lacks is an error, not a blank."""
    missing = sorted(set(DEV_ENV_KEYS) - set(outputs))
    if missing:
        raise DevStackError(f"the dev stack has no outputs {', '.join(missing)}", field="outputs",
                            allowed=sorted(DEV_ENV_KEYS),
                            suggestion="Run `copilot dev infra apply` again; the stack program may be older.")
    return {variable: str(outputs[name]) for name, variables in DEV_ENV_KEYS.items() for variable in variables}


def merge_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Set `values` in a dotenv file, keeping every other line (comments, other variables) as it was."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = dict(values)
    merged: list[str] = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if not line.lstrip().startswith("#") and "=" in line and key in pending:
            merged.append(f"{key}={pending.pop(key)}")
        else:
            merged.append(line)
    if pending:
        merged.append("# written by `copilot dev infra apply`")
        merged.extend(f"{key}={value}" for key, value in pending.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(merged) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _automation() -> ModuleType:
    if shutil.which("pulumi") is None:
        raise PulumiUnavailable("the pulumi CLI is not on PATH; `copilot dev infra` drives it through the "
                                "Pulumi Automation API.", field="pulumi", suggestion=PULUMI_INSTALL_HINT)
    return importlib.import_module(AUTOMATION_MODULE)


def infra_apply(*, stack: str = "dev", region: str, prefix: str = "copilot-dev", owner: str | None = None,
                env_file: Path | None = None, on_output: Callable[[str], None] = print) -> InfraResult:
    """Create or update the ephemeral resources and write their coordinates into `env_file`."""
    automation = _automation()
    outputs = automation.apply_dev_stack(stack, region=region, prefix=prefix, owner=owner, on_output=on_output)
    env = env_values(outputs)
    if env_file is not None:
        merge_env_file(env_file, env)
    return InfraResult(outputs=outputs, env=env, env_file=env_file)


def infra_destroy(*, stack: str = "dev", region: str, prefix: str = "copilot-dev",
                  on_output: Callable[[str], None] = print) -> None:
    """Destroy every resource of the dev stack and remove the stack."""
    _automation().destroy_dev_stack(stack, region=region, prefix=prefix, on_output=on_output)
