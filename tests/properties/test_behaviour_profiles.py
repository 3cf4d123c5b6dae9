"""Behaviour profile properties 13-18 (design: Correctness Properties) and secret redaction.

Properties 13, 15 and 16 run against the real stand-ins (Prometheus, moto S3, PostgreSQL).
"""

from __future__ import annotations

import json
import math
import string
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version
from pydantic import SecretStr
from whenever import Instant, TimeDelta

from temporal_dsql_copilot.api.app import build_profile_service
from temporal_dsql_core.deployed_config import DeployedConfig
from temporal_dsql_core.metric_catalog import CATALOG, MetricGroup
from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterClassification, ResolvedParameter
from temporal_dsql_profiles.comparison import compare_profiles
from temporal_dsql_profiles.models import (
    BehaviourProfile,
    ComparisonThresholds,
    ConfigSnapshot,
    CreateProfileRequest,
    DSQLPluginSnapshot,
    DynamicConfigEntry,
    EnvVarEntry,
    MissingMetric,
    ProfileMetadata,
    TelemetrySummary,
    WorkerOptionsSnapshot,
)
from temporal_dsql_profiles.service import ProfileService
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.snapshot import REDACTED, build_snapshot
from temporal_dsql_profiles.storage import ListFilters, ProfileStore
from temporal_dsql_profiles.telemetry import aggregate
from temporal_dsql_standins import MotoServer, PostgresServer, ScenarioPrometheus

PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SIX = ("min", "max", "mean", "p50", "p95", "p99")

# --- strategies ----------------------------------------------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
names = st.text(alphabet=string.ascii_letters + string.digits + "-_. ", min_size=1, max_size=30).filter(str.strip)
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
instants = st.integers(min_value=1_600_000_000_000_000, max_value=1_900_000_000_000_000).map(
    lambda us: Instant.from_timestamp(us, unit="microsecond"))
versions = st.sampled_from(["1.29.1", "1.30.0", "1.30.0rc1", "2.0"]).map(Version)


@st.composite
def aggregates(draw: st.DrawFn) -> MetricAggregate:
    low, p50, p95, p99, high = sorted(draw(st.lists(finite, min_size=5, max_size=5)))
    mean = draw(st.floats(min_value=low, max_value=high, allow_nan=False)) if low < high else low
    return MetricAggregate(min=low, max=high, mean=mean, p50=p50, p95=p95, p99=p99)


@st.composite
def summaries(draw: st.DrawFn) -> TelemetrySummary:
    summary = TelemetrySummary(step_seconds=draw(st.sampled_from([15, 60, 300])))
    for key in TelemetrySummary.metric_keys():
        agg = draw(st.one_of(st.none(), aggregates()))
        summary.set(key, agg)
        if agg is None:
            summary.missing.append(MissingMetric(metric=key, reason="no series matched"))
    return summary


json_scalars = st.one_of(st.booleans(), st.integers(-10**9, 10**9), finite, text)
dyn_values = st.one_of(json_scalars, st.lists(text, max_size=3))


def config_profile(preset: str, values: dict[str, bool | int | float | str]) -> ConfigProfile:
    return ConfigProfile(
        preset_name=preset, slo_params=[], topology_params=[], safety_params=[],
        tuning_params=[ResolvedParameter(key=k, value=v, classification=ParameterClassification.TUNING, source="preset")
                       for k, v in values.items()],
        temporal_server_version=Version("1.29.1"), dsql_plugin_version=Version("1.29.1"),
        compiler_version=Version("0.1.0"))


