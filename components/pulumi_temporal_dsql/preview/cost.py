"""The monthly estimate of a plan, in Infracost's model: resources -> cost components.

Each priced resource has components (name, unit, monthly quantity, unit price, monthly cost,
usage-based or not). Fixed components come from the plan alone (task sizes x desired counts x
730 h, instance hours, domain storage); usage-based ones from the usage file or the preset's
derived defaults (`usage`). One-off resources (the set-up tasks) are priced per run and kept out
of the monthly total. Totals are sums of components, never computed apart.

`estimate()` takes plain records (type token, logical name, camelCase inputs), so the offline
plan and the preset component (its `estimatedMonthlyCost` output) price the same way, offline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pulumi_temporal_dsql.preview import usage as u
from pulumi_temporal_dsql.preview.prices import Price, PriceTable, UnpricedError, load_prices
from pulumi_temporal_dsql.preview.usage import EMPTY_USAGE, UsageFile, UsageValue, WorkloadFacts

__all__ = [
    "DEFAULT_BEDROCK_MODEL",
    "HOURS_PER_MONTH",
    "CostComponent",
    "CostEstimate",
    "CostInput",
    "PricedResource",
    "ResourceCollector",
    "UsageNote",
    "estimate",
    "estimate_plan",
    "facts_from_profile_json",
    "render_text",
    "role_of",
]

HOURS_PER_MONTH = u.HOURS_PER_MONTH
DEFAULT_BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
TEMPORAL_ROLES = ("history", "matching", "frontend", "worker")
SERVICE_NAMES = {
    "fargate": "ECS Fargate", "ec2": "EC2", "dsql": "Aurora DSQL", "dynamodb": "DynamoDB", "s3": "S3",
    "lambda": "Lambda", "amp": "Managed Prometheus", "logs": "CloudWatch Logs", "nat": "VPC NAT gateway",
    "alb": "Elastic Load Balancing", "nlb": "Elastic Load Balancing", "vpce": "VPC endpoints",
    "opensearch": "OpenSearch", "secretsmanager": "Secrets Manager", "bedrock": "Bedrock",
}


@dataclass(frozen=True)
class CostInput:
    """One declared resource: its type token, logical name and (camelCase) inputs."""

    type: str
    name: str
    inputs: Mapping[str, Any]


@dataclass(frozen=True)
class CostComponent:
    name: str
    unit: str
    monthly_quantity: float
    price: float
    monthly_cost: float
    usage_based: bool
    service: str
    price_key: str
    price_source: str
    price_as_of: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "monthly_quantity": self.monthly_quantity, "price": self.price,
                "monthly_cost": self.monthly_cost, "usage_based": self.usage_based, "service": self.service,
                "price_key": self.price_key, "price_source": self.price_source, "price_as_of": self.price_as_of}


@dataclass(frozen=True)
class PricedResource:
    name: str
    type: str
    role: str
    components: tuple[CostComponent, ...]

    @property
    def monthly_cost(self) -> float:
        return sum(c.monthly_cost for c in self.components)

    def to_dict(self, *, per_run: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "role": self.role,
                               "components": [c.to_dict() for c in self.components]}
        out["per_run_cost" if per_run else "monthly_cost"] = self.monthly_cost
        return out


@dataclass(frozen=True)
class UsageNote:
    resource: str
    key: str
    value: float
    source: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "key": self.key, "value": self.value, "source": self.source,
                "reason": self.reason}


@dataclass(frozen=True)
class CostEstimate:
    preset: str
    region: str
    currency: str
    prices_source: str
    prices_as_of: str
    resources: tuple[PricedResource, ...]
    one_off: tuple[PricedResource, ...]
    usage: tuple[UsageNote, ...]
    unpriced: tuple[dict[str, str], ...]
    temporal_cloud: dict[str, Any] = field(default_factory=dict)

    def _components(self) -> Iterable[tuple[PricedResource, CostComponent]]:
        for resource in self.resources:
            for component in resource.components:
                yield resource, component

    @property
    def total_monthly(self) -> float:
        return sum(c.monthly_cost for _, c in self._components())

    @property
    def baseline_monthly(self) -> float:
        return sum(c.monthly_cost for _, c in self._components() if not c.usage_based)

    @property
    def usage_monthly(self) -> float:
        return sum(c.monthly_cost for _, c in self._components() if c.usage_based)

    def by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for resource, component in self._components():
            out[resource.role] = out.get(resource.role, 0.0) + component.monthly_cost
        return dict(sorted(out.items()))

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for _, component in self._components():
            out[component.service] = out.get(component.service, 0.0) + component.monthly_cost
        return dict(sorted(out.items()))

    def one_off_per_run(self) -> float:
        return sum(r.monthly_cost for r in self.one_off)

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "preset": self.preset,
            "region": self.region,
            "hours_per_month": HOURS_PER_MONTH,
            "prices": {"source": self.prices_source, "as_of": self.prices_as_of},
            "total_monthly": self.total_monthly,
            "baseline_monthly": self.baseline_monthly,
            "usage_monthly": self.usage_monthly,
            "subtotals": {"by_role": self.by_role(), "by_service": self.by_service()},
            "resources": [r.to_dict() for r in self.resources],
            "one_off": {"per_run_total": self.one_off_per_run(),
                        "resources": [r.to_dict(per_run=True) for r in self.one_off]},
            "temporal_cloud": self.temporal_cloud,
            "usage": [n.to_dict() for n in self.usage],
            "unpriced": list(self.unpriced),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def role_of(name: str) -> str:
    """The Temporal role a resource serves, from its `<component>-<role>-...` name."""
    padded = f"{name}-"
    if "-copilot-" in padded:
        return "copilot"
    for setup in ("-schema-", "-namespace-", "-visibility-setup-", "-setup-"):
        if setup in padded:
            return "setup"
    for role in (*TEMPORAL_ROLES, "ui"):
        if f"-{role}-" in padded:
            return role
    return "shared"


def _arch(inputs: Mapping[str, Any]) -> str:
    platform = inputs.get("runtimePlatform") or {}
    return "arm64" if str(platform.get("cpuArchitecture", "X86_64")).upper() == "ARM64" else "x86_64"


def _is_fargate(task: Mapping[str, Any]) -> bool:
    return "FARGATE" in [str(c).upper() for c in (task.get("requiresCompatibilities") or [])]


class _Pricer:
    """Builds components against one region's prices, recording each usage value's provenance."""

    def __init__(self, table: PriceTable, region: str, usage_file: UsageFile, facts: WorkloadFacts) -> None:
        self.table = table
        self.region = region
        self.usage_file = usage_file
        self.facts = facts
        self.notes: list[UsageNote] = []
        table.region(region)  # an unpriced region fails first, listing the priced ones

    def price(self, key: str, *, field: str = "region") -> Price:
        return self.table.get(self.region, key, field=field)

    def fixed(self, name: str, key: str, base_quantity: float, *, field: str = "region") -> CostComponent:
        return self._component(name, key, base_quantity, usage_based=False, field=field)

    def derived(self, name: str, key: str, base_quantity: float) -> CostComponent:
        """A usage-based component whose quantity is computed from other usage values."""
        return self._component(name, key, base_quantity, usage_based=True, field="region")

    def usage(self, resource: str, name: str, key: str, usage_key: str, default: UsageValue,
              *, scale: float = 1.0, field: str = "region") -> CostComponent:
        """A usage-based component: the usage file's value for (resource, usage_key), else `default`."""
        given = self.usage_file.lookup(resource, usage_key)
        chosen = default if given is None else UsageValue(given, "usage file", f"set in {self.usage_file.path or 'the usage file'}")
        self.notes.append(UsageNote(resource, usage_key, chosen.value, chosen.source, chosen.reason))
        return self._component(name, key, chosen.value * scale, usage_based=True, field=field)

    def _component(self, name: str, key: str, base_quantity: float, *, usage_based: bool, field: str) -> CostComponent:
        entry = self.price(key, field=field)
        quantity = base_quantity / entry.per
        return CostComponent(name=name, unit=entry.unit, monthly_quantity=quantity, price=entry.price,
                             monthly_cost=quantity * entry.price, usage_based=usage_based,
                             service=SERVICE_NAMES.get(key.split(".", 1)[0], key.split(".", 1)[0]), price_key=key,
                             price_source=entry.source, price_as_of=entry.as_of)


