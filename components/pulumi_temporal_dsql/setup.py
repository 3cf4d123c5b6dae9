"""Schema and namespace set-up as part of `pulumi up`, run once and never concurrently.

A small runner Lambda starts ONE ECS task (`ecs:RunTask`, count 1), waits for it to stop and
fails the deployment when the set-up container's exit code is not 0. Three `aws.lambda_.Invocation`
resources call it:
- `schema`: the DSQL schema (`setup-schema -v 0.0` then `update-schema` to the image's
  versioned directory; both are idempotent), BEFORE the Temporal services are created: the
  services depend on this invocation;
- `visibility`: Temporal's visibility index template and indices (the deployment's and the
  copilot's) on the OpenSearch domain, SigV4-signed with the task role, also BEFORE the services;
- `namespace`: registers the default namespace through the frontend load balancer AFTER the
  frontend service exists (`describe || create`, retried until the frontend answers).
An invocation re-runs only when its input changes (a new task definition revision, i.e. a new
image or schema version). Pulumi's stack lock serialises `up`, so two set-ups never overlap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.containers import canonical_json, environment
from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import assume_role_policy, policy_document, statement
from pulumi_temporal_dsql.task_definitions import task_definition

__all__ = [
    "NAMESPACE_COMMAND",
    "RUNNER_SOURCE",
    "SCHEMA_COMMAND",
    "SCHEMA_DIR",
    "VISIBILITY_COMMAND",
    "OneOffTask",
    "OneOffTaskArgs",
    "SetupRunner",
    "SetupRunnerArgs",
    "visibility_env",
    "visibility_setup_program",
]

# Where docker/runtime/Dockerfile puts the fork's versioned DSQL schema (its ENV TEMPORAL_SCHEMA_DIR;
# tests/runtime/test_dockerfiles.py keeps the two equal).
SCHEMA_DIR = "/etc/temporal/schema/dsql/temporal/versioned"
# Runs in the runtime image: the fork's sql tool with the dsql plugin and IAM auth (the plugin
# always connects as `admin`, hence dsql:DbConnectAdmin on the task role).
SCHEMA_COMMAND = (
    "set -eu; "
    'TOOL="temporal-sql-tool --plugin dsql --ep $CLUSTER_ENDPOINT -p 5432 --db postgres --user admin --tls"; '
    "$TOOL setup-schema -v 0.0; "
    f"$TOOL update-schema -d ${{TEMPORAL_SCHEMA_DIR:-{SCHEMA_DIR}}}"
)
# Runs in the admin-tools image (the `temporal` CLI); idempotent: describe first.
NAMESPACE_COMMAND = (
    "set -eu; "
    "for i in $(seq 1 90); do temporal operator cluster health --address $TEMPORAL_ADDRESS && break; sleep 10; done; "
    "temporal operator namespace describe --namespace $TEMPORAL_NAMESPACE --address $TEMPORAL_ADDRESS "
    "|| temporal operator namespace create --namespace $TEMPORAL_NAMESPACE --retention $TEMPORAL_NAMESPACE_RETENTION "
    "--address $TEMPORAL_ADDRESS"
)

# Runs in the admin-tools image (python3 and Temporal's schema directory, with the visibility index
# template, but no SigV4 tool): docker/runtime/visibility_setup.py, whose source the task carries
# in its env, PUTs the template and creates each missing index, signing with the task role.
VISIBILITY_COMMAND = 'exec python3 -c "$VISIBILITY_SETUP_PROGRAM"'


def visibility_setup_program() -> str:
    """The source of docker/runtime/visibility_setup.py (stdlib only, so any python3 runs it),
    shipped inside the package."""
    from pulumi_temporal_dsql.resources import data_file

    return data_file("docker", "runtime", "visibility_setup.py").read_text(encoding="utf-8")


def visibility_env(endpoint: str, indices: Sequence[str], region: str) -> dict[str, str]:
    """The visibility set-up task's env: where, which indices, and the program itself."""
    return {
        "VISIBILITY_ENDPOINT": endpoint if "://" in endpoint else f"https://{endpoint}",
        "VISIBILITY_INDICES": ",".join(indices),
        "AWS_REGION": region,
        "VISIBILITY_SETUP_PROGRAM": visibility_setup_program(),
    }


RUNNER_SOURCE = '''"""Run one ECS task to completion (temporal-dsql set-up runner)."""
import boto3

ecs = boto3.client("ecs")


def handler(event, context):
    if event.get("tf", {}).get("action") == "delete":
        return {"skipped": "delete"}
    network = {"awsvpcConfiguration": {"subnets": event["subnets"], "securityGroups": event["security_groups"],
                                       "assignPublicIp": "DISABLED"}}
    started = ecs.run_task(cluster=event["cluster"], taskDefinition=event["task_definition"], count=1,
                           capacityProviderStrategy=[{"capacityProvider": event["capacity_provider"], "weight": 1}],
                           networkConfiguration=network, startedBy="temporal-dsql-setup")
    if started.get("failures") or not started.get("tasks"):
        raise RuntimeError(f"RunTask failed: {started.get('failures')}")
    task_arn = started["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=event["cluster"], tasks=[task_arn],
                                         WaiterConfig={"Delay": 10, "MaxAttempts": 85})
    task = ecs.describe_tasks(cluster=event["cluster"], tasks=[task_arn])["tasks"][0]
    codes = {c["name"]: c.get("exitCode") for c in task["containers"]}
    if codes.get(event["container"]) != 0:
        raise RuntimeError(f"set-up task {task_arn} failed: exit codes {codes}, {task.get('stoppedReason')}")
    return {"task": task_arn, "exit_codes": codes}
'''