@st.composite
def snapshots(draw: st.DrawFn) -> ConfigSnapshot:
    keys = draw(st.lists(st.sampled_from([f"history.k{i}" for i in range(8)]), unique=True, max_size=6))
    env_names = draw(st.lists(st.sampled_from([f"DSQL_VAR_{i}" for i in range(8)]), unique=True, max_size=5))
    params = draw(st.dictionaries(st.sampled_from([f"p.{i}" for i in range(6)]),
                                  st.one_of(st.booleans(), st.integers(0, 1000), text), max_size=4))
    return ConfigSnapshot(
        dynamic_config=[DynamicConfigEntry(key=k, value=draw(dyn_values)) for k in keys],
        server_env_vars=[EnvVarEntry(service=draw(st.sampled_from(["history", "matching", None])), name=n,
                                     value=draw(text)) for n in env_names],
        worker_options=WorkerOptionsSnapshot(max_concurrent_activities=draw(st.none() | st.integers(1, 1000)),
                                             other=draw(st.dictionaries(st.sampled_from(["a", "b"]),
                                                                        st.none() | st.integers(0, 9)))),
        dsql_plugin_config=DSQLPluginSnapshot(reservoir_enabled=draw(st.none() | st.booleans()),
                                              max_conns=draw(st.none() | st.integers(1, 500))),
        config_profile=draw(st.none() | st.just(config_profile(draw(st.sampled_from(["starter", "mid-scale"])),
                                                               params))),
        sources=draw(st.lists(st.sampled_from(["deployed:config/", "request"]), unique=True)),
    )


@st.composite
def profiles(draw: st.DrawFn) -> BehaviourProfile:
    start = draw(instants)
    return BehaviourProfile(
        id=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))), name=draw(names), label=draw(st.none() | names),
        cluster_id=draw(names), namespace=draw(st.none() | names), task_queue=draw(st.none() | names),
        time_window_start=start,
        time_window_end=start + TimeDelta(seconds=draw(st.integers(1, 24 * 3600))),
        temporal_server_version=draw(st.none() | versions), dsql_plugin_version=draw(st.none() | versions),
        worker_code_sha=draw(st.none() | st.text(alphabet="0123456789abcdef", min_size=7, max_size=40)),
        config_snapshot=draw(snapshots()), telemetry=draw(summaries()), created_at=draw(instants),
    )


def _assert_telemetry_complete(summary: TelemetrySummary) -> None:
    dumped = summary.model_dump()
    assert {g.value for g in MetricGroup} <= set(dumped)
    missing = {m.metric for m in summary.missing}
    for key in TelemetrySummary.metric_keys():
        agg = summary.get(key)
        if agg is None:
            assert key in missing, f"{key} is None but not listed as missing"
            continue
        assert key not in missing
        values = agg.model_dump()
        assert set(values) == set(SIX) and all(math.isfinite(values[f]) for f in SIX)
        assert agg.min <= agg.p50 <= agg.p95 <= agg.p99 <= agg.max
        assert agg.min <= agg.mean <= agg.max


# --- Property 18 ---------------------------------------------------------------------------------

# Feature: enhance-config-ux, Property 18: Behaviour_Profile serialization round-trip
@PROPS
@given(profile=profiles())
def test_property_18_behaviour_profile_serialization_round_trip(profile: BehaviourProfile) -> None:
    restored = BehaviourProfile.model_validate_json(profile.model_dump_json())
    assert restored == profile
    assert json.loads(restored.model_dump_json()) == json.loads(profile.model_dump_json())
    assert profile.model_dump(mode="json")["time_window_start"].endswith("Z")


# --- Property 14 ---------------------------------------------------------------------------------

# Feature: enhance-config-ux, Property 14: Telemetry_Summary completeness
@PROPS
@given(samples=st.lists(st.one_of(finite, st.just(math.nan), st.just(math.inf)), max_size=200))
def test_property_14_aggregate_has_all_six_ordered_fields_or_is_missing(samples: list[float]) -> None:
    agg = aggregate(samples)
    finite_samples = [s for s in samples if math.isfinite(s)]
    if not finite_samples:
        assert agg is None
        return
    assert agg is not None
    assert agg.min == min(finite_samples) and agg.max == max(finite_samples)
    assert agg.min <= agg.p50 <= agg.p95 <= agg.p99 <= agg.max
    assert agg.min <= agg.mean <= agg.max