def _default(value: float, reason: str) -> UsageValue:
    return UsageValue(value, "default", reason)


def estimate(
    resources: Sequence[CostInput],
    *,
    facts: WorkloadFacts,
    region: str = "us-east-1",
    usage_file: UsageFile = EMPTY_USAGE,
    prices: PriceTable | None = None,
    bedrock_model_id: str = DEFAULT_BEDROCK_MODEL,
) -> CostEstimate:
    """Price `resources` (see module doc); raises `UnpricedError` for an unpriced region/type/model."""
    table = prices or load_prices()
    pricer = _Pricer(table, region, usage_file, facts)
    tasks = {str(r.inputs.get("family")): r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"}
    templates = {r.name: r for r in resources if r.type == "aws:ec2/launchTemplate:LaunchTemplate"}
    services = [r for r in resources if r.type == "aws:ecs/service:Service"]
    used_families = {str(s.inputs.get("name")) for s in services}
    priced: list[PricedResource] = []
    one_off: list[PricedResource] = []
    unpriced: list[dict[str, str]] = []
    scraped_tasks = 0

    for resource in resources:
        handler = _HANDLERS.get(resource.type)
        if resource.type == "aws:ecs/service:Service":
            task = tasks.get(str(resource.inputs.get("name")))
            count = int(resource.inputs.get("desiredCount") or 0)
            if task is not None and _metrics_scraped(task):
                scraped_tasks += count
            components = _service(pricer, resource, task, count)
        elif resource.type == "aws:ecs/taskDefinition:TaskDefinition":
            if str(resource.inputs.get("family")) not in used_families and _is_fargate(resource.inputs):
                one_off.append(PricedResource(resource.name, resource.type, role_of(resource.name),
                                              tuple(_one_off_task(pricer, resource))))
            continue
        elif resource.type == "aws:autoscaling/group:Group":
            components = _asg(pricer, resource, templates)
        elif resource.type == "aws:amp/workspace:Workspace":
            continue  # priced below, once every scraped task is counted
        elif handler is not None:
            components = handler(pricer, resource)
        else:
            if resource.type in _UNPRICED:
                unpriced.append({"name": resource.name, "type": resource.type, "reason": _UNPRICED[resource.type]})
            continue
        if components:
            priced.append(PricedResource(resource.name, resource.type, role_of(resource.name), tuple(components)))

    # The workspace's samples come from every scraped task, counted over the whole plan above.
    for workspace in (r for r in resources if r.type == "aws:amp/workspace:Workspace"):
        priced.append(PricedResource(workspace.name, workspace.type, role_of(workspace.name),
                                     tuple(_amp(pricer, workspace.name, scraped_tasks))))
    if any(role_of(s.name) == "copilot" and "worker" in s.name for s in services):
        name = f"{next(s.name for s in services if role_of(s.name) == 'copilot' and 'worker' in s.name)}-bedrock"
        priced.append(PricedResource(name, "bedrock:model-invocation", "copilot",
                                     tuple(_bedrock(pricer, name, bedrock_model_id))))
    priced.sort(key=lambda r: (r.role, r.name))
    result = CostEstimate(
        preset=facts.preset, region=region, currency=table.currency, prices_source=table.source,
        prices_as_of=table.as_of, resources=tuple(priced), one_off=tuple(one_off), usage=tuple(pricer.notes),
        unpriced=tuple(unpriced),
    )
    return _with_temporal_cloud(result, table, facts)


def _metrics_scraped(task: CostInput) -> bool:
    raw = task.inputs.get("containerDefinitions")
    if isinstance(raw, str):
        return '"metrics-collector"' in raw
    # Unresolved at declaration time (the component's own estimate): every Temporal role's task
    # and the copilot worker carry the collector sidecar (service.temporal_containers, copilot).
    role = role_of(task.name)
    return role in TEMPORAL_ROLES or (role == "copilot" and "worker" in task.name)


def _service(pricer: _Pricer, service: CostInput, task: CostInput | None, count: int) -> list[CostComponent]:
    if task is None or not _is_fargate(task.inputs) or count == 0:
        return []  # EC2-capacity tasks are paid for by the instances (the Auto Scaling group)
    arch = _arch(task.inputs)
    vcpu = int(task.inputs["cpu"]) / 1024
    memory_gb = int(task.inputs["memory"]) / 1024
    return [
        pricer.fixed(f"Fargate vCPU ({arch}, {count} x {vcpu:g})", f"fargate.vcpu_hours.{arch}", count * vcpu * HOURS_PER_MONTH),
        pricer.fixed(f"Fargate memory ({arch}, {count} x {memory_gb:g} GB)", f"fargate.gb_hours.{arch}",
                     count * memory_gb * HOURS_PER_MONTH),
    ]


def _one_off_task(pricer: _Pricer, task: CostInput) -> list[CostComponent]:
    """One run of a set-up task: its Fargate size for the run (1 minute minimum) + the runner Lambda."""
    arch = _arch(task.inputs)
    minutes = pricer.usage_file.lookup(task.name, "run_minutes")
    run_minutes = max(1.0, u.SETUP_RUN_MINUTES if minutes is None else minutes)
    pricer.notes.append(UsageNote(task.name, "run_minutes", run_minutes, "default" if minutes is None else "usage file",
                                  "a set-up task's run, estimated; Fargate bills at least one minute"))
    hours = run_minutes / 60
    vcpu, memory_gb = int(task.inputs["cpu"]) / 1024, int(task.inputs["memory"]) / 1024
    # The runner Lambda (128 MB, arm64) polls the task until it stops: billed for the whole run.
    return [
        pricer.fixed(f"Fargate vCPU ({arch}, {vcpu:g} x {run_minutes:g} min)", f"fargate.vcpu_hours.{arch}", vcpu * hours),
        pricer.fixed(f"Fargate memory ({arch}, {memory_gb:g} GB)", f"fargate.gb_hours.{arch}", memory_gb * hours),
        pricer.fixed("Runner Lambda request", "lambda.requests", 1),
        pricer.fixed("Runner Lambda duration (128 MB)", "lambda.gb_seconds.arm64", 0.125 * run_minutes * 60),
    ]


def _asg(pricer: _Pricer, group: CostInput, templates: Mapping[str, CostInput]) -> list[CostComponent]:
    prefix = group.name.removesuffix("-asg")
    template = templates.get(f"{prefix}-launch-template") or (next(iter(templates.values())) if len(templates) == 1 else None)
    if template is None:
        return []
    instance_type = str(template.inputs.get("instanceType"))
    count = int(group.inputs.get("desiredCapacity") or group.inputs.get("minSize") or 0)
    return [pricer.fixed(f"Instances ({count} x {instance_type}, on-demand)", f"ec2.hours.{instance_type}",
                         count * HOURS_PER_MONTH, field="ec2_instance_type")]


def _dsql(pricer: _Pricer, cluster: CostInput) -> list[CostComponent]:
    facts = pricer.facts
    if role_of(cluster.name) == "copilot":
        rate, why = u.COPILOT_STATE_TRANSITIONS_PER_SEC, "the copilot's own Temporal (a handful of workflows)"
        storage = _default(1.0, "the copilot's own state store: small, estimated")
    else:
        rate, why = facts.state_transitions_per_sec, f"the {facts.preset} target"
        stored = rate * facts.retention_hours * 3600 * u.BYTES_PER_STATE_TRANSITION / u.GIB
        storage = _default(stored, f"{rate:g} transitions/s ({why}) x {facts.retention_hours:g} h namespace retention x "
                                   f"{u.BYTES_PER_STATE_TRANSITION} B per transition (estimate)")
    dpus = rate * u.SECONDS_PER_MONTH * u.DPU_PER_STATE_TRANSITION
    return [
        pricer.usage(cluster.name, "DPUs", "dsql.dpus", "monthly_dpus", _default(
            dpus, f"{rate:g} state transitions/s ({why}, sustained) x {u.SECONDS_PER_MONTH:,} s x "
                  f"{u.DPU_PER_STATE_TRANSITION} DPU per transition (estimate: see usage.DPU_PER_STATE_TRANSITION)")),
        pricer.usage(cluster.name, "Storage", "dsql.storage", "storage_gb", storage),
    ]


def _dynamodb(pricer: _Pricer, table: CostInput) -> list[CostComponent]:
    if str(table.inputs.get("billingMode", "PAY_PER_REQUEST")) != "PAY_PER_REQUEST":
        return []
    facts = pricer.facts
    held = sum(facts.replicas[r] * facts.connections_per_process[r] for r in TEMPORAL_ROLES)
    opened = held / facts.connection_lifetime_seconds * u.SECONDS_PER_MONTH
    lease = "lease" in table.name
    writes_per_open = 2 if lease else 1
    reason = (f"{held} held connections ({facts.preset}: replicas x pools x per-pool connections) re-opened every "
              f"{facts.connection_lifetime_seconds:g} s (max_conn_lifetime) x {writes_per_open} write(s) per open "
              f"({'lease acquire + release' if lease else 'one token-bucket take'})")
    return [
        pricer.usage(table.name, "Write requests", "dynamodb.write_requests", "monthly_write_requests",
                     _default(opened * writes_per_open, reason)),
        pricer.usage(table.name, "Read requests", "dynamodb.read_requests", "monthly_read_requests",
                     _default(0.0, "the plugin's conditional writes read nothing apart")),
    ]


def _bucket(pricer: _Pricer, bucket: CostInput) -> list[CostComponent]:
    if role_of(bucket.name) == "copilot":
        gets = _default(0.0, "the knowledge-base corpus bucket: read at sync time only")
        puts = _default(100.0, "corpus uploads by `copilot kb sync`: estimated")
        stored = _default(0.1, "the knowledge-base corpus (docs/knowledge): small")
    else:
        tasks = pricer.facts.temporal_tasks
        gets = _default(tasks * u.SECONDS_PER_MONTH / u.CONFIG_POLL_SECONDS,
                        f"{tasks} Temporal tasks x one dynamic-config GET every {u.CONFIG_POLL_SECONDS} s (the refresher)")
        puts = _default(float(u.PROFILE_UPLOADS_PER_MONTH), "one behaviour profile an hour: estimated")
        stored = _default(u.PROFILE_STORAGE_GB, "configs and profiles: estimated")
    return [
        pricer.usage(bucket.name, "Storage (Standard)", "s3.storage", "storage_gb", stored),
        pricer.usage(bucket.name, "PUT requests", "s3.put_requests", "monthly_put_requests", puts),
        pricer.usage(bucket.name, "GET requests", "s3.get_requests", "monthly_get_requests", gets),
    ]


def _lambda(pricer: _Pricer, function: CostInput) -> list[CostComponent]:
    if "setup" in function.name:
        return []  # the set-up runner only runs with the one-off tasks, priced per run there
    arches = function.inputs.get("architectures") or ["x86_64"]
    arch = "arm64" if "arm64" in arches else "x86_64"
    memory_gb = int(function.inputs.get("memorySize") or 128) / 1024
    requests = _default(float(u.API_REQUESTS_PER_MONTH), "one request a minute (a dashboard panel): estimated")
    chosen = pricer.usage_file.lookup(function.name, "monthly_requests")
    count = requests.value if chosen is None else chosen
    duration = pricer.usage_file.lookup(function.name, "average_duration_ms")
    ms = u.API_AVG_DURATION_MS if duration is None else duration
    pricer.notes.append(UsageNote(function.name, "average_duration_ms", ms, "default" if duration is None else "usage file",
                                  "a profile-API request: estimated"))
    return [
        pricer.usage(function.name, "Requests", "lambda.requests", "monthly_requests", requests),
        # Usage-based too: its quantity is the requests and duration above times the memory.
        pricer.derived(f"Duration ({memory_gb:g} GB x {ms:g} ms, {arch})", f"lambda.gb_seconds.{arch}",
                       count * memory_gb * ms / 1000),
    ]


def _amp(pricer: _Pricer, name: str, scraped_tasks: int) -> list[CostComponent]:
    from temporal_dsql_core.metric_catalog import CATALOG, iter_queries

    samples = scraped_tasks * u.SERIES_PER_SCRAPED_TASK * u.SECONDS_PER_MONTH / u.SCRAPE_INTERVAL_SECONDS
    queries = sum(1 for _ in iter_queries())
    query_samples = queries * (u.SECONDS_PER_MONTH / u.QUERY_EVALUATION_SECONDS) * u.SERIES_PER_QUERY * u.POINTS_PER_QUERY_SERIES
    return [
        pricer.usage(name, "Samples ingested", "amp.samples", "monthly_samples", _default(
            samples, f"{scraped_tasks} scraped tasks x {u.SERIES_PER_SCRAPED_TASK} series (estimate) x one sample every "
                     f"{u.SCRAPE_INTERVAL_SECONDS} s (the collector's scrape_interval)")),
        pricer.usage(name, "Query samples processed", "amp.query_samples", "monthly_query_samples", _default(
            query_samples, f"{queries} catalog queries ({len(CATALOG)} metrics, per-service ones x 4) every "
                           f"{u.QUERY_EVALUATION_SECONDS} s x {u.SERIES_PER_QUERY} series x {u.POINTS_PER_QUERY_SERIES} points")),
        pricer.usage(name, "Storage", "amp.storage", "storage_gb", _default(
            samples * u.AMP_RETENTION_MONTHS * u.BYTES_PER_STORED_SAMPLE / u.GIB,
            f"{u.AMP_RETENTION_MONTHS} months of samples (150-day retention) x {u.BYTES_PER_STORED_SAMPLE} B per sample")),
    ]


def _log_tasks(pricer: _Pricer, name: str) -> tuple[float, str]:
    role = role_of(name)
    facts = pricer.facts
    if role in facts.replicas:
        return float(facts.replicas[role]), f"{facts.replicas[role]} {role} tasks"
    if role == "copilot":
        return 2.0, "the copilot's server and worker tasks"
    if role == "ui":
        return 1.0, "the UI task"
    if "profile-api" in name:
        return 0.1, "the profile API's request logs"
    return 0.1, "set-up runs and exec sessions: occasional"


def _log_group(pricer: _Pricer, group: CostInput) -> list[CostComponent]:
    tasks, who = _log_tasks(pricer, group.name)
    ingested = tasks * u.LOG_GB_PER_TASK
    retention = int(group.inputs.get("retentionInDays") or pricer.facts.log_retention_days)
    return [
        pricer.usage(group.name, "Ingestion", "logs.ingestion", "monthly_ingested_gb", _default(
            ingested, f"{who} x {u.LOG_GB_PER_TASK} GB a month (info-level logs, estimated)")),
        pricer.usage(group.name, "Storage", "logs.storage", "storage_gb", _default(
            ingested * min(retention, 3650) / 30, f"{retention} days retained of the ingestion above (uncompressed: an upper bound)")),
    ]


def _nat(pricer: _Pricer, gateway: CostInput) -> list[CostComponent]:
    facts = pricer.facts
    dsql_gb = facts.state_transitions_per_sec * u.WIRE_BYTES_PER_STATE_TRANSITION * u.SECONDS_PER_MONTH / u.GIB
    return [
        pricer.fixed("NAT gateway", "nat.hours", HOURS_PER_MONTH),
        pricer.usage(gateway.name, "Data processed", "nat.gb", "monthly_data_processed_gb", _default(
            dsql_gb, f"{facts.state_transitions_per_sec:g} transitions/s x {u.WIRE_BYTES_PER_STATE_TRANSITION} B to and from "
                     "the public DSQL endpoint (estimate; AMP remote-write and image pulls add a little)")),
    ]


def _load_balancer(pricer: _Pricer, balancer: CostInput) -> list[CostComponent]:
    kind = "nlb" if str(balancer.inputs.get("loadBalancerType", "application")) == "network" else "alb"
    unit = "NLCU" if kind == "nlb" else "LCU"
    return [
        pricer.fixed(f"{'Network' if kind == 'nlb' else 'Application'} load balancer", f"{kind}.hours", HOURS_PER_MONTH),
        pricer.usage(balancer.name, f"{unit}s", f"{kind}.{unit.lower()}_hours", f"monthly_{unit.lower()}_hours", _default(
            u.NLCU_PER_HOUR * HOURS_PER_MONTH, f"{u.NLCU_PER_HOUR:g} {unit} an hour: long-lived gRPC connections (estimate)")),
    ]


def _endpoint(pricer: _Pricer, endpoint: CostInput) -> list[CostComponent]:
    if str(endpoint.inputs.get("vpcEndpointType", "Gateway")) != "Interface":
        return []  # gateway endpoints (S3, DynamoDB) are free
    zones = max(1, len(endpoint.inputs.get("subnetIds") or []))
    return [
        pricer.fixed(f"Interface endpoint ({zones} AZ)", "vpce.interface_hours", zones * HOURS_PER_MONTH),
        pricer.usage(endpoint.name, "Data processed", "vpce.gb", "monthly_data_processed_gb",
                     _default(0.0, "set it in the usage file: traffic through the endpoint")),
    ]


def _domain(pricer: _Pricer, domain: CostInput) -> list[CostComponent]:
    cluster = domain.inputs.get("clusterConfig") or {}
    ebs = domain.inputs.get("ebsOptions") or {}
    count = int(cluster.get("instanceCount") or 1)
    instance = str(cluster.get("instanceType"))
    components = [pricer.fixed(f"Instances ({count} x {instance})", f"opensearch.hours.{instance}", count * HOURS_PER_MONTH,
                               field="opensearch_instance_type")]
    if cluster.get("dedicatedMasterEnabled"):
        masters, master = int(cluster.get("dedicatedMasterCount") or 3), str(cluster.get("dedicatedMasterType"))
        components.append(pricer.fixed(f"Dedicated masters ({masters} x {master})", f"opensearch.hours.{master}",
                                       masters * HOURS_PER_MONTH, field="opensearch_instance_type"))
    if ebs.get("ebsEnabled"):
        size = int(ebs.get("volumeSize") or 0)
        components.append(pricer.fixed(f"Storage (gp3, {count} x {size} GB)", "opensearch.gp3_storage", count * size))
    return components


def _secret(pricer: _Pricer, secret: CostInput) -> list[CostComponent]:
    return [pricer.fixed("Secret", "secretsmanager.secrets", 1)]


def _bedrock(pricer: _Pricer, name: str, model: str) -> list[CostComponent]:
    explanations = u.EXPLANATIONS_PER_MONTH
    return [
        pricer.usage(name, f"Input tokens ({model.split('.')[-1].split(':')[0] if '.' in model else model})",
                     f"bedrock.input_tokens.{model}", "monthly_input_tokens", _default(
                         explanations * u.INPUT_TOKENS_PER_EXPLANATION,
                         f"{explanations} explanations (one an hour, estimated) x {u.INPUT_TOKENS_PER_EXPLANATION} input tokens"),
                     field="bedrock_model_id"),
        pricer.usage(name, "Output tokens", f"bedrock.output_tokens.{model}", "monthly_output_tokens", _default(
            explanations * u.OUTPUT_TOKENS_PER_EXPLANATION,
            f"{explanations} explanations x {u.OUTPUT_TOKENS_PER_EXPLANATION} output tokens"), field="bedrock_model_id"),
    ]


_HANDLERS: dict[str, Callable[[_Pricer, CostInput], list[CostComponent]]] = {
    "aws:dsql/cluster:Cluster": _dsql,
    "aws:dynamodb/table:Table": _dynamodb,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:lambda/function:Function": _lambda,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:opensearch/domain:Domain": _domain,
    "aws:secretsmanager/secret:Secret": _secret,
}
_UNPRICED = {
    "aws:s3/vectorsVectorBucket:VectorsVectorBucket": "S3 Vectors storage and queries: no price pinned (small corpus)",
    "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase": "embedding tokens at sync time: no price pinned",
    "aws:ec2/eip:Eip": "the NAT gateway's public IPv4 address ($0.005/h on AWS's VPC pricing page): not pinned",
}


def _with_temporal_cloud(result: CostEstimate, table: PriceTable, facts: WorkloadFacts) -> CostEstimate:
    entry = table.global_prices.get("temporal_cloud.actions")
    actions = facts.state_transitions_per_sec * u.ACTIONS_PER_STATE_TRANSITION * u.SECONDS_PER_MONTH
    per_million = result.total_monthly / (actions / 1e6) if actions else math.inf
    comparison: dict[str, Any] = {
        "estimate": True,
        "target_state_transitions_per_sec": facts.state_transitions_per_sec,
        "actions_per_state_transition": u.ACTIONS_PER_STATE_TRANSITION,
        "monthly_actions": actions,
        "self_hosted_per_million_actions": per_million,
    }
    if entry is not None:
        comparison.update(temporal_cloud_per_million_actions=entry.price, source=entry.source, as_of=entry.as_of,
                          note=entry.note or "")
    return CostEstimate(**{**result.__dict__, "temporal_cloud": comparison})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _plain_props(value: Any) -> Any:
    """A resource's Python props as the plan records them: camelCase keys, args objects as dicts,
    unresolved Outputs as None (pricing reads only what is known when the program declares)."""
    import pulumi

    if isinstance(value, pulumi.Output):
        return None
    if isinstance(value, dict):
        return {_camel(str(k)): _plain_props(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain_props(v) for v in value]
    if type(value).__module__.startswith("pulumi_aws.") and hasattr(value, "__dict__"):
        return _plain_props(dict(vars(value)))  # an `*Args` input type keeps its fields in __dict__
    return value


class ResourceCollector:
    """A Pulumi resource transformation that records every declared resource as a `CostInput`.

    Set on a component (`ResourceOptions(transformations=[collector])`), Pulumi runs it for the
    component and every descendant as each is declared, in-process: the component can price
    itself with no engine round trip and no network (the `estimatedMonthlyCost` stack output).
    """

    def __init__(self) -> None:
        self.inputs: list[CostInput] = []

    def __call__(self, args: Any) -> None:
        if str(args.type_).startswith("aws:"):
            self.inputs.append(CostInput(str(args.type_), str(args.name), _plain_props(dict(args.props))))
        return None


class _PlanLike(Protocol):
    @property
    def preset(self) -> str: ...
    @property
    def outputs(self) -> dict[str, Any]: ...
    @property
    def config(self) -> dict[str, str]: ...
    @property
    def resources(self) -> Sequence[Any]: ...


def facts_from_profile_json(preset: str, profile_json: str, *, log_retention_days: int = 30) -> WorkloadFacts:
    """The workload facts of a deployed profile (the stack output `profile_json`)."""
    from temporal_dsql_core.profile import ConfigProfile

    profile = ConfigProfile.model_validate_json(profile_json)
    return WorkloadFacts.from_profile_values(preset, profile.values(), log_retention_days=log_retention_days)


def estimate_plan(
    plan: _PlanLike, *, region: str = "us-east-1", usage_file: UsageFile = EMPTY_USAGE, prices: PriceTable | None = None,
) -> CostEstimate:
    """Price an offline plan (`plan.plan(...)`): its resources, and usage defaults from its profile."""
    project = "temporal-dsql"
    retention = plan.config.get(f"{project}:logRetentionDays")
    facts = facts_from_profile_json(plan.preset, str(plan.outputs["profile_json"]),
                                    log_retention_days=int(retention) if retention else 30)
    inputs = [CostInput(r.type, r.name, r.inputs) for r in plan.resources]
    model = plan.config.get(f"{project}:bedrockModelId") or DEFAULT_BEDROCK_MODEL
    result = estimate(inputs, facts=facts, region=region, usage_file=usage_file, prices=prices, bedrock_model_id=model)
    known: dict[str, set[str]] = {}
    for note in result.usage:
        known.setdefault(note.resource, set()).add(note.key)
    usage_file.check_all_used(known)
    return result


# --- text ---------------------------------------------------------------------------------------

WIDTH = 80
_NAME, _QTY, _UNIT, _COST = 38, 11, 16, 12  # 38 + 11 + 1 + 16 + 1 + 12 = 79


def _money(value: float) -> str:
    # Sub-cent amounts (a set-up run) keep four decimals rather than print as $0.00.
    return f"${value:,.4f}" if 0 < value < 0.01 else f"${value:,.2f}"


def _qty(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.4g}" if value < 1 else f"{value:,.2f}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _row(name: str, qty: str, unit: str, cost: str) -> str:
    return f"{_cut(name, _NAME):<{_NAME}}{qty:>{_QTY}} {_cut(unit, _UNIT):<{_UNIT}} {cost:>{_COST}}".rstrip()


def _resource_lines(resource: PricedResource) -> list[str]:
    lines = [_cut(f"{resource.name}  [{resource.role}]", WIDTH - 2)]
    for i, c in enumerate(resource.components):
        branch = "└─ " if i == len(resource.components) - 1 else "├─ "
        cost = _money(c.monthly_cost) + ("*" if c.usage_based else " ")
        lines.append(_row(f" {branch}{c.name}", _qty(c.monthly_quantity), c.unit, cost))
    return lines


def render_text(result: CostEstimate, *, explain: bool = False) -> str:
    """The Infracost-style table: every line within 80 columns."""
    out = [
        _cut(f"temporal-dsql cost: {result.preset} in {result.region} ({result.currency}, month = {HOURS_PER_MONTH} h)", WIDTH),
        _cut(f"prices: pinned table of {result.prices_as_of} (sources: --format json)", WIDTH),
        "",
        _row("Name", "Monthly qty", "Unit", "Monthly cost "),
        "",
    ]
    for resource in result.resources:
        out += [*_resource_lines(resource), ""]
    out += [
        _row("Baseline (fixed) total", "", "", _money(result.baseline_monthly) + " "),
        _row("Usage-based total*", "", "", _money(result.usage_monthly) + "*"),
        _row("OVERALL MONTHLY TOTAL", "", "", _money(result.total_monthly) + " "),
        "",
        "By Temporal role:",
        *[_row(f"  {role}", "", "", _money(cost) + " ") for role, cost in result.by_role().items()],
        "",
        "By AWS service:",
        *[_row(f"  {service}", "", "", _money(cost) + " ") for service, cost in result.by_service().items()],
        "",
        "One-off (per run, not in the monthly total):",
    ]
    for resource in result.one_off:
        out.append(_row(f"  {resource.name}", "", "", _money(resource.monthly_cost) + " "))
    out.append(_row("  Set-up per deployment run", "", "", _money(result.one_off_per_run()) + " "))
    tc = result.temporal_cloud
    if tc:
        out += ["", "Against Temporal Cloud (ESTIMATE):",
                _cut(f"  {tc['monthly_actions'] / 1e6:,.0f}M actions/month at {tc['target_state_transitions_per_sec']:g} "
                     f"transitions/s x {tc['actions_per_state_transition']:g} actions each", WIDTH),
                _row("  self-hosted, per 1M actions", "", "", _money(tc["self_hosted_per_million_actions"]) + " ")]
        if "temporal_cloud_per_million_actions" in tc:
            out += [_row("  Temporal Cloud list, per 1M", "", "", _money(tc["temporal_cloud_per_million_actions"]) + " "),
                    *_wrap(f"source: {tc['source']}, as of {tc['as_of']}", indent="  ")]
    if result.unpriced:
        out += ["", "Not priced:"]
        for item in result.unpriced:
            out += _wrap(f"{item['name']}: {item['reason']}", indent="  ")
    out += ["", "* usage-based: from the usage file or the preset's defaults (--explain)."]
    if explain:
        out += ["", "Where the usage came from:"]
        for note in result.usage:
            out.append(_cut(f"  {note.resource}: {note.key} = {_qty(note.value)} ({note.source})", WIDTH))
            out += _wrap(note.reason, indent="      ")
    return "\n".join(out) + "\n"


def _wrap(text: str, *, indent: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent.rstrip()]


__all__ += ["UnpricedError"]
