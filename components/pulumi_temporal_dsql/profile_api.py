"""The behaviour-profile API: FastAPI through Mangum on Lambda (Python 3.12, arm64) with a
Function URL that Grafana calls.

CORS is configured in ONE place, the Function URL (`cors` with the Grafana origin), and the app's
own CORS (`PROFILES_ALLOWED_ORIGINS`) is left empty in the function's env. Why the URL and not the
app: with AWS_IAM auth the browser's preflight OPTIONS carries no signature, so the URL would
reject it before the app ever ran; a URL with `cors` answers preflights itself (no invocation, no
auth) and adds the headers to every response. Why never both: two sets of
Access-Control-Allow-Origin headers make browsers reject the response. The app's CORS setting is
for where there is no Function URL (uvicorn locally, the copilot image's `api` role).
Auth is AWS_IAM by default; `auth="token"` keeps the URL open to the network but the
app requires a bearer token stored in Secrets Manager (generated here, never in the program).
The function's role can touch exactly the bucket, the DSQL cluster and the AMP workspace; with the
copilot deployed, also the copilot's own DSQL cluster, which its `/status` routes read (the app's
status store is configured by `CopilotSettings`, so those settings get COPILOT_* variables too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import assume_role_policy, policy_document, statement
from pulumi_temporal_dsql.lambda_bundle import HANDLER

PROFILE_API_DB_ROLE = "profile_api"
"""temporal_dsql_profiles.db_roles.PROFILE_API_DB_ROLE (the test keeps the two equal)."""
PROFILE_PREFIX = "profiles/"
CONFIG_PREFIX = "config/"
SWEEP_SCHEDULE = "rate(15 minutes)"
SETUP_EVENT = "setup-profile-store"
SWEEP_EVENT = "sweep-stale-pending"
"""temporal_dsql_profiles.db_roles' event names (the Lambda handler's job dispatch; a test keeps them equal)."""
COPILOT_SETUP_EVENT = "setup-copilot-store"
COPILOT_STORE_DB_ROLE = "copilot_store"
COPILOT_STATUS_DB_ROLE = "copilot_status"
"""temporal_dsql_copilot.store.db_roles' event and role names (a test keeps them equal)."""

__all__ = ["AUTH_MODES", "COPILOT_STATUS_DB_ROLE", "COPILOT_STORE_DB_ROLE", "CORS_HEADERS", "CORS_METHODS",
           "PROFILE_API_DB_ROLE", "ProfileApi", "ProfileApiArgs",
           "ProfileStoreSetup", "ProfileStoreSetupArgs", "copilot_status_settings", "profile_api_settings"]