# Feature: enhance-config-ux, Property 14: Telemetry_Summary completeness
@SLOW
@given(offset_min=st.integers(0, 200), length_min=st.integers(10, 240), ns=st.sampled_from([None, "default", "x"]))
async def test_property_14_collected_summaries_are_complete(
        prometheus_with_scenarios: ScenarioPrometheus, offset_min: int, length_min: int, ns: str | None) -> None:
    from temporal_dsql_profiles.telemetry import PrometheusClient, collect_telemetry

    base = prometheus_with_scenarios.windows["healthy-150wps"].start
    start = base + TimeDelta(minutes=offset_min)
    async with PrometheusClient(prometheus_with_scenarios.query_url, sigv4=False) as client:
        summary = await collect_telemetry(client, start, start + TimeDelta(minutes=length_min), namespace=ns)
    _assert_telemetry_complete(summary)


# --- Property 13 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def property_service(postgres_server: PostgresServer, moto_server: MotoServer,
                           prometheus_with_scenarios: ScenarioPrometheus) -> AsyncIterator[ProfileService]:
    import boto3

    bucket = f"bp-props-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    admin = await asyncpg.connect(postgres_server.dsn)
    db = f"props_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE DATABASE {db}")
    await admin.close()
    dsn = postgres_server.dsn.rsplit("/", 1)[0] + f"/{db}"
    service = build_profile_service(ProfileSettings(
        bucket=bucket, s3_endpoint_url=moto_server.endpoint_url, database_dsn=SecretStr(dsn),
        amp_query_url=prometheus_with_scenarios.query_url, amp_sigv4=False))
    yield service
    await service.store.close()
    await service.telemetry.aclose()


# Feature: enhance-config-ux, Property 13: Behaviour_Profile completeness
@SLOW
@given(name=names, label=st.none() | names, ns=st.sampled_from([None, "default"]),
       scenario=st.sampled_from(["healthy-150wps", "overloaded-400wps"]), minutes=st.integers(5, 120))
async def test_property_13_created_profiles_are_complete(
        property_service: ProfileService, prometheus_with_scenarios: ScenarioPrometheus, name: str,
        label: str | None, ns: str | None, scenario: str, minutes: int) -> None:
    window = prometheus_with_scenarios.windows[scenario]
    request = CreateProfileRequest(name=name, cluster_id="prop13", label=label, namespace=ns,
                                   time_window_start=window.end - TimeDelta(minutes=minutes),
                                   time_window_end=window.end)
    meta = await property_service.create(request)
    profile = await property_service.store.get(meta.id)
    assert profile.name == name.strip() and profile.cluster_id == "prop13"
    assert profile.time_window_start is not None and profile.time_window_end > profile.time_window_start
    assert profile.config_snapshot is not None and profile.telemetry is not None
    _assert_telemetry_complete(profile.telemetry)


# --- Properties 15 and 16 ------------------------------------------------------------------------

async def _reset(store: ProfileStore) -> None:
    async def truncate(conn: asyncpg.Connection) -> None:
        await conn.execute("DELETE FROM profile_baselines")
        await conn.execute("DELETE FROM behaviour_profiles")

    await store._tx(truncate)


entries = st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([None, "x", "y"]),
                    st.sampled_from([None, "default", "other"]), st.integers(0, 48), st.integers(1, 24))
filters = st.builds(ListFilters, cluster=st.sampled_from([None, "a", "b"]), label=st.sampled_from([None, "x", "y"]),
                    namespace=st.sampled_from([None, "default", "other"]),
                    start=st.none() | st.integers(0, 72).map(lambda h: Instant.from_utc(2026, 1, 1) + TimeDelta(hours=h)),
                    end=st.none() | st.integers(72, 100).map(lambda h: Instant.from_utc(2026, 1, 1) + TimeDelta(hours=h)))


def _matches(meta: ProfileMetadata, f: ListFilters) -> bool:
    return ((f.cluster is None or meta.cluster_id == f.cluster) and (f.label is None or meta.label == f.label)
            and (f.namespace is None or meta.namespace == f.namespace)
            and (f.start is None or meta.time_window_end >= f.start)
            and (f.end is None or meta.time_window_start <= f.end))