@dataclass(kw_only=True)
class SetupRunnerArgs:
    cluster_arn: pulumi.Input[str]
    pass_role_arns: Sequence[pulumi.Input[str]]
    """Task and execution roles the runner may pass to RunTask."""
    task_families: Sequence[str]
    """The set-up task definitions' families (`OneOffTaskArgs.family`): the only ones it may run."""
    log_retention_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)


class SetupRunner(pulumi.ComponentResource):
    """The runner Lambda (inline code, Python 3.12 arm64, boto3 from the runtime)."""

    function: aws.lambda_.Function
    role: aws.iam.Role

    def __init__(self, name: str, args: SetupRunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:setup:SetupRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id
        function_name = f"{name}-runner"[:64]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{function_name}", retention_in_days=args.log_retention_days,
            tags=dict(args.tags), opts=child,
        )
        if not args.task_families:
            raise ComponentInputError(
                "The set-up runner needs the families of the tasks it runs.", field="task_families",
                suggestion="Pass the OneOffTask families, e.g. [f'{name}-schema', f'{name}-namespace'].",
            )
        families = sorted(set(args.task_families))
        cluster_name = pulumi.Output.from_input(args.cluster_arn).apply(lambda arn: arn.split("/")[-1])
        policy = pulumi.Output.all(
            region, account, cluster_name, self.log_group.arn, args.cluster_arn, *args.pass_role_arns
        ).apply(
            lambda v: policy_document(
                # Only the set-up families (any revision: a new image is a new revision), and only on
                # this cluster: never a service's task definition, never another cluster.
                statement(["ecs:RunTask"], [f"arn:aws:ecs:{v[0]}:{v[1]}:task-definition/{f}:*" for f in families],
                          "RunSetupTasks", condition={"ArnEquals": {"ecs:cluster": v[4]}}),
                statement(["ecs:DescribeTasks"], [f"arn:aws:ecs:{v[0]}:{v[1]}:task/{v[2]}/*"], "WatchSetupTasks"),
                statement(["iam:PassRole"], list(v[5:]), "PassTaskRoles"),
                statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{v[3]}:*"], "Logs"),
            )
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="setup-runner", policy=policy)],
            tags=dict(args.tags),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            role=self.role.arn,
            runtime="python3.12",
            architectures=["arm64"],
            handler="index.handler",
            code=pulumi.AssetArchive({"index.py": pulumi.StringAsset(RUNNER_SOURCE)}),
            timeout=900,
            memory_size=128,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group]),
        )
        self.register_outputs({"function_name": self.function.name})


@dataclass(kw_only=True)
class OneOffTaskArgs:
    runner: SetupRunner
    family: str
    image: pulumi.Input[str]
    command: str
    env: pulumi.Input[Mapping[str, str]]
    cluster_arn: pulumi.Input[str]
    execution_role_arn: pulumi.Input[str]
    task_role_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: Sequence[pulumi.Input[str]]
    capacity_provider: pulumi.Input[str]
    log_group: pulumi.Input[str]
    region: pulumi.Input[str]
    fargate: bool = True
    depends_on: Sequence[pulumi.Resource] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class OneOffTask(pulumi.ComponentResource):
    """A set-up task definition and the invocation that runs it once per change."""

    task_definition: aws.ecs.TaskDefinition
    invocation: aws.lambda_.Invocation

    def __init__(self, name: str, args: OneOffTaskArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:setup:OneOffTask", name, None, opts)
        containers = pulumi.Output.all(pulumi.Output.from_input(args.env), args.log_group, args.region, args.image).apply(
            lambda v: canonical_json(
                [
                    {
                        "name": "setup",
                        "image": v[3],
                        "essential": True,
                        "entryPoint": ["/bin/sh", "-c"],
                        "command": [args.command],
                        "environment": environment(v[0]),
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {"awslogs-group": v[1], "awslogs-region": v[2], "awslogs-stream-prefix": "setup"},
                        },
                    }
                ]
            )
        )
        self.task_definition = task_definition(
            f"{name}-task",
            family=args.family,
            cpu=256,
            memory_mib=512,
            containers=containers,
            execution_role_arn=args.execution_role_arn,
            task_role_arn=args.task_role_arn,
            fargate=args.fargate,
            tags=args.tags,
            parent=self,
        )
        payload = pulumi.Output.all(
            args.cluster_arn, self.task_definition.arn, pulumi.Output.from_input(args.subnet_ids),
            pulumi.Output.all(*args.security_group_ids), args.capacity_provider,
        ).apply(
            lambda v: json.dumps(
                {
                    "cluster": v[0],
                    "task_definition": v[1],
                    "subnets": list(v[2]),
                    "security_groups": list(v[3]),
                    "capacity_provider": v[4],
                    "container": "setup",
                },
                sort_keys=True,
            )
        )
        self.invocation = aws.lambda_.Invocation(
            f"{name}-run",
            function_name=args.runner.function.name,
            input=payload,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.runner.function, *args.depends_on]),
        )
        self.register_outputs({"task_definition_arn": self.task_definition.arn})
