"""recommend-config and the history shard count (issue 18, item 8): a recommendation that would
change the shard count says it is refused and gives the way out, and "was" is the deployed value."""

from __future__ import annotations

import uuid

from whenever import Instant, TimeDelta

from temporal_dsql_config import ConfigCompiler
from temporal_dsql_copilot.loop.recommend import recommend_config
from temporal_dsql_core.models import MetricAggregate
from temporal_dsql_profiles.models import BehaviourProfile, ConfigSnapshot, TelemetrySummary

COMPILER = ConfigCompiler(sdk_adapters=[], platform_adapters=[])


def _profile(rate: float, *, occ: float, pool_in_use: float) -> BehaviourProfile:
    # Deployed: mid-scale with 2048 shards and a pool of 60 (both differ from the preset's own values).
    deployed = COMPILER.compile("mid-scale", overrides={"history.shards": 2048, "dsql.pool_size": 60,
                                                        "dsql.max_idle_conns": 60}).profile
    telemetry = TelemetrySummary(step_seconds=60)
    telemetry.set("throughput.state_transitions_per_sec",
                  MetricAggregate(min=rate, max=rate, mean=rate, p50=rate, p95=rate, p99=rate))
    telemetry.set("errors.occ_conflicts_per_sec", MetricAggregate(min=occ, max=occ, mean=occ, p50=occ, p95=occ, p99=occ))
    telemetry.set("dsql_pool.pool_in_use_count",
                  MetricAggregate(min=pool_in_use, max=pool_in_use, mean=pool_in_use, p50=pool_in_use, p95=pool_in_use,
                                  p99=pool_in_use))
    start = Instant.from_utc(2026, 11, 20, 10)
    return BehaviourProfile(id=str(uuid.uuid4()), name="busy", cluster_id="rec-shards", namespace="default",
                            time_window_start=start, time_window_end=start + TimeDelta(hours=1),
                            config_snapshot=ConfigSnapshot(config_profile=deployed), telemetry=telemetry,
                            created_at=Instant.now())


def test_a_preset_move_keeps_the_deployed_shards_and_says_the_change_is_refused() -> None:
    rec = recommend_config(_profile(2000, occ=500, pool_in_use=5000), compiler=COMPILER)
    assert rec.recommended_preset == "high-throughput"
    (refused,) = rec.refused
    assert (refused.key, refused.deployed) == ("history.shards", 2048)
    assert "new cluster" in refused.way_out and "history.shards=2048" in refused.way_out
    # The proposal compiles with the deployed count pinned; no override ever changes it.
    assert rec.overrides["history.shards"] == 2048
    assert all(c.key != "history.shards" for c in rec.changes)
    assert "REFUSED" in rec.summary and "keep history.shards=2048" in rec.summary
    # "was" is the deployed value (60), not the target preset's pool size.
    pool = next(c for c in rec.changes if c.key == "dsql.pool_size")
    assert pool.current == 60 and "(was 60)" in rec.summary


def test_a_shard_proposal_in_the_same_preset_is_refused_not_proposed() -> None:
    rec = recommend_config(_profile(300, occ=500, pool_in_use=10), compiler=COMPILER)
    assert rec.recommended_preset == "mid-scale"
    assert [r.key for r in rec.refused] == ["history.shards"]
    assert rec.refused[0].deployed == 2048 and rec.refused[0].proposed != 2048
    assert "history.shards" not in {c.key for c in rec.changes}
    assert rec.overrides.get("history.shards", 2048) == 2048
