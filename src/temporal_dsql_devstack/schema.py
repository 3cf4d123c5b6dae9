"""`copilot dev schema setup`: every schema the stack needs, locally or on the AWS dev stack.

Local (default): the profile store's and the copilot state store's tables in the PostgreSQL of
`copilot dev up`. Each store owns its DDL (PostgreSQL dialect locally, DSQL in AWS); this module
only connects and applies each store's statements (idempotent: IF NOT EXISTS).

AWS (`--aws`, dev-environment Requirement 7), against the `.env` `copilot dev infra apply` writes:
  1./2. the Temporal persistence schema on the monitored and on the copilot DSQL cluster: the
        runtime image (`copilot dev build`) run with `docker run --rm`, executing exactly the ECS
        set-up task's command (`pulumi_temporal_dsql.setup.SCHEMA_COMMAND`, loaded by name);
  3.    the copilot application schema on the copilot cluster and
  4.    the profile store schema on the monitored cluster (DSQL dialect, asyncpg, IAM token);
  5.    the visibility index template and indices (the deployment's and `<index>_copilot`) with
        docker/runtime/visibility_setup.py, the program the ECS visibility task runs. The dev
        stack creates no OpenSearch domain, so this step needs --visibility-endpoint (or
        VISIBILITY_ENDPOINT in .env) and is reported as skipped without one. The index template
        comes from --template-file, else from the admin-tools image (`docker run ... cat`).
Every step is reported (ok / FAILED with its cause and a fix / skipped) and a failing step never
stops the next one (Requirement 7.5).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from temporal_dsql_core.dsql import Dialect, IamTokenProvider, apply_ddl, create_pool
from temporal_dsql_devstack.build import RUNTIME_IMAGE, DockerUnavailable, docker_engine
from temporal_dsql_devstack.errors import DevStackError
from temporal_dsql_devstack.state import StackState
from temporal_dsql_devstack.system_deps import REPO_ROOT

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "SCHEMA_STEPS",
    "SETUP_MODULE",
    "AwsSchemaSetup",
    "AwsTargets",
    "Step",
    "StepFailed",
    "StepResult",
    "StepSkipped",
    "dsql_connector",
    "read_env_file",
    "run_steps",
    "schema_command",
    "setup_aws_schemas",
    "setup_schemas",
]

# (label, module, function(dialect) -> list of DDL statements): each store's own DDL.
SCHEMA_STEPS: tuple[tuple[str, str, str], ...] = (
    ("profile store", "temporal_dsql_profiles.storage", "schema_statements"),
    ("copilot state store", "temporal_dsql_copilot.store.schema", "schema_statements"),
)


def _resolve(module: str, attribute: str) -> Callable[[Dialect], Sequence[str]] | None:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError:
        return None
    function = getattr(loaded, attribute, None)
    return function if callable(function) else None


async def _run(dsn: str, progress: Callable[[str], None]) -> dict[str, bool]:
    import asyncpg

    results: dict[str, bool] = {}
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        for label, module, attribute in SCHEMA_STEPS:
            function = _resolve(module, attribute)
            if function is None:
                progress(f"schema: {label}: SKIPPED, {module}.{attribute} is not in this tree yet")
                results[label] = False
                continue
            try:
                await apply_ddl(pool, function(Dialect.POSTGRES))
            except Exception as error:  # report it and continue with the next store
                progress(f"schema: {label}: FAILED: {error}")
                results[label] = False
            else:
                progress(f"schema: {label}: ok")
                results[label] = True
    finally:
        await pool.close()
    return results


def setup_schemas(state: StackState, progress: Callable[[str], None] = lambda m: None) -> dict[str, bool]:
    dsn = state.env.get("COPILOT_DEV_POSTGRES_DSN")
    if dsn is None or "postgres" not in state.services:
        raise DevStackError("PostgreSQL of the local stack is not running", field="postgres",
                            suggestion="Run `copilot dev up` first.")
    return asyncio.run(_run(dsn, progress))


# --------------------------------------------------------------------------------------------------
# AWS mode: `copilot dev schema setup --aws` against the ephemeral dev stack
# --------------------------------------------------------------------------------------------------

# src/ never imports pulumi (import-linter contract): the schema command is defined once, in the
# components, and loaded by module name only when a step runs (as temporal_dsql_devstack.infra does).
SETUP_MODULE = "pulumi_temporal_dsql.setup"
IMAGES_MODULE = "pulumi_temporal_dsql.images"
VISIBILITY_PROGRAM = REPO_ROOT / "docker" / "runtime" / "visibility_setup.py"
# Where Temporal's admin-tools image keeps the visibility index template (visibility_setup.py's default).
TEMPLATE_IN_IMAGE = "/etc/temporal/schema/elasticsearch/visibility/index_template_v7.json"
# The dev stack's visibility index; the copilot's own is `<index>_copilot`, as in the preset component.
DEFAULT_VISIBILITY_INDEX = "temporal_visibility_v1_dev"
SCHEMA_DOCKER_HINT = ("Install Docker (Docker Desktop, or docker-ce on Linux), start the engine, check that "
                      "`docker info` works, build the runtime image with `copilot dev build`, then run "
                      "`copilot dev schema setup --aws` again.")
# Variables the steps pass to the containers / the visibility program (values in the child env only,
# never on the command line).
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

Connector = Callable[[str], Awaitable["asyncpg.Pool"]]


class StepFailed(Exception):
    """A step's specific cause and how to fix it."""

    def __init__(self, cause: str, fix: str) -> None:
        super().__init__(cause)
        self.cause = cause
        self.fix = fix