AUTH_MODES = ("AWS_IAM", "token")
# What the Grafana browser client sends: the API's methods (the profiles router uses GET, POST and
# DELETE), a bearer token in token mode, and the SigV4 headers in AWS_IAM mode.
CORS_METHODS = ("GET", "POST", "DELETE")
CORS_HEADERS = ("authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


def profile_api_settings(values: Mapping[str, Any]) -> dict[str, str]:
    """Lambda env from temporal_dsql_profiles.settings field names (the profiles engineer's model)."""
    from pulumi_temporal_dsql.settings_env import settings_env
    from temporal_dsql_profiles.settings import ProfileSettings

    return settings_env(ProfileSettings, values)


@dataclass(kw_only=True)
class ProfileApiArgs:
    code: pulumi.Archive
    """The bundle (`lambda_bundle.build_bundle`), e.g. `pulumi.FileArchive(path)`."""
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    dsql_endpoint: pulumi.Input[str]
    dsql_cluster_arn: pulumi.Input[str]
    amp_query_url: pulumi.Input[str]
    amp_workspace_arn: pulumi.Input[str]
    cluster_id: str
    grafana_origin: str | None = None
    """Origin allowed by CORS (e.g. https://grafana.example.com); None allows no browser origin."""
    auth: str = "AWS_IAM"
    """"AWS_IAM" (SigV4-signed calls, the default) or "token" (bearer token in Secrets Manager)."""
    memory_mib: int = 1024
    timeout_seconds: int = 30
    log_retention_days: int = 30
    copilot_status: pulumi.Input[Mapping[str, Any]] | None = None
    """`temporal_dsql_copilot.settings.CopilotSettings` field values of the copilot's state store (dsql_endpoint,
    aws_region, cluster_id) for the app's /status routes; None when the copilot is not deployed."""
    copilot_dsql_cluster_arn: pulumi.Input[str] | None = None
    """The copilot's own DSQL cluster (dsql:DbConnect as the read-only ``copilot_status`` role, for
    /status); with copilot_status."""
    tags: Mapping[str, str] = field(default_factory=dict)


def copilot_status_settings(values: Mapping[str, Any]) -> dict[str, str]:
    """COPILOT_* env of the app's status store, from temporal_dsql_copilot.settings field names."""
    from pulumi_temporal_dsql.settings_env import settings_env
    from temporal_dsql_copilot.settings import CopilotSettings

    return settings_env(CopilotSettings, values)


class ProfileApi(pulumi.ComponentResource):
    function: aws.lambda_.Function
    function_url: aws.lambda_.FunctionUrl
    url: pulumi.Output[str]
    token_secret: aws.secretsmanager.Secret | None

    def __init__(self, name: str, args: ProfileApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:api:ProfileApi", name, None, opts)
        if args.auth not in AUTH_MODES:
            raise ComponentInputError(
                f"Unknown profile API auth mode {args.auth!r}.", field="profile_api_auth", allowed=list(AUTH_MODES),
                suggestion="Use AWS_IAM (default) unless Grafana cannot sign requests; then use token.",
            )
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        function_name = f"{name}"[:64]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{function_name}", retention_in_days=args.log_retention_days,
            tags=tags, opts=child,
        )
        self.token_secret = None
        if args.auth == "token":
            self.token_secret = aws.secretsmanager.Secret(
                f"{name}-token", description=f"Bearer token of the {name} profile API", tags=tags, opts=child
            )
            password = aws.secretsmanager.get_random_password_output(
                password_length=48, exclude_punctuation=True, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-token-value",
                secret_id=self.token_secret.id,
                secret_string=pulumi.Output.secret(password.random_password),
                opts=pulumi.ResourceOptions(parent=self.token_secret, ignore_changes=["secret_string"]),
            )
        if (args.copilot_status is None) != (args.copilot_dsql_cluster_arn is None):
            raise ComponentInputError(
                "copilot_status and copilot_dsql_cluster_arn go together.", field="copilot_dsql_cluster_arn",
                suggestion="Pass both (the copilot is deployed) or neither.",
            )
        policy = pulumi.Output.all(
            args.bucket_arn, args.dsql_cluster_arn, args.amp_workspace_arn, self.log_group.arn,
            self.token_secret.arn if self.token_secret else None, args.copilot_dsql_cluster_arn,
        ).apply(
            lambda v: policy_document(
                statement(["s3:ListBucket"], [v[0]], "ListProfiles"),
                # Writes only under profiles/: config/dynamic_config.yaml is live config the Temporal
                # servers read, which the API must never be able to change (issue 19).
                statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [f"{v[0]}/{PROFILE_PREFIX}*"],
                          "ProfileObjects"),
                statement(["s3:GetObject"], [f"{v[0]}/{CONFIG_PREFIX}*"], "ReadDeployedConfig"),
                # The dedicated database role profile_api (DbConnect), created by the set-up function.
                statement(["dsql:DbConnect"], [v[1]], "Dsql"),
                statement(["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"], [v[2]], "Amp"),
                statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{v[3]}:*"], "Logs"),
                *([statement(["secretsmanager:GetSecretValue"], [v[4]], "Token")] if v[4] else []),
                # The status store connects to the copilot's cluster as copilot_status (SELECT only),
                # created and mapped to this role by the set-up (temporal_dsql_copilot.store.db_roles).
                *([statement(["dsql:DbConnect"], [v[5]], "CopilotStatusStore")] if v[5] else []),
            )
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="profile-api", policy=policy)],
            tags=tags,
            opts=child,
        )
        env_values: dict[str, Any] = {
            "bucket": args.bucket_name,
            "dsql_endpoint": args.dsql_endpoint,
            "amp_query_url": args.amp_query_url,
            "amp_sigv4": True,
            "region": region,
            "cluster_id": args.cluster_id,
            "auth_mode": "iam" if args.auth == "AWS_IAM" else "token",
            "db_user": PROFILE_API_DB_ROLE,
            "manage_schema": False,
            # CORS is the Function URL's (module docstring): the app must add none of its own.
            "allowed_origins": [],
        }
        if self.token_secret is not None:
            env_values["auth_token_secret_arn"] = self.token_secret.arn
        variables = pulumi.Output.all(
            pulumi.Output.all(**env_values).apply(profile_api_settings),
            pulumi.Output.from_input(args.copilot_status or {}).apply(
                lambda v: copilot_status_settings({**dict(v), "dsql_user": COPILOT_STATUS_DB_ROLE,
                                                   "manage_schema": False} if v else {})),
        ).apply(lambda v: {**v[0], **v[1]})
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            role=self.role.arn,
            runtime="python3.12",
            architectures=["arm64"],
            handler=HANDLER,
            code=args.code,
            memory_size=args.memory_mib,
            timeout=args.timeout_seconds,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group]),
        )
        self.function_url = aws.lambda_.FunctionUrl(
            f"{name}-url",
            function_name=self.function.name,
            authorization_type="AWS_IAM" if args.auth == "AWS_IAM" else "NONE",
            # The one place CORS is configured (see the module docstring); no origin, no CORS.
            cors=aws.lambda_.FunctionUrlCorsArgs(
                allow_origins=[args.grafana_origin],
                allow_methods=list(CORS_METHODS),
                allow_headers=list(CORS_HEADERS),
                allow_credentials=False,
                max_age=600,
            ) if args.grafana_origin else None,
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        self.url = self.function_url.function_url
        # The pending-row sweep without the copilot: EventBridge Scheduler invokes this function.
        scheduler_policy = self.function.arn.apply(lambda arn: policy_document(
            statement(["lambda:InvokeFunction"], [arn, f"{arn}:*"], "InvokeSweep")))
        self.scheduler_role = aws.iam.Role(
            f"{name}-sweep-scheduler",
            assume_role_policy=assume_role_policy("scheduler.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="invoke-sweep", policy=scheduler_policy)],
            tags=tags,
            opts=child,
        )
        self.sweep_schedule = aws.scheduler.Schedule(
            f"{name}-sweep",
            schedule_expression=SWEEP_SCHEDULE,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.function.arn, role_arn=self.scheduler_role.arn,
                input=json.dumps({"temporal_dsql": SWEEP_EVENT}, sort_keys=True),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=2),
            ),
            opts=pulumi.ResourceOptions(parent=self.function),
        )
        self.register_outputs({"url": self.url, "function_name": self.function.name})


