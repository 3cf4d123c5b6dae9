"""stacks/dev (the ephemeral dev stack) and the KnowledgeBase component under Pulumi mocks."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from pulumi_temporal_dsql.automation import dev_stack_module, inline_program
from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import wildcard_resources
from pulumi_temporal_dsql.knowledge_base import KnowledgeBase, KnowledgeBaseArgs
from pulumi_temporal_dsql.preview.mocks import ACCOUNT_ID, RecordedResource, RecordingMocks
from pulumi_temporal_dsql.preview.plan import run_under_mocks
from temporal_dsql_copilot.settings import CopilotSettings
from temporal_dsql_devstack.infra import DEV_ENV_KEYS, env_values


class DevStackMocks(RecordingMocks):
    """The shared recording mocks plus the computed outputs of the knowledge-base resources."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        region = self.region
        if args.typ == "aws:s3/vectorsVectorBucket:VectorsVectorBucket":
            name = args.inputs.get("vectorBucketName")
            state["vectorBucketArn"] = f"arn:aws:s3vectors:{region}:{ACCOUNT_ID}:bucket/{name}"
        elif args.typ == "aws:s3/vectorsIndex:VectorsIndex":
            bucket, index = args.inputs.get("vectorBucketName"), args.inputs.get("indexName")
            state["indexArn"] = f"arn:aws:s3vectors:{region}:{ACCOUNT_ID}:bucket/{bucket}/index/{index}"
        elif args.typ == "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase":
            resource_id = "KB" + resource_id.upper().replace("-", "")[-8:]
            state["arn"] = f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:knowledge-base/{resource_id}"
        elif args.typ == "aws:bedrock/agentDataSource:AgentDataSource":
            state["dataSourceId"] = "DS" + resource_id.upper().replace("-", "")[-8:]
        return resource_id, state


@pytest.fixture(scope="module")
def dev_stack() -> tuple[list[RecordedResource], dict[str, Any]]:
    return run_under_mocks(inline_program(prefix="copilot-dev", owner="alice"), config={"aws:region": "eu-west-1"},
                           stack="dev", project="temporal-dsql-dev", mocks=DevStackMocks(region="eu-west-1"))


def of_type(resources: list[RecordedResource], typ: str) -> list[RecordedResource]:
    return [r for r in resources if r.typ == typ]


def resource_class(typ: str) -> Any:
    _, module, kind = typ.split(":", 2)
    module_name = module.split("/")[0]
    package = getattr(aws, module_name, None) or getattr(aws, module_name + "_")
    return getattr(package, kind)


def test_two_dsql_clusters_without_deletion_protection(dev_stack: tuple[list[RecordedResource], dict]) -> None:
    resources, outputs = dev_stack
    clusters = of_type(resources, "aws:dsql/cluster:Cluster")
    assert sorted(c.name for c in clusters) == ["copilot-dev-copilot-cluster", "copilot-dev-monitored-cluster"]
    assert all(c.inputs["deletionProtectionEnabled"] is False for c in clusters)
    assert outputs["monitored_dsql_endpoint"].endswith(".dsql.eu-west-1.on.aws")
    assert outputs["copilot_dsql_endpoint"].endswith(".dsql.eu-west-1.on.aws")
    assert outputs["monitored_dsql_endpoint"] != outputs["copilot_dsql_endpoint"]


def test_every_taggable_resource_is_tagged_ephemeral(dev_stack: tuple[list[RecordedResource], dict]) -> None:
    resources, _ = dev_stack
    taggable = [r for r in resources if r.custom
                and "tags" in inspect.signature(resource_class(r.typ)._internal_init).parameters]
    assert len(taggable) >= 10
    untagged = [r.name for r in taggable if not {("Lifecycle", "ephemeral"), ("ManagedBy", "pulumi")}
                <= set((r.inputs.get("tags") or {}).items())]
    assert untagged == []
    assert all((r.inputs.get("tags") or {}).get("Owner") == "alice" for r in taggable)


def test_knowledge_base_is_wired_to_its_bucket_index_and_role(dev_stack: tuple[list[RecordedResource], dict]) -> None:
    resources, outputs = dev_stack
    (kb,) = of_type(resources, "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase")
    (data_source,) = of_type(resources, "aws:bedrock/agentDataSource:AgentDataSource")
    (index,) = of_type(resources, "aws:s3/vectorsIndex:VectorsIndex")
    vector_config = kb.inputs["knowledgeBaseConfiguration"]["vectorKnowledgeBaseConfiguration"]
    assert vector_config["embeddingModelArn"] == "arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0"
    assert index.inputs["dimension"] == 1024 and index.inputs["distanceMetric"] == "cosine"
    storage = kb.inputs["storageConfiguration"]
    assert storage["type"] == "S3_VECTORS"
    assert storage["s3VectorsConfiguration"]["indexArn"].endswith("/index/copilot-dev-kb-index")
    s3_config = data_source.inputs["dataSourceConfiguration"]["s3Configuration"]
    assert s3_config["bucketArn"] == f"arn:aws:s3:::{outputs['kb_source_bucket']}"
    assert s3_config["inclusionPrefixes"] == ["knowledge/"]
    assert data_source.inputs["knowledgeBaseId"] == outputs["kb_id"]
    assert outputs["kb_data_source_id"].startswith("DS")


