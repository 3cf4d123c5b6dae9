"""Container definitions are normalised the way AWS stores them (no diff on a second `up`)."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_temporal_dsql.containers import canonical_json, environment, normalise, normalise_container

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
env_entries = st.dictionaries(st.from_regex(r"[A-Z][A-Z_]{0,10}", fullmatch=True), st.text(max_size=8), max_size=6)
ports = st.lists(
    st.fixed_dictionaries(
        {"containerPort": st.integers(1, 65535)},
        optional={"protocol": st.sampled_from(["tcp", "udp"]), "name": names, "appProtocol": st.sampled_from(["grpc", "http"])},
    ),
    max_size=3,
)
container = st.fixed_dictionaries(
    {"name": names, "image": names},
    optional={
        "essential": st.booleans(),
        "cpu": st.integers(0, 4096),
        "environment": env_entries.map(environment),
        "portMappings": ports,
        "mountPoints": st.lists(st.fixed_dictionaries({"sourceVolume": names, "containerPath": names.map(lambda n: "/" + n)}), max_size=2),
        "dependsOn": st.lists(st.fixed_dictionaries({"containerName": names, "condition": st.sampled_from(["START", "SUCCESS", "HEALTHY"])}), max_size=2),
        "healthCheck": st.fixed_dictionaries({"command": st.just(["CMD-SHELL", "true"])}, optional={"interval": st.integers(5, 300), "retries": st.integers(1, 10)}),
        "logConfiguration": st.fixed_dictionaries({"logDriver": st.just("awslogs")}, optional={"options": st.dictionaries(names, names, max_size=2)}),
        "memoryReservation": st.one_of(st.none(), st.integers(4, 4096)),
    },
)


# Property: normalise is idempotent — normalise(normalise(x)) == normalise(x)
@given(st.lists(container, min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_property_normalise_is_idempotent(containers: list[dict[str, Any]]) -> None:
    once = normalise(containers)
    assert normalise(once) == once
    assert canonical_json(once) == canonical_json(containers)


# Property: the canonical JSON does not depend on the order of containers, env entries or ports
@given(st.lists(container, min_size=1, max_size=4, unique_by=lambda c: c["name"]), st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_property_canonical_json_ignores_order(containers: list[dict[str, Any]], rnd: random.Random) -> None:
    shuffled = [dict(c) for c in containers]
    rnd.shuffle(shuffled)
    for c in shuffled:
        for key in ("environment", "portMappings", "mountPoints", "dependsOn"):
            if key in c:
                c[key] = rnd.sample(list(c[key]), len(c[key]))
    assert canonical_json(shuffled) == canonical_json(containers)


def test_ports_equal_on_the_sort_keys_still_have_one_order() -> None:
    # Found by the property above: a named and an unnamed mapping of one port kept input order.
    named = {"containerPort": 1, "hostPort": 1, "name": "a", "protocol": "tcp"}
    plain = {"containerPort": 1, "hostPort": 1, "protocol": "tcp"}
    one = canonical_json([{"name": "c", "image": "i", "portMappings": [named, plain]}])
    other = canonical_json([{"name": "c", "image": "i", "portMappings": [plain, named]}])
    assert one == other


def test_explicit_aws_defaults_are_written_out() -> None:
    c = normalise_container({"name": "t", "image": "i", "portMappings": [{"containerPort": 7233}],
                             "healthCheck": {"command": ["CMD-SHELL", "true"]}, "memoryReservation": None})
    assert c["essential"] is True and c["cpu"] == 0
    assert c["portMappings"] == [{"containerPort": 7233, "hostPort": 7233, "protocol": "tcp"}]
    for key in ("environment", "mountPoints", "volumesFrom", "systemControls"):
        assert c[key] == []
    assert c["healthCheck"] == {"command": ["CMD-SHELL", "true"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}
    assert "memoryReservation" not in c  # None values are dropped, not sent as null


def test_canonical_json_is_sorted_and_compact() -> None:
    text = canonical_json([{"name": "b", "image": "x", "environment": [{"name": "Z", "value": "1"}, {"name": "A", "value": 2}]}])
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert [e["name"] for e in json.loads(text)[0]["environment"]] == ["A", "Z"]
    assert json.loads(text)[0]["environment"][0]["value"] == "2"  # ECS stores strings
    # bridge mode keeps hostPort unset (dynamic host ports)
    bridge = json.loads(canonical_json([{"name": "b", "image": "x", "portMappings": [{"containerPort": 80}]}], network_mode="bridge"))
    assert "hostPort" not in bridge[0]["portMappings"][0]