# Feature: enhance-config-ux, Property 15: Profile listing correctness
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.lists(entries, max_size=10), query=filters, page=st.integers(1, 4))
async def test_property_15_listing_returns_exactly_the_matching_profiles(
        property_service: ProfileService, stored: list[tuple[Any, ...]], query: ListFilters, page: int) -> None:
    from temporal_dsql_profiles.models import ConfigSnapshot as Snap

    store = property_service.store
    await _reset(store)
    origin = Instant.from_utc(2026, 1, 1)
    created = []
    for cluster, label, ns, offset, hours in stored:
        start = origin + TimeDelta(hours=offset)
        profile = BehaviourProfile(
            id=str(uuid.uuid4()), name="p", label=label, cluster_id=cluster, namespace=ns,
            time_window_start=start, time_window_end=start + TimeDelta(hours=hours),
            config_snapshot=Snap(), telemetry=TelemetrySummary(), created_at=Instant.now())
        created.append(await store.save(profile))
    seen, cursor = [], None
    while True:
        result = await store.list(query, limit=page, cursor=cursor)
        assert all(set(m.model_dump()) == set(ProfileMetadata.model_fields) for m in result.items)
        seen += result.items
        if result.next_cursor is None:
            break
        cursor = result.next_cursor
    assert sorted(m.id for m in seen) == sorted(m.id for m in created if _matches(m, query))
    assert len({m.id for m in seen}) == len(seen)  # keyset pages never repeat a row


# Feature: enhance-config-ux, Property 16: Profile retrieval identity
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=profiles())
async def test_property_16_retrieving_a_stored_profile_returns_it_unchanged(
        property_service: ProfileService, profile: BehaviourProfile) -> None:
    profile = profile.model_copy(update={"id": str(uuid.uuid4())})
    await property_service.store.save(profile)
    assert await property_service.store.get(profile.id) == profile


# --- Property 17 ---------------------------------------------------------------------------------

_SEV = {"critical": 0, "warning": 1, "info": 2}
_DIR = {"regressed": 0, "improved": 1, "unchanged": 2, "missing": 3}


# Feature: enhance-config-ux, Property 17: Comparison completeness and ordering
@PROPS
@given(a=profiles(), b=profiles(), latency=st.floats(1, 500), errors=st.floats(1, 500))
def test_property_17_comparison_is_complete_and_ordered(a: BehaviourProfile, b: BehaviourProfile,
                                                        latency: float, errors: float) -> None:
    thresholds = ComparisonThresholds(latency_pct=latency, error_pct=errors)
    comparison = compare_profiles(a, b, thresholds)
    # Telemetry: one diff per aggregate key, ordered by severity, regressions first, largest first.
    assert sorted(d.metric for d in comparison.telemetry_diffs) == sorted(TelemetrySummary.metric_keys())
    keys = [(_SEV[d.severity], _DIR[d.direction],
             -(abs(d.change_pct) if d.change_pct is not None else math.inf)) for d in comparison.telemetry_diffs]
    assert keys == sorted(keys)
    for diff in comparison.telemetry_diffs:
        metric = CATALOG[".".join(diff.metric.split(".")[:2])]
        if diff.direction in ("improved", "regressed") and diff.change_pct is not None:
            better = (diff.change_pct > 0) == (metric.direction.value == "higher_is_better")
            assert (diff.direction == "improved") == better
        if diff.severity == "warning" and diff.change_pct is not None:
            assert diff.direction == "regressed"
    # Config: exactly the keys that differ, added and removed included.
    flat_a = {e.key: e.value for e in a.config_snapshot.dynamic_config}
    flat_b = {e.key: e.value for e in b.config_snapshot.dynamic_config}
    dyn = {d.key: d for d in comparison.config_diffs if d.section == "dynamic_config"}
    expected = {k for k in flat_a.keys() | flat_b.keys()
                if k not in flat_a or k not in flat_b
                or json.dumps(flat_a[k], sort_keys=True) != json.dumps(flat_b[k], sort_keys=True)
                or type(flat_a[k]) is not type(flat_b[k])}
    assert set(dyn) == expected
    for key, diff in dyn.items():
        assert diff.change == ("added" if key not in flat_a else "removed" if key not in flat_b else "changed")
    # Versions: a diff exactly for each component that differs.
    pairs = {"temporal_server": (a.temporal_server_version, b.temporal_server_version),
             "dsql_plugin": (a.dsql_plugin_version, b.dsql_plugin_version),
             "worker_code": (a.worker_code_sha, b.worker_code_sha)}
    assert {v.component for v in comparison.version_diffs} == {c for c, (x, y) in pairs.items() if x != y}


