"""Pulumi mocks that record the whole resource graph: the offline plan and the tests share them.

`pulumi.runtime.set_mocks` replaces the engine: every resource registration reaches
`new_resource` and every invoke reaches `call`. The mock echoes the inputs and fakes the
computed outputs the components read (ARNs, ids, the DSQL identifier, URLs, DNS names),
because an unfaked output resolves to None and would silently produce "None.dsql..."
strings. It also does what the real engine does and the stock mock does not: it rejects a
duplicate URN.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

__all__ = ["ACCOUNT_ID", "REGION", "RecordedResource", "RecordingMocks", "RecordingMonitor", "UnansweredInvokeError"]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class UnansweredInvokeError(LookupError):
    """The stack program called a data source the offline plan has no answer for."""


@dataclass(frozen=True)
class RecordedResource:
    """One registration: its type token, logical name, URN, parent URN and inputs."""

    typ: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    # Resource options the engine enforces (the offline diff follows them): protect, replaceOnChanges.
    protect: bool = False
    replace_on_changes: tuple[str, ...] = ()


def _short_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:12]


def _arn(typ: str, name: str, region: str) -> str:
    # aws:ecs/taskDefinition:TaskDefinition -> service ecs, kind taskDefinition
    _, module, kind = typ.split(":", 2)
    service = module.split("/")[0]
    kind = kind.split(":")[0][0].lower() + kind.split(":")[0][1:]
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{name}"


def _fake_outputs(typ: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Computed outputs a real deployment would return, derived from the name so they are stable."""
    outs: dict[str, Any] = {}
    if typ == "docker-build:index:Image":
        # What BuildKit reports after a push: the manifest digest (stable here: from the name).
        return {"digest": f"sha256:{hashlib.sha256(name.encode()).hexdigest()}", "ref": ""}
    if not typ.startswith("aws:"):
        return outs
    outs["arn"] = _arn(typ, name, region)
    sid = _short_id(name)
    if typ == "aws:dsql/cluster:Cluster":
        outs["identifier"] = sid
        outs["arn"] = f"arn:aws:dsql:{region}:{ACCOUNT_ID}:cluster/{sid}"
    elif typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{sid[:7]}"
        outs.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}", bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com")
    elif typ == "aws:lambda/functionUrl:FunctionUrl":
        outs.update(functionUrl=f"https://{sid}.lambda-url.{region}.on.aws/", urlId=sid)
    elif typ == "aws:lambda/function:Function":
        fname = inputs.get("name") or name
        outs.update(
            arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{fname}",
            invokeArn=f"arn:aws:apigateway:{region}:lambda:path/functions/{fname}/invocations",
            name=fname,
        )
    elif typ == "aws:ecr/repository:Repository":
        repository = inputs.get("name") or name
        outs.update(repositoryUrl=f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{repository}", registryId=ACCOUNT_ID,
                    arn=f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{repository}")
    elif typ == "aws:lb/loadBalancer:LoadBalancer":
        outs.update(dnsName=f"{name}-{sid[:8]}.elb.{region}.amazonaws.com", zoneId="Z26RNL4JYFTOTI")
    elif typ == "aws:amp/workspace:Workspace":
        outs.update(
            prometheusEndpoint=f"https://aps-workspaces.{region}.amazonaws.com/workspaces/ws-{sid}/",
            arn=f"arn:aws:aps:{region}:{ACCOUNT_ID}:workspace/ws-{sid}",
        )
    elif typ == "aws:opensearch/domain:Domain":
        domain = inputs.get("domainName") or name
        outs.update(endpoint=f"vpc-{domain}-{sid}.{region}.es.amazonaws.com", arn=f"arn:aws:es:{region}:{ACCOUNT_ID}:domain/{domain}")
    elif typ == "aws:dynamodb/table:Table":
        tname = inputs.get("name") or name
        outs.update(name=tname, arn=f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{tname}")
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        lname = inputs.get("name") or f"/{name}"
        outs.update(name=lname, arn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{lname}")
    elif typ == "aws:iam/role:Role":
        rname = inputs.get("name") or name
        outs.update(name=rname, arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{rname}")
    elif typ == "aws:ecs/cluster:Cluster":
        outs.update(arn=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:cluster/{inputs.get('name') or name}")
    elif typ == "aws:ecs/taskDefinition:TaskDefinition":
        family = inputs.get("family") or name
        outs.update(
            arn=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{family}:1",
            arnWithoutRevision=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{family}",
            revision=1,
        )
    elif typ == "aws:servicediscovery/httpNamespace:HttpNamespace":
        outs.update(arn=f"arn:aws:servicediscovery:{region}:{ACCOUNT_ID}:namespace/ns-{sid}")
    elif typ == "aws:secretsmanager/secret:Secret":
        outs.update(arn=f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{name}-{sid[:6]}")
    elif typ == "aws:s3/vectorsVectorBucket:VectorsVectorBucket":
        bucket = inputs.get("vectorBucketName") or name
        outs.update(vectorBucketArn=f"arn:aws:s3vectors:{region}:{ACCOUNT_ID}:bucket/{bucket}")
    elif typ == "aws:s3/vectorsIndex:VectorsIndex":
        bucket, index = inputs.get("vectorBucketName") or name, inputs.get("indexName") or name
        outs.update(indexArn=f"arn:aws:s3vectors:{region}:{ACCOUNT_ID}:bucket/{bucket}/index/{index}")
    elif typ == "aws:bedrock/agentDataSource:AgentDataSource":
        outs.update(dataSourceId=f"DS{sid[:8].upper()}")
    elif typ == "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase":
        outs.update(arn=f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:knowledge-base/KB{sid[:8].upper()}")
    elif typ == "aws:ec2/vpc:Vpc":
        outs.update(defaultSecurityGroupId=f"sg-{sid[:8]}")
    return outs


_SIG_KEY = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc._special_sig_key
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # pulumi.runtime.rpc._special_secret_sig


def _unwrap_secrets(value: Any) -> Any:
    """Secret inputs arrive wrapped as {sig: secret, value: v}; the record keeps the plain value."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


class RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs, fakes computed outputs and answers the invokes the components make."""

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        self.lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            return f"{args.name}_id", {**inputs, "outputs": self.stack_reference_outputs(inputs.get("name", ""))}
        state = {**inputs, **{k: v for k, v in _fake_outputs(args.typ, args.name, inputs, self.region).items() if k not in inputs or k in ("arn",)}}
        if args.typ == "aws:s3/bucket:Bucket":
            # A bucket's id IS its name in AWS: children that take `bucket=bucket.id` and the
            # policy/outputs that read `bucket.bucket` must name one bucket in the plan too.
            return str(state["bucket"]), state
        return f"{args.name}-{_short_id(args.typ + args.name)[:8]}", state

    def stack_reference_outputs(self, stack_name: str) -> dict[str, Any]:
        """Outputs of a referenced stack; overridden by tests and the plan of the consumer stack."""
        return {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token = args.token
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan", "userId": "plan", "id": ACCOUNT_ID}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{s}" for s in "abc"]
            return {"names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)], "id": self.region}
        if token == "aws:ec2/getVpc:getVpc":
            return {"id": args.args.get("id", "vpc-plan"), "cidrBlock": "10.0.0.0/16"}
        if token == "aws:ssm/getParameter:getParameter":
            return {"name": args.args.get("name"), "value": "ami-0123456789abcdef0", "type": "String", "id": args.args.get("name")}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            registry = args.args.get("registryId", ACCOUNT_ID)
            return {"userName": "AWS", "password": "ecr-token", "authorizationToken": "QVdTOmVjci10b2tlbg==",
                    "proxyEndpoint": f"https://{registry}.dkr.ecr.{self.region}.amazonaws.com", "id": registry}
        if token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
            return {"randomPassword": "p" * int(args.args.get("passwordLength", 32)), "id": "random"}
        # Failing loudly beats resolving every field to None ("None.dsql.us-east-1.on.aws").
        raise UnansweredInvokeError(f"the plan mocks do not answer invoke {token}")


class RecordingMonitor(MockMonitor):
    """The stock mock monitor plus a record of parents and URNs, rejecting duplicate URNs."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if request.type != "pulumi:pulumi:Stack" and urn in self.resources:
                raise ValueError(f"duplicate resource URN {urn}: the real engine rejects this")
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[urn]
        from pulumi.runtime import rpc  # the proto -> dict decoder the stock monitor uses

        inputs = _unwrap_secrets(rpc.deserialize_properties(request.object))
        with self._lock:
            self.recorded.append(
                RecordedResource(
                    typ=request.type,
                    name=request.name,
                    urn=urn,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=dict(inputs),
                    state=dict(registration.state),
                    protect=bool(getattr(request, "protect", False)),
                    replace_on_changes=tuple(getattr(request, "replaceOnChanges", ()) or ()),
                )
            )
        return response
