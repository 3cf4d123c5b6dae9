"""Pure helpers under the components: subnet layout, settings env, IAM documents."""

from __future__ import annotations

import ipaddress
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import policy_document, statement
from pulumi_temporal_dsql.network import subnet_layout
from pulumi_temporal_dsql.settings_env import settings_env
from temporal_dsql_copilot.settings import CopilotSettings


# Property: the subnet layout is disjoint, inside the VPC and stable for a given CIDR
@given(st.integers(8, 18), st.integers(0, 255), st.integers(1, 3))
def test_property_subnet_layout_is_disjoint_and_stable(prefix: int, octet: int, az_count: int) -> None:
    network = ipaddress.ip_network(f"10.{octet}.0.0/{prefix}", strict=False)
    layout = subnet_layout(str(network), az_count)
    nets = [ipaddress.ip_network(s.cidr) for s in layout]
    assert len(layout) == 2 * az_count
    assert all(n.subnet_of(network) for n in nets)  # type: ignore[arg-type]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert subnet_layout(str(network), az_count) == layout


def test_default_layout_is_pinned() -> None:
    # Changing this layout re-creates every subnet of existing stacks (the awsx upgrade complaint).
    assert [(s.kind, s.az_index, s.cidr) for s in subnet_layout("10.42.0.0/16", 2)] == [
        ("private", 0, "10.42.0.0/20"), ("private", 1, "10.42.16.0/20"),
        ("public", 0, "10.42.254.0/24"), ("public", 1, "10.42.255.0/24"),
    ]


def test_subnet_layout_rejects_a_small_vpc() -> None:
    with pytest.raises(ValueError, match="too small"):
        subnet_layout("10.0.0.0/24", 2)


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.:", min_size=1, max_size=20)


# Property: the env built from CopilotSettings field names reads back as the same settings
@given(
    address=names, namespace=names, sigv4=st.booleans(), retention=st.integers(7, 400),
    interval=st.floats(1, 600, allow_nan=False),
)
@settings(max_examples=50, deadline=None)
def test_property_settings_env_round_trips(
    address: str, namespace: str, sigv4: bool, retention: int, interval: float
) -> None:
    values = {
        "temporal_address": address, "temporal_namespace": namespace, "amp_sigv4": sigv4,
        "retention_days": retention, "observe_interval_seconds": interval,
    }
    env = settings_env(CopilotSettings, values)
    assert set(env) == {f"COPILOT_{k.upper()}" for k in values}
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        read = CopilotSettings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert {k: getattr(read, k) for k in values} == values


def test_settings_env_rejects_unknown_fields() -> None:
    with pytest.raises(ComponentInputError) as error:
        settings_env(CopilotSettings, {"dsql_host": "x"})
    assert error.value.field == "dsql_host" and "dsql_endpoint" in error.value.allowed  # type: ignore[operator]


def test_policy_statements_refuse_empty_resources() -> None:
    with pytest.raises(ValueError, match="empty resource"):
        statement(["s3:GetObject"], [""])
    doc = policy_document(statement(["b:Y", "a:X", "a:X"], ["arn:2", "arn:1"], "S"))
    assert '"Action": ["a:X", "b:Y"]' in doc and '"Resource": ["arn:1", "arn:2"]' in doc
