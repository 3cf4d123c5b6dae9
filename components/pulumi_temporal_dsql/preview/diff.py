"""What a change of preset, modifier or overrides moves: knobs, resources, and what cannot change.

`stack_diff(current, proposed)` compiles both inputs (every knob whose value moves, old -> new,
with the derivation line that says why) and plans both under the recording mocks (every resource
created, replaced, updated or deleted), and refuses what cannot change on an existing stack.
`temporal-dsql diff` prints it as text or JSON; exit code 0 no change, 1 changes, 3 refused
(temporal_dsql_core.cli.ExitCode: a refusal is not a bad input, which is 2).

Resource rule (the offline stand-in for the engine's diff, which needs the provider):
- a URN only in the proposed plan is created, only in the current plan deleted;
- a URN in both with different inputs is *replaced* when its type is immutable (an ECS task
  definition: every change registers a new revision) or a changed input is one the AWS provider
  marks ForceNew (`FORCE_NEW` below: names, keys, CIDRs, ...); otherwise *updated* in place
  (a DSQL cluster, an ECS service, an S3 object's content, a log group's retention ...).
Inputs are compared after the plan's JSON normalisation, so only real value changes count.

Refused: Temporal's `numHistoryShards` (history.shards) is fixed when the persistence schema is
set up; changing it on an existing cluster corrupts the shard -> workflow mapping.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pulumi_temporal_dsql.compiled import table_overrides
from pulumi_temporal_dsql.preview.plan import Plan, PlannedResource, _json_default, plan
from pulumi_temporal_dsql.stack import component_name
from temporal_dsql_core import ParameterValue
from temporal_dsql_core.cli import ExitCode

__all__ = [
    "FORCE_NEW",
    "IMMUTABLE_TYPES",
    "IN_PLACE",
    "CostDelta",
    "InputChange",
    "KnobChange",
    "Refusal",
    "ResourceChange",
    "StackDiff",
    "StackInputs",
    "stack_diff",
    "stack_inputs_from_config",
]

Action = Literal["create", "replace", "update", "delete"]

# Types AWS never updates in place: any input change is a new resource (a new revision), except
# the inputs the provider updates in place (IN_PLACE: a task definition's tags, as the AWS
# provider's aws_ecs_task_definition marks every argument ForceNew but tags, tags_all,
# skip_destroy and track_latest).
IMMUTABLE_TYPES = frozenset({"aws:ecs/taskDefinition:TaskDefinition"})
IN_PLACE: dict[str, frozenset[str]] = {
    "aws:ecs/taskDefinition:TaskDefinition": frozenset({"tags", "tagsAll", "skipDestroy", "trackLatest"}),
}
# Inputs the AWS provider marks ForceNew for the types the stack creates; other changes update in place.
# Every AWS type the stack program creates has an entry (an empty set: all in place), so a new
# type is a decision, not a silent "update" (tests/components/test_components_diff.py checks it).
FORCE_NEW: dict[str, frozenset[str]] = {
    "aws:dsql/cluster:Cluster": frozenset(),  # deletion protection, tags: in place
    "aws:ecs/service:Service": frozenset({"name", "cluster", "launchType", "schedulingStrategy"}),
    "aws:ecs/cluster:Cluster": frozenset({"name"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix"}),
    "aws:s3/bucketObjectv2:BucketObjectv2": frozenset({"bucket", "key"}),
    "aws:s3/bucketPolicy:BucketPolicy": frozenset({"bucket"}),
    "aws:dynamodb/table:Table": frozenset({"name", "hashKey", "rangeKey"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "role"}),
    "aws:lambda/function:Function": frozenset({"name"}),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"name", "internal", "loadBalancerType"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"name", "port", "protocol", "vpcId", "targetType"}),
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock"}),
    "aws:ec2/subnet:Subnet": frozenset({"cidrBlock", "vpcId", "availabilityZone"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "namePrefix", "vpcId", "description"}),
    "aws:opensearch/domain:Domain": frozenset({"domainName"}),
    "aws:amp/workspace:Workspace": frozenset(),
    # aws_prometheus_rule_group_namespace: name and workspace_id are ForceNew, data is put in place.
    "aws:amp/ruleGroupNamespace:RuleGroupNamespace": frozenset({"name", "workspaceId"}),
    "aws:servicediscovery/httpNamespace:HttpNamespace": frozenset({"name"}),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": frozenset({"clusterName"}),
    "aws:ec2/eip:Eip": frozenset({"domain", "address", "networkBorderGroup", "publicIpv4Pool"}),
    "aws:ec2/internetGateway:InternetGateway": frozenset(),  # re-attaching to another VPC is in place
    "aws:ec2/natGateway:NatGateway": frozenset({"allocationId", "subnetId", "connectivityType", "privateIp"}),
    "aws:ec2/routeTable:RouteTable": frozenset({"vpcId"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": frozenset({"subnetId", "gatewayId"}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": frozenset({"vpcId", "serviceName", "vpcEndpointType"}),
    "aws:lb/listener:Listener": frozenset({"loadBalancerArn"}),
    "aws:lambda/functionUrl:FunctionUrl": frozenset({"functionName", "qualifier"}),
    "aws:lambda/invocation:Invocation": frozenset({"functionName", "qualifier", "triggers"}),
    # EventBridge Scheduler: a schedule's name is fixed at creation (its target and expression update).
    "aws:scheduler/schedule:Schedule": frozenset({"name", "namePrefix"}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": frozenset({"bucket", "expectedBucketOwner"}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": frozenset({"bucket"}),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"bucket"}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        frozenset({"bucket", "expectedBucketOwner"}),
    "aws:s3/bucketVersioning:BucketVersioning": frozenset({"bucket", "expectedBucketOwner"}),
    # S3 Vectors: a vector bucket's name and an index's shape are fixed at creation.
    "aws:s3/vectorsVectorBucket:VectorsVectorBucket": frozenset({"vectorBucketName"}),
    "aws:s3/vectorsIndex:VectorsIndex": frozenset(
        {"indexName", "vectorBucketName", "dimension", "dataType", "distanceMetric"}),
    "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase": frozenset(
        {"knowledgeBaseConfiguration", "storageConfiguration"}),
    "aws:bedrock/agentDataSource:AgentDataSource": frozenset({"knowledgeBaseId"}),
    "aws:ssm/parameter:Parameter": frozenset({"name"}),  # value/tags in place (unless replaceOnChanges)
}
SHARDS_KEY = "history.shards"


@dataclass(frozen=True)
class StackInputs:
    """What a stack is compiled from: its preset, modifier, overrides (and whether it has the copilot)."""

    preset: str
    modifier: str | None = None
    overrides: Mapping[str, ParameterValue] = field(default_factory=dict)
    copilot: bool = False
    # The rest of the stack config (environment, capacity, VPC ...), as `pulumi config` holds it.
    extra_config: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [self.preset + (f" + {self.modifier}" if self.modifier else "")]
        parts += [f"{k}={v}" for k, v in sorted(self.overrides.items())]
        return " ".join(parts) + (" (with copilot)" if self.copilot else "")


@dataclass(frozen=True)
class KnobChange:
    key: str
    old: ParameterValue
    new: ParameterValue
    why: str  # the proposed value's derivation (what `temporal-dsql-config explain --key` prints)


@dataclass(frozen=True)
class InputChange:
    """One input that moves: old -> new (compact JSON; None when absent on that side)."""

    name: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ResourceChange:
    action: Action
    type: str
    name: str
    urn: str
    changed_inputs: list[str] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)  # the changed inputs that force replacement
    values: list[InputChange] = field(default_factory=list)  # old -> new of every changed input
    protected: bool = False  # a protected resource: the engine refuses its replacement


@dataclass(frozen=True)
class Refusal:
    field: str
    old: ParameterValue
    new: ParameterValue
    reason: str
    way_out: str


@dataclass(frozen=True)
class CostDelta:
    """Monthly USD before and after a change, and the difference (estimates)."""

    before_monthly: float
    after_monthly: float
    delta_monthly: float

    def to_text(self) -> str:
        sign = "+" if self.delta_monthly >= 0 else "-"
        return (f"monthly cost (estimate, `temporal-dsql cost`): ${self.before_monthly:,.2f} -> "
                f"${self.after_monthly:,.2f} ({sign}${abs(self.delta_monthly):,.2f})")


@dataclass(frozen=True)
class StackDiff:
    current: StackInputs
    proposed: StackInputs
    knobs: list[KnobChange]
    resources: list[ResourceChange]
    refusals: list[Refusal]
    cost: CostDelta | None = None
    """The monthly estimate before and after (`temporal-dsql cost`'s totals, usage defaults)."""

    @property
    def exit_code(self) -> int:
        """0 no change, 1 changes, 3 refused (CI gates on it; temporal_dsql_core.cli.ExitCode): a refusal,
        or the replacement of a protected resource, which the Pulumi engine refuses in `pulumi up`."""
        if self.refusals or self.protected_replacements():
            return int(ExitCode.REFUSED)
        return int(ExitCode.CHANGES) if self.knobs or self.resources else int(ExitCode.OK)

    def protected_replacements(self) -> list[ResourceChange]:
        return [r for r in self.resources if r.action == "replace" and r.protected]

    def counts(self) -> dict[str, int]:
        return {action: sum(1 for r in self.resources if r.action == action)
                for action in ("create", "replace", "update", "delete")}

    def to_json(self) -> str:
        return json.dumps(
            {
                "current": {**asdict(self.current), "overrides": dict(self.current.overrides)},
                "proposed": {**asdict(self.proposed), "overrides": dict(self.proposed.overrides)},
                "exit_code": self.exit_code,
                "refused": [asdict(r) for r in self.refusals],
                "knobs": [asdict(k) for k in self.knobs],
                "resources": [asdict(r) for r in self.resources],
                "counts": self.counts(),
                **({"cost": asdict(self.cost)} if self.cost is not None else {}),
            },
            indent=2, sort_keys=True, default=_json_default,
        )

    def to_text(self, width: int | None = None) -> str:
        """The diff for a terminal: every line wrapped to `width` (default: the terminal's, via
        COLUMNS or the tty; 80 when neither says)."""
        width = max(40, width or shutil.get_terminal_size((80, 24)).columns)
        lines: list[str] = []

        def put(text: str, indent: str = "", more: str = "    ") -> None:
            lines.extend(textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + more,
                                       break_long_words=True, break_on_hyphens=False) or [indent])

        put(f"diff {self.current.describe()} -> {self.proposed.describe()}", more="  ")
        if self.cost is not None:
            put(self.cost.to_text())
        if self.exit_code == 0:
            put("no change: the proposed inputs compile and plan to the same stack.")
            return "\n".join(lines) + "\n"
        for refusal in self.refusals:
            put(f"REFUSED {refusal.field}: {_fmt(refusal.old)} -> {_fmt(refusal.new)}")
            put(refusal.reason, "  ")
            put(f"way out: {refusal.way_out}", "  ")
        for change in self.protected_replacements():
            put(f"REFUSED replacing the protected {change.type} {change.name} (forced by "
                f"{', '.join(change.replaced_by)}): `pulumi up` would stop here.")
        put(f"knobs that move ({len(self.knobs)}):")
        for knob in self.knobs:
            put(f"~ {knob.key}: {_fmt(knob.old)} -> {_fmt(knob.new)}", "  ")
            put(f"why: {knob.why}", "      ")
        counts = self.counts()
        put("resources: " + ", ".join(f"{n} to {a}" for a, n in counts.items()))
        symbol = {"create": "+", "replace": "+-", "update": "~", "delete": "-"}
        for change in self.resources:
            put(f"{symbol[change.action]:>2} {change.type}  {change.name}", "  ")
            if change.action == "replace":
                put(f"replaced because {', '.join(change.replaced_by)} changed (the AWS provider cannot update "
                    f"{'it' if len(change.replaced_by) == 1 else 'them'} in place)", "       ")
            for value in change.values:
                mark = "!" if value.name in change.replaced_by else "~"
                put(f"{mark} {value.name}: {_short(value.old)} -> {_short(value.new)}", "       ")
        return "\n".join(lines) + "\n"