# --- Secret redaction ----------------------------------------------------------------------------

SECRET_NAMES = ["DB_PASSWORD", "TEMPORAL_SQL_PASSWORD", "AWS_SECRET_ACCESS_KEY", "API_KEY", "GITHUB_TOKEN",
                "clientSecret", "dsql.auth_token", "PRIVATE_KEY", "SESSION_TOKEN", "SLACK_WEBHOOK_SECRET"]
marker = st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=24).map(lambda s: "Zq9" + s)
credential_values = st.one_of(
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(lambda s: "AKIA" + s),
    # AWS secret access keys: 40 base64 characters (all-hex strings are git SHAs, kept on purpose)
    st.text(alphabet=string.ascii_letters + string.digits + "/+", min_size=39, max_size=39).map(lambda s: s + "/"),
    marker.map(lambda m: f"host/?Action=DbConnectAdmin&X-Amz-Credential=AKIA/x&X-Amz-Signature={m}"),
    marker.map(lambda m: f"postgres://admin:{m}@db.example:5432/postgres"),
    marker.map(lambda m: f"-----BEGIN RSA PRIVATE KEY-----\n{m}\n-----END RSA PRIVATE KEY-----"),
    marker.map(lambda m: f"Bearer {m}"),
    marker.map(lambda m: f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx{m}.c2lnbmF0dXJl"),
    marker.map(lambda m: f"ghp_{m}abcdefghij"),
)


# Property: no secret survives a config snapshot
@PROPS
@given(secret_name=st.sampled_from(SECRET_NAMES), secret=marker, credential=credential_values,
       plain_name=st.sampled_from(["SERVICE_NAME", "DSQL_TOKEN_BUCKET_RATE", "LOG_FORMAT", "NOTE"]),
       where=st.sampled_from(["env", "dynamic", "request_env", "plugin", "profile"]))
def test_property_no_secret_survives_a_config_snapshot(secret_name: str, secret: str, credential: str,
                                                       plain_name: str, where: str) -> None:
    env: dict[str, dict[str, str]] = {"history": {"LOG_LEVEL": "info"}}
    dynamic_yaml = "frontend.rps:\n  - value: 100\n"
    plugin: dict[str, Any] = {"max_conns": 50}
    profile_values: dict[str, bool | int | float | str] = {"history.persistenceMaxQPS": 3000}
    request_env = None
    if where == "env":
        env["history"].update({secret_name: secret, plain_name: credential})
    elif where == "dynamic":
        dynamic_yaml += f"{secret_name}:\n  - value: {json.dumps(secret)}\n{plain_name}:\n  - value: {json.dumps(credential)}\n"
    elif where == "request_env":
        request_env = {"matching": {secret_name: secret, plain_name: credential}}
    elif where == "plugin":
        plugin.update({secret_name: secret, plain_name: credential})
    else:
        profile_values.update({secret_name: secret, plain_name: credential})
    deployed = DeployedConfig(profile=config_profile("mid-scale", profile_values), dynamic_config_yaml=dynamic_yaml,
                              dsql_plugin_config=plugin, worker_options={}, env=env)
    deployed = DeployedConfig.from_objects(deployed.to_objects().get)  # through the stored layout
    request = CreateProfileRequest(name="n", cluster_id="c", time_window_start=Instant.from_utc(2026, 1, 1),
                                   time_window_end=Instant.from_utc(2026, 1, 1, 1), server_env_vars=request_env)
    snapshot, _ = build_snapshot(deployed, request)
    dumped = snapshot.model_dump_json()
    assert secret not in dumped and json.dumps(secret)[1:-1] not in dumped
    assert credential not in dumped and json.dumps(credential)[1:-1] not in dumped
    assert REDACTED in dumped
    if where in ("env", "request_env"):
        flagged = {e.name for e in snapshot.server_env_vars if e.redacted}
        assert {secret_name, plain_name} <= flagged and "LOG_LEVEL" not in flagged