def test_iam_is_exact(dev_stack: tuple[list[RecordedResource], dict]) -> None:
    resources, outputs = dev_stack
    (role,) = [r for r in of_type(resources, "aws:iam/role:Role") if r.name == "copilot-dev-kb-role"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "bedrock.amazonaws.com"}
    (role_policy,) = of_type(resources, "aws:iam/rolePolicy:RolePolicy")
    (developer,) = of_type(resources, "aws:iam/policy:Policy")
    for document in (role_policy.inputs["policy"], developer.inputs["policy"]):
        assert wildcard_resources(document) == []
    statements = {s["Sid"]: s for s in json.loads(developer.inputs["policy"])["Statement"]}
    assert statements["ConnectToDevClusters"]["Action"] == ["dsql:DbConnect", "dsql:DbConnectAdmin"]
    assert sorted(statements["ConnectToDevClusters"]["Resource"]) == sorted(
        [outputs["monitored_dsql_arn"], outputs["copilot_dsql_arn"]])
    assert statements["KnowledgeBaseRetrieve"]["Action"] == ["bedrock:Retrieve"]
    assert statements["KnowledgeSourceWrite"]["Resource"] == [
        f"arn:aws:s3:::{outputs['kb_source_bucket']}/knowledge/*"]


def test_outputs_fill_every_env_key_and_copilot_settings_fields(dev_stack: tuple[list[RecordedResource], dict]) -> None:
    _, outputs = dev_stack
    module = dev_stack_module()
    assert sorted(outputs) == sorted(module.OUTPUT_NAMES)
    env = env_values({k: str(v) for k, v in outputs.items()})
    assert env["COPILOT_KB_ID"] == outputs["kb_id"] and env["TEMPORAL_SQL_HOST"] == outputs["monitored_dsql_endpoint"]
    fields = set(CopilotSettings.model_fields)
    copilot_vars = [v for variables in DEV_ENV_KEYS.values() for v in variables if v.startswith("COPILOT_")]
    assert copilot_vars and all(v.removeprefix("COPILOT_").lower() in fields for v in copilot_vars)
    settings = CopilotSettings(**{v.removeprefix("COPILOT_").lower(): env[v] for v in copilot_vars})
    assert settings.kb_bucket == outputs["kb_source_bucket"]


def test_prefix_is_validated() -> None:
    module = dev_stack_module()
    with pytest.raises(ComponentInputError) as caught:
        module.build_dev_stack(module.DevStackArgs(prefix="Copilot_Dev"))
    assert caught.value.field == "prefix"


def test_knowledge_base_rejects_unknown_embedding_model() -> None:
    def program() -> None:
        KnowledgeBase("kb", KnowledgeBaseArgs(embedding_model="bert-base"))

    with pytest.raises(Exception) as caught:
        run_under_mocks(program, mocks=DevStackMocks())
    error = caught.value
    while not isinstance(error, ComponentInputError) and error.__cause__ is not None:
        error = error.__cause__
    assert isinstance(error, ComponentInputError)
    assert error.field == "embedding_model" and "amazon.titan-embed-text-v2:0" in (error.allowed or [])


def test_knowledge_base_component_alone_exports_its_ids() -> None:
    def program() -> None:
        kb = KnowledgeBase("copilot-kb", KnowledgeBaseArgs(embedding_model="amazon.titan-embed-text-v1",
                                                           source_prefix="docs/kb"))
        pulumi.export("kb_id", kb.knowledge_base_id)
        pulumi.export("data_source_id", kb.data_source_id)

    resources, outputs = run_under_mocks(program, mocks=DevStackMocks())
    (index,) = of_type(resources, "aws:s3/vectorsIndex:VectorsIndex")
    assert index.inputs["dimension"] == 1536
    (data_source,) = of_type(resources, "aws:bedrock/agentDataSource:AgentDataSource")
    assert data_source.inputs["dataSourceConfiguration"]["s3Configuration"]["inclusionPrefixes"] == ["docs/kb/"]
    assert outputs["kb_id"].startswith("KB") and outputs["data_source_id"].startswith("DS")
    component = [r for r in resources if r.typ == "temporal-dsql:knowledge:KnowledgeBase"]
    assert len(component) == 1
    assert all(r.parent for r in resources if r.custom)  # every child is parented (to the component tree)
