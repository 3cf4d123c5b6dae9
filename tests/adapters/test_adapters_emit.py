"""The adapters' fast emitters read back exactly as written (YAML via PyYAML, JSON via json)."""

from __future__ import annotations

import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_config.adapters._emit import to_json, to_yaml

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.sampled_from(["true", "No", "null", "~", "8080:8080", "0.5", "10", "", "-x", "a: b", "#c", "1e3", "y"]),
)
keys = st.one_of(st.text(min_size=1, max_size=12), st.sampled_from(["on", "TEMPORAL_SQL_HOST", "a.b-c", "x y"]))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)
documents = st.dictionaries(keys, trees, min_size=1, max_size=5)


# Property: YAML emitter round trip (what the Compose adapter writes is what PyYAML reads)
@settings(max_examples=300, deadline=None)
@given(document=documents)
def test_yaml_emitter_round_trip(document: dict[str, object]) -> None:
    assert yaml.safe_load(to_yaml(document)) == document


# Property: JSON emitter round trip (what the ECS adapter writes is what json reads)
@settings(max_examples=300, deadline=None)
@given(document=documents)
def test_json_emitter_round_trip(document: dict[str, object]) -> None:
    assert json.loads(to_json(document)) == document


def test_json_emitter_matches_json_dumps_without_flat_objects() -> None:
    deep = {"k1": 1, "k2": "two", "k3": None, "k4": True, "k5": [0.5, []], "k6": {}}
    document = {"b": [1, [2, {"c": [3, 4, 5, 6, 7], "d": deep}]], "a": "x", "é": "ü"}
    assert to_json(document) == json.dumps(document, indent=2, sort_keys=True) + "\n"


def test_equal_values_of_different_types_are_written_apart() -> None:
    # 1 == 1.0 == True in Python (and as cache keys); each must keep its own spelling.
    for value in (1, 1.0, True, 1, True):
        assert json.loads(to_json({"o": {"v": value}}))["o"]["v"].__class__ is value.__class__
        assert yaml.safe_load(to_yaml({"v": value}))["v"].__class__ is value.__class__