@dataclass(kw_only=True)
class ProfileStoreSetupArgs:
    code: pulumi.Archive
    bucket_name: pulumi.Input[str]
    dsql_endpoint: pulumi.Input[str]
    dsql_cluster_arn: pulumi.Input[str]
    cluster_id: str
    db_roles: Mapping[str, pulumi.Input[str]]
    """Database role -> the IAM role ARN it is mapped to (``AWS IAM GRANT``)."""
    copilot_dsql_endpoint: pulumi.Input[str] | None = None
    """The copilot's own DSQL cluster: the same function sets up its state store (tables and the
    ``copilot_store`` / ``copilot_status`` roles, temporal_dsql_copilot.store.db_roles); with the two below."""
    copilot_dsql_cluster_arn: pulumi.Input[str] | None = None
    copilot_db_roles: Mapping[str, pulumi.Input[str]] | None = None
    log_retention_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)


class ProfileStoreSetup(pulumi.ComponentResource):
    """The profile store's schema set-up: a function (the same bundle) that connects as ``admin``
    (the only ``dsql:DbConnectAdmin`` grant on the cluster outside the Temporal servers' plugin),
    invoked once per change of its input: it creates the tables and the dedicated roles, grants
    them the profile tables and maps each to its IAM role (temporal_dsql_profiles.db_roles).
    With the copilot deployed, a second invocation does the same for the copilot's state store on
    the copilot's cluster (temporal_dsql_copilot.store.db_roles), so neither the copilot worker nor
    the profile API's /status connects as ``admin``."""

    function: aws.lambda_.Function
    invocation: aws.lambda_.Invocation

    def __init__(self, name: str, args: ProfileStoreSetupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:api:ProfileStoreSetup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        function_name = f"{name}"[:64]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{function_name}", retention_in_days=args.log_retention_days,
            tags=tags, opts=child,
        )
        copilot = (args.copilot_dsql_endpoint, args.copilot_dsql_cluster_arn, args.copilot_db_roles)
        if any(v is None for v in copilot) and not all(v is None for v in copilot):
            raise ComponentInputError(
                "copilot_dsql_endpoint, copilot_dsql_cluster_arn and copilot_db_roles go together.",
                field="copilot_dsql_endpoint", suggestion="Pass all three (the copilot is deployed) or none.",
            )
        policy = pulumi.Output.all(args.dsql_cluster_arn, self.log_group.arn, args.copilot_dsql_cluster_arn).apply(
            lambda v: policy_document(
                statement(["dsql:DbConnectAdmin"], [v[0]], "SchemaSetup"),
                *([statement(["dsql:DbConnectAdmin"], [v[2]], "CopilotStoreSetup")] if v[2] else []),
                statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{v[1]}:*"], "Logs"),
            )
        )
        self.role = aws.iam.Role(
            f"{name}-role", assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            inline_policies=[aws.iam.RoleInlinePolicyArgs(name="profile-store-setup", policy=policy)],
            tags=tags, opts=child,
        )
        variables = pulumi.Output.all(
            bucket=args.bucket_name, dsql_endpoint=args.dsql_endpoint, region=region, cluster_id=args.cluster_id,
            db_user="admin", manage_schema=True,
        ).apply(profile_api_settings)
        if args.copilot_dsql_endpoint is not None:
            copilot_env = pulumi.Output.all(dsql_endpoint=args.copilot_dsql_endpoint, aws_region=region,
                                            cluster_id=args.cluster_id, dsql_user="admin").apply(copilot_status_settings)
            variables = pulumi.Output.all(variables, copilot_env).apply(lambda v: {**v[0], **v[1]})
        self.function = aws.lambda_.Function(
            f"{name}-function", name=function_name, role=self.role.arn, runtime="python3.12",
            architectures=["arm64"], handler=HANDLER, code=args.code, memory_size=512, timeout=300,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group]),
        )
        payload = pulumi.Output.all(**dict(args.db_roles)).apply(
            lambda roles: json.dumps({"temporal_dsql": SETUP_EVENT, "roles": dict(roles)}, sort_keys=True))
        self.invocation = aws.lambda_.Invocation(
            f"{name}-run", function_name=self.function.name, input=payload,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.function]),
        )
        self.copilot_invocation: aws.lambda_.Invocation | None = None
        if args.copilot_db_roles is not None:
            copilot_payload = pulumi.Output.all(**dict(args.copilot_db_roles)).apply(
                lambda roles: json.dumps({"temporal_dsql": COPILOT_SETUP_EVENT, "roles": dict(roles)}, sort_keys=True))
            self.copilot_invocation = aws.lambda_.Invocation(
                f"{name}-copilot-run", function_name=self.function.name, input=copilot_payload,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.function]),
            )
        self.register_outputs({"function_name": self.function.name})