class StepSkipped(StepFailed):
    """Nothing to do for this step in this environment (reported, not a failure)."""


@dataclass(frozen=True)
class StepResult:
    step: str
    target: str
    status: Literal["ok", "FAILED", "skipped"]
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


@dataclass(frozen=True)
class Step:
    name: str
    target: str
    run: Callable[[], str]
    """Returns what it did; raises StepFailed / StepSkipped (any other exception is a failure too)."""


def run_steps(steps: Sequence[Step], progress: Callable[[str], None] = lambda m: None) -> list[StepResult]:
    """Run every step in order; a failing step is reported and the next one still runs (Req. 7.5)."""
    results: list[StepResult] = []
    for step in steps:
        try:
            detail = step.run()
        except StepSkipped as skipped:
            result = StepResult(step.name, step.target, "skipped", skipped.cause, skipped.fix)
        except StepFailed as failed:
            result = StepResult(step.name, step.target, "FAILED", failed.cause, failed.fix)
        except Exception as error:  # an unforeseen cause is still this step's failure, not the run's
            result = StepResult(step.name, step.target, "FAILED", f"{type(error).__name__}: {error}",
                                "Read the cause above; fix it and run the command again (every step is idempotent).")
        else:
            result = StepResult(step.name, step.target, "ok", detail)
        line = f"schema: {result.step} on {result.target}: {result.status}: {result.detail}"
        progress(line + (f" -> fix: {result.fix}" if result.fix else ""))
        results.append(result)
    return results


class AwsTargets(BaseModel):
    """Where the schemas go: the dev stack's coordinates, as `copilot dev infra apply` writes them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(min_length=1)
    monitored_endpoint: str = Field(min_length=1)
    copilot_endpoint: str = Field(min_length=1)
    visibility_endpoint: str | None = None
    visibility_index: str = Field(default=DEFAULT_VISIBILITY_INDEX, pattern=r"^[a-z0-9_][a-z0-9_.-]*$")

    @property
    def visibility_indices(self) -> list[str]:
        return [self.visibility_index, f"{self.visibility_index}_copilot"]

    @classmethod
    def from_env(cls, values: Mapping[str, str], **overrides: str | None) -> AwsTargets:
        """From dotenv values (DEV_ENV_KEYS names); a non-None override wins. Names every missing key."""
        sources: dict[str, tuple[str, ...]] = {
            "region": ("AWS_REGION", "COPILOT_AWS_REGION"),
            "monitored_endpoint": ("CLUSTER_ENDPOINT", "TEMPORAL_SQL_HOST"),
            "copilot_endpoint": ("COPILOT_DSQL_ENDPOINT",),
            "visibility_endpoint": ("VISIBILITY_ENDPOINT", "TEMPORAL_ELASTICSEARCH_HOST"),
            "visibility_index": ("TEMPORAL_ELASTICSEARCH_INDEX",),
        }
        data: dict[str, str] = {}
        for name, keys in sources.items():
            value = overrides.get(name) or next((values[k] for k in keys if values.get(k)), None)
            if value:
                data[name] = value
        required = ("region", "monitored_endpoint", "copilot_endpoint")
        missing = [f"{name} ({' or '.join(sources[name])})" for name in required if name not in data]
        if missing:
            raise DevStackError(f"the dev .env lacks {', '.join(missing)}", field="env_file",
                                suggestion="Run `copilot dev infra apply` (it writes them into .env) or pass "
                                           "--env-file with the file it wrote.")
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            problem = error.errors()[0]
            raise DevStackError(f"invalid {problem['loc'][0]}: {problem['msg']}", field=str(problem["loc"][0]),
                                suggestion="Fix the value in the dev .env or the matching option.") from error


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file, read by python-dotenv (the dotenv format docker compose's
    env_file shares: comments, `export `, quotes and escapes); a line without a value is skipped."""
    from dotenv import dotenv_values

    if not path.is_file():
        raise DevStackError(f"no dev .env at {path}", field="env_file",
                            suggestion="Run `copilot dev infra apply` first (it writes the file) or pass --env-file.")
    return {k: v for k, v in dotenv_values(path, interpolate=False, encoding="utf-8").items() if v is not None}