def _short(value: str | None, limit: int = 160) -> str:
    """An input's value for the text view (the JSON form has it whole)."""
    if value is None:
        return "(none)"
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _fmt(value: ParameterValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _compact(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=_json_default, separators=(",", ":"))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default)


def resource_changes(current: Plan, proposed: Plan) -> list[ResourceChange]:
    """Created / replaced / updated / deleted, by URN and inputs (the rule in the module docstring)."""
    before = {r.urn: r for r in current.resources}
    after = {r.urn: r for r in proposed.resources}
    changes: list[ResourceChange] = []
    for urn in sorted(before.keys() | after.keys()):
        old, new = before.get(urn), after.get(urn)
        if old is None:
            assert new is not None
            changes.append(ResourceChange("create", new.type, new.name, urn))
        elif new is None:
            changes.append(ResourceChange("delete", old.type, old.name, urn))
        else:
            changed = _changed_inputs(old, new)
            if not changed:
                continue
            forcing = set(changed) & (FORCE_NEW.get(new.type, frozenset()) | set(new.replace_on_changes))
            if new.type in IMMUTABLE_TYPES:
                forcing |= set(changed) - IN_PLACE.get(new.type, frozenset())
            values = [InputChange(k, _compact(old.inputs.get(k)), _compact(new.inputs.get(k))) for k in changed]
            changes.append(ResourceChange("replace" if forcing else "update", new.type, new.name, urn,
                                          changed_inputs=changed, replaced_by=sorted(forcing), values=values,
                                          protected=old.protect))
    order = {"replace": 0, "create": 1, "update": 2, "delete": 3}
    return sorted(changes, key=lambda c: (order[c.action], c.urn))


