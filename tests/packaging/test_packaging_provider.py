"""Any Pulumi language: the component provider's schema, generated offline by Pulumi's own SDK
(its component analyzer and schema generator, what `pulumi package add` serves), against the
Python Args and the consumer outputs; and the provider's component under mocks."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case

from pulumi_temporal_dsql import choices
from pulumi_temporal_dsql.outputs import OPTIONAL_OUTPUTS, OUTPUT_NAMES, output_attribute
from pulumi_temporal_dsql.preset import MidScale, MidScaleArgs, TemporalDsqlPresetArgs
from pulumi_temporal_dsql.preview.plan import run_under_mocks
from pulumi_temporal_dsql.provider import NOT_EXPRESSIBLE, PACKAGE, TemporalDsql, preset_args

REPO = Path(__file__).resolve().parents[2]
TOKEN = f"{PACKAGE}:index:TemporalDsql"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    provider = ComponentProvider([TemporalDsql], PACKAGE, version="0.1.0")
    assert provider.schema is not None
    return typing.cast(dict[str, Any], json.loads(provider.schema))


def test_the_plugin_directory_runs_the_python_component_provider_host() -> None:
    plugin = yaml.safe_load((REPO / "provider" / "PulumiPlugin.yaml").read_text())
    assert plugin == {"runtime": "python"}
    assert "from pulumi_temporal_dsql.provider import main" in (REPO / "provider" / "__main__.py").read_text()
    assert (REPO / "provider" / "requirements.txt").read_text().split() == ["temporal-dsql"]


def test_schema_inputs_are_the_python_args(schema: dict[str, Any]) -> None:
    resource = schema["resources"][TOKEN]
    fields = [f.name for f in dataclasses.fields(TemporalDsqlPresetArgs)]
    # Every Args field is in the schema, under the SDK's own camelCase; nothing else is.
    assert set(resource["inputProperties"]) == {camel_case(name) for name in fields}
    assert resource["requiredInputs"] == ["preset"]
    # The one field the schema cannot state exactly is there, as a map of Any.
    assert set(NOT_EXPRESSIBLE) == {"overrides"}
    overrides = resource["inputProperties"]["overrides"]
    assert overrides["type"] == "object" and overrides["additionalProperties"]["$ref"] == "pulumi.json#/Any"
    # Each input carries the field's documentation.
    assert all(prop.get("description") for prop in resource["inputProperties"].values())


@pytest.mark.parametrize(
    ("field", "literal"),
    [("preset", choices.PresetName), ("modifier", choices.ModifierName), ("environment", choices.Environment),
     ("capacity", choices.CapacityMode), ("profileApiAuth", choices.ProfileApiAuth)],
)
def test_choice_fields_are_schema_enums_with_the_literals_values(schema: dict[str, Any], field: str, literal: Any) -> None:
    ref = schema["resources"][TOKEN]["inputProperties"][field]["$ref"]
    enum = schema["types"][ref.removeprefix("#/types/")]
    assert enum["type"] == "string"
    assert [member["value"] for member in enum["enum"]] == list(typing.get_args(literal))


def test_schema_outputs_are_the_consumer_outputs(schema: dict[str, Any]) -> None:
    resource = schema["resources"][TOKEN]
    assert set(resource["properties"]) == {camel_case(name) for name in OUTPUT_NAMES}
    assert set(resource["required"]) == {camel_case(name) for name in OUTPUT_NAMES if name not in OPTIONAL_OUTPUTS}


def test_the_provider_component_builds_the_preset_with_the_same_outputs() -> None:
    """Under mocks, the provider's TemporalDsql (inputs as the host maps them: enums, dicts) declares
    the preset as its child and exposes the preset's outputs."""
    from pulumi_temporal_dsql.provider import Capacity, DeployEnvironment, Preset

    args = {"preset": Preset.MID_SCALE, "environment": DeployEnvironment.STAGING, "capacity": Capacity.FARGATE,
            "overrides": {"history.replicas": 4}, "profile_api_code": None, "profile_api_enabled": False}
    converted = preset_args(typing.cast(Any, {k: v for k, v in args.items() if v is not None}))
    assert dataclasses.asdict(converted) == dataclasses.asdict(
        TemporalDsqlPresetArgs(preset="mid-scale", environment="staging", capacity="fargate",
                               overrides={"history.replicas": 4}, profile_api_enabled=False)
    )
    import pulumi

    def program() -> None:
        component = TemporalDsql("t", typing.cast(Any, {k: v for k, v in args.items() if v is not None}),
                                 pulumi.ResourceOptions(additional_secret_outputs=[]))
        for key in OUTPUT_NAMES:
            pulumi.export(key, getattr(component, output_attribute(key)))

    def direct() -> None:
        component = MidScale("t", MidScaleArgs(environment="staging", overrides={"history.replicas": 4}, profile_api_enabled=False))
        for key, value in component.stack_outputs().items():
            pulumi.export(key, value)

    recorded, exported = run_under_mocks(program, config={"aws:region": "us-east-1"}, stack="plan")
    _, expected = run_under_mocks(direct, config={"aws:region": "us-east-1"}, stack="plan")
    wrapper = next(r for r in recorded if r.typ == TOKEN)
    preset = next(r for r in recorded if r.typ == "temporal-dsql:index:TemporalDsqlPreset")
    assert preset.parent == wrapper.urn
    assert set(exported) == set(OUTPUT_NAMES)
    # Same names, same children: the outputs differ only where a URN-derived fake id would.
    assert exported["history_shards"] == expected["history_shards"]
    assert exported["preset"] == expected["preset"] == "mid-scale"