def schema_command() -> str:
    """The exact shell command of the components' schema set-up task (one definition, loaded by name)."""
    try:
        command = importlib.import_module(SETUP_MODULE).SCHEMA_COMMAND
    except (ImportError, AttributeError) as error:
        raise StepFailed(f"cannot load {SETUP_MODULE}.SCHEMA_COMMAND: {error}",
                         "Run from a checkout with the components installed (`uv sync --frozen`).") from error
    return str(command)


def aws_credentials(region: str) -> dict[str, str]:
    """The caller's AWS credentials (boto3's chain: env, profile, SSO), frozen, as env variables."""
    import boto3

    credentials = boto3.Session(region_name=region).get_credentials()
    if credentials is None:
        raise StepFailed("no AWS credentials found (environment, AWS_PROFILE, SSO)",
                         "Export AWS_PROFILE and run `aws sso login`, or export AWS_ACCESS_KEY_ID / "
                         "AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN).")
    frozen = credentials.get_frozen_credentials()
    env = {"AWS_ACCESS_KEY_ID": str(frozen.access_key), "AWS_SECRET_ACCESS_KEY": str(frozen.secret_key)}
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = str(frozen.token)
    return env


def dsql_connector(region: str) -> Connector:
    """asyncpg pools on a DSQL cluster as `admin` with an IAM token (as the stores connect on AWS)."""

    async def connect(endpoint: str) -> asyncpg.Pool:
        return await create_pool(host=endpoint, port=5432, user="admin", database="postgres",
                                 password=IamTokenProvider(hostname=endpoint, region=region, admin=True),
                                 ssl="require", min_size=1, max_size=2, timeout=30.0)

    return connect


def _tail(text: str, lines: int = 5) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(no output)"


def _access_fix(text: str, permission: str) -> str | None:
    lowered = text.lower()
    if any(marker in lowered for marker in ("accessdenied", "access denied", "not authorized", "password authentication",
                                            "unauthorized", "http 403", "expiredtoken", "security token")):
        return (f"Your AWS identity needs {permission} on this resource: attach the policy in "
                "DEV_DEVELOPER_POLICY_ARN (.env) to it, and refresh expired credentials (`aws sso login`).")
    return None