def _changed_inputs(old: PlannedResource, new: PlannedResource) -> list[str]:
    keys = old.inputs.keys() | new.inputs.keys()
    return sorted(k for k in keys if _canonical(old.inputs.get(k)) != _canonical(new.inputs.get(k)))


def knob_changes(
    current: StackInputs, proposed: StackInputs, *, stack: str = "plan"
) -> tuple[list[KnobChange], dict[str, Any], dict[str, Any]]:
    """Every registry value that moves, with the proposed value's derivation; and both value maps.

    Values are the ones the stack deploys on `stack`: the DynamoDB table names are the
    deployment's (`temporal-<stack>-rate-limiter`, as `compile_for_deployment` names them), not
    the preset's one name for every stack.
    """
    from temporal_dsql_config import ConfigCompiler

    compiler = ConfigCompiler(sdk_adapters=[], platform_adapters=[])
    old, new = (_deployed_resolution(compiler, inputs, component_name(stack)) for inputs in (current, proposed))
    why = {t.parameter_key: "; ".join(t.derivation_chain) for t in new.trace}
    keys = [entry.key for entry in compiler.registry]  # registry order: the order explain uses
    knobs = [KnobChange(key, old.values[key], new.values[key], why.get(key, ""))
             for key in keys if old.values[key] != new.values[key]]
    return knobs, old.values, new.values