@dataclass
class AwsSchemaSetup:
    """The five steps of `copilot dev schema setup --aws`; every collaborator is injectable for tests."""

    targets: AwsTargets
    image: str = RUNTIME_IMAGE
    template_file: Path | None = None
    admin_tools_image: str | None = None
    dialect: Dialect = Dialect.DSQL
    connect: Connector | None = None
    credentials: Callable[[], dict[str, str]] | None = None
    python: str = sys.executable
    visibility_program: Path = VISIBILITY_PROGRAM
    timeout: float = 1200.0
    _docker: str | None = field(default=None, init=False, repr=False)
    _docker_error: DockerUnavailable | None = field(default=None, init=False, repr=False)
    _credentials: dict[str, str] | None = field(default=None, init=False, repr=False)

    def steps(self) -> list[Step]:
        t = self.targets
        monitored, copilot = f"monitored ({t.monitored_endpoint})", f"copilot ({t.copilot_endpoint})"
        return [
            Step("Temporal persistence schema", monitored, lambda: self.temporal_schema(t.monitored_endpoint)),
            Step("Temporal persistence schema", copilot, lambda: self.temporal_schema(t.copilot_endpoint)),
            Step("copilot application schema", copilot,
                 lambda: self.store_schema("temporal_dsql_copilot.store.schema", t.copilot_endpoint)),
            Step("profile store schema", monitored,
                 lambda: self.store_schema("temporal_dsql_profiles.storage", t.monitored_endpoint)),
            Step("visibility indices", t.visibility_endpoint or "(no visibility endpoint)", self.visibility),
        ]

    def run(self, progress: Callable[[str], None] = lambda m: None) -> list[StepResult]:
        return run_steps(self.steps(), progress)

    # --- shared ---------------------------------------------------------------------------------

    def _aws_env(self) -> dict[str, str]:
        if self._credentials is None:
            self._credentials = (self.credentials or (lambda: aws_credentials(self.targets.region)))()
        return {"AWS_REGION": self.targets.region, "AWS_DEFAULT_REGION": self.targets.region, **self._credentials}

    def _docker_cli(self) -> str:
        if self._docker is None and self._docker_error is None:
            try:
                self._docker = docker_engine()
            except DockerUnavailable as error:
                self._docker_error = error
        if self._docker_error is not None:
            raise StepFailed(self._docker_error.message, SCHEMA_DOCKER_HINT)
        assert self._docker is not None
        return self._docker

    # --- steps 1 and 2: the runtime image's temporal-sql-tool, the ECS set-up task's command -----

    def docker_run_argv(self, docker: str, command: str, credential_names: Sequence[str]) -> list[str]:
        passed = ["CLUSTER_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION", *credential_names]
        return [docker, "run", "--rm", "--entrypoint", "/bin/sh",
                *(part for name in passed for part in ("-e", name)), self.image, "-c", command]

    def temporal_schema(self, endpoint: str) -> str:
        command = schema_command()
        docker = self._docker_cli()
        inspect = subprocess.run([docker, "image", "inspect", "--format", "{{.Id}}", self.image],
                                 capture_output=True, text=True, timeout=60, check=False)
        if inspect.returncode != 0:
            raise StepFailed(f"the image {self.image} is not present locally ({_tail(inspect.stderr, 1)})",
                             "Build it with `copilot dev build`, or pass --image with a runtime image you have.")
        aws_env = self._aws_env()
        env = {**os.environ, **aws_env, "CLUSTER_ENDPOINT": endpoint}
        argv = self.docker_run_argv(docker, command, [k for k in CREDENTIAL_VARIABLES if k in aws_env])
        try:
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as error:
            raise StepFailed(f"temporal-sql-tool did not finish within {self.timeout:.0f} s",
                             "Check that this machine reaches the cluster on 5432 and run the command again.") from error
        if result.returncode != 0:
            output = result.stderr + result.stdout
            raise StepFailed(f"temporal-sql-tool exited {result.returncode}: {_tail(output)}",
                             _access_fix(output, "dsql:DbConnectAdmin")
                             or "Check CLUSTER_ENDPOINT/TEMPORAL_SQL_HOST in .env and that the cluster is ACTIVE; "
                                "the command is idempotent, run it again.")
        return f"setup-schema + update-schema with {self.image}"

    # --- steps 3 and 4: each store's own DDL, in the DSQL dialect, over asyncpg + IAM token -----

    def store_schema(self, module: str, endpoint: str) -> str:
        function = _resolve(module, "schema_statements")
        if function is None:
            raise StepFailed(f"{module}.schema_statements is not in this tree", "Update the checkout.")
        statements = list(function(self.dialect))
        connect = self.connect or dsql_connector(self.targets.region)

        async def apply() -> None:
            pool = await connect(endpoint)
            try:
                await apply_ddl(pool, statements)
            finally:
                await pool.close()

        try:
            asyncio.run(apply())
        except StepFailed:
            raise
        except (OSError, TimeoutError) as error:
            raise StepFailed(f"cannot reach {endpoint}:5432: {error}",
                             "Check the endpoint in .env (`copilot dev infra apply` writes it) and that outbound "
                             "5432 is open from this machine.") from error
        except Exception as error:
            text = f"{type(error).__name__}: {error}"
            if type(error).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
                raise StepFailed(text, "Export AWS_PROFILE and run `aws sso login`, or export AWS_ACCESS_KEY_ID / "
                                       "AWS_SECRET_ACCESS_KEY.") from error
            raise StepFailed(text, _access_fix(text, "dsql:DbConnectAdmin")
                             or "Read the cause; the DDL is idempotent (IF NOT EXISTS), run the command again.") from error
        return f"{len(statements)} statements ({self.dialect.value})"

    # --- step 5: the visibility index template and indices, as the ECS visibility task does -----

    def _template(self, workdir: Path) -> Path:
        if self.template_file is not None:
            return self.template_file
        try:
            docker = self._docker_cli()
        except StepFailed as error:
            raise StepFailed(f"no --template-file and cannot read it from an image: {error.cause}",
                             "Pass --template-file <Temporal's schema/elasticsearch/visibility/index_template_v7.json>, "
                             "or install Docker so it is read from the admin-tools image.") from error
        image = self.admin_tools_image
        if image is None:
            try:
                image = str(importlib.import_module(IMAGES_MODULE).DEFAULT_ADMIN_TOOLS_IMAGE)
            except (ImportError, AttributeError) as error:
                raise StepFailed(f"cannot load {IMAGES_MODULE}.DEFAULT_ADMIN_TOOLS_IMAGE: {error}",
                                 "Pass --admin-tools-image or --template-file.") from error
        result = subprocess.run([docker, "run", "--rm", "--entrypoint", "cat", image, TEMPLATE_IN_IMAGE],
                                capture_output=True, timeout=600, check=False)
        if result.returncode != 0 or not result.stdout.strip():
            raise StepFailed(f"cannot read {TEMPLATE_IN_IMAGE} from {image}: "
                             f"{_tail(result.stderr.decode(errors='replace'), 2)}",
                             "Pass --template-file with the index template, or --admin-tools-image with an image "
                             "that has it.")
        path = workdir / "index_template_v7.json"
        path.write_bytes(result.stdout)
        return path

    def visibility(self) -> str:
        endpoint = self.targets.visibility_endpoint
        if not endpoint:
            raise StepSkipped("the dev stack creates no OpenSearch domain, so there is no visibility store to set up",
                              "To create the indices on a domain, pass --visibility-endpoint https://<domain> "
                              "(or set VISIBILITY_ENDPOINT in .env).")
        if not self.visibility_program.is_file():
            raise StepFailed(f"{self.visibility_program} is missing", "Run from a checkout of the project.")
        with tempfile.TemporaryDirectory(prefix="copilot-visibility-") as workdir:
            template = self._template(Path(workdir))
            env = {
                **os.environ,
                # A developer's command should not wait the set-up task's five minutes for a bad endpoint.
                "VISIBILITY_ATTEMPTS": os.environ.get("VISIBILITY_ATTEMPTS", "3"),
                "VISIBILITY_BACKOFF": os.environ.get("VISIBILITY_BACKOFF", "5"),
                **self._aws_env(),
                "VISIBILITY_ENDPOINT": endpoint if "://" in endpoint else f"https://{endpoint}",
                "VISIBILITY_INDICES": ",".join(self.targets.visibility_indices),
                "VISIBILITY_TEMPLATE_FILE": str(template),
            }
            result = subprocess.run([self.python, str(self.visibility_program)], env=env, capture_output=True,
                                    text=True, timeout=self.timeout, check=False)
        if result.returncode != 0:
            output = result.stderr + result.stdout
            raise StepFailed(_tail(output, 2), _access_fix(output, "es:ESHttp* (es:ESHttpHead/Put)")
                             or "Check that this machine reaches the endpoint (a VPC domain needs a tunnel or a "
                                "bastion) and run the command again; every call is idempotent.")
        return _tail(result.stdout, 10)


def setup_aws_schemas(env_file: Path, *, image: str = RUNTIME_IMAGE, region: str | None = None,
                      visibility_endpoint: str | None = None, visibility_index: str | None = None,
                      template_file: Path | None = None, admin_tools_image: str | None = None,
                      progress: Callable[[str], None] = lambda m: None) -> list[StepResult]:
    """`copilot dev schema setup --aws`: every step against the dev stack in `env_file` (DSQL + IAM)."""
    targets = AwsTargets.from_env(read_env_file(env_file), region=region, visibility_endpoint=visibility_endpoint,
                                  visibility_index=visibility_index)
    return AwsSchemaSetup(targets, image=image, template_file=template_file,
                          admin_tools_image=admin_tools_image).run(progress)