def _deployed_resolution(compiler: Any, inputs: StackInputs, table_prefix: str) -> Any:
    overrides = dict(inputs.overrides)
    # Resolve first: every bad preset, modifier or override is reported at once (InputErrors).
    resolution = compiler.resolve(inputs.preset, modifier=inputs.modifier, overrides=overrides)
    names = table_overrides(compiler.compile(inputs.preset, inputs.modifier, overrides), table_prefix, overrides)
    if not names:
        return resolution
    return compiler.resolve(inputs.preset, modifier=inputs.modifier, overrides={**overrides, **names})


def refusals(old_values: Mapping[str, Any], new_values: Mapping[str, Any]) -> list[Refusal]:
    """What an existing stack cannot take in place, each with the way out."""
    out: list[Refusal] = []
    if old_values[SHARDS_KEY] != new_values[SHARDS_KEY]:
        old, new = old_values[SHARDS_KEY], new_values[SHARDS_KEY]
        out.append(Refusal(
            field=SHARDS_KEY, old=old, new=new,
            reason=(f"Temporal's numHistoryShards cannot change on an existing cluster: it is fixed when the "
                    f"persistence schema is set up, and {old} -> {new} would remap every workflow to another "
                    f"shard (the policy pack's history-shards-immutable rule blocks it too)."),
            way_out=(f"keep the current count with the override {SHARDS_KEY}={old} (`--to-override "
                     f"{SHARDS_KEY}={old}` here, `overrides` in the stack config; the rest of the change can "
                     f"proceed), or deploy a new cluster (a new stack) with {new} shards and migrate: point new "
                     f"workflows at it and let the old cluster drain, or replicate namespaces to it."),
        ))
    return out


def stack_inputs_from_config(text: str) -> StackInputs:
    """A stack's inputs from its `Pulumi.<stack>.yaml`, read by the stack program's own reader
    (stack_config.read_stack_config: Pulumi's typed-config rules); the rest as extra config, which
    the offline plan hands to the stack program as Pulumi would."""
    from pulumi_temporal_dsql.stack_config import (
        NAMESPACE,
        config_strings_from_yaml,
        namespaced,
        read_stack_config,
    )

    strings = config_strings_from_yaml(text)
    settings = read_stack_config(namespaced(strings))
    consumed = {f"{NAMESPACE}:{k}" for k in ("preset", "modifier", "overrides", "copilot", "buildLambda")}
    extra = {k: v for k, v in strings.items() if k not in consumed}
    return StackInputs(settings.preset, settings.modifier, settings.overrides, settings.copilot, extra)


def stack_diff(current: StackInputs, proposed: StackInputs, *, stack: str = "plan") -> StackDiff:
    """Knobs that move, resources created/replaced/updated/deleted, and refusals (see module doc)."""
    knobs, old_values, new_values = knob_changes(current, proposed, stack=stack)
    plans = [
        plan(inputs.preset, modifier=inputs.modifier, overrides=dict(inputs.overrides), stack=stack,
             extra_config={**inputs.extra_config, "copilot": "true" if inputs.copilot else "false"})
        for inputs in (current, proposed)
    ]
    from pulumi_temporal_dsql.preview.cost import estimate_plan

    before, after = (estimate_plan(p).total_monthly for p in plans)
    return StackDiff(current, proposed, knobs, resource_changes(*plans), refusals(old_values, new_values),
                     CostDelta(before, after, after - before))
