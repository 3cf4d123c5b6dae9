"""The copilot's Bedrock knowledge base: S3 source bucket, S3 Vectors store, IAM role, data source.

`copilot kb sync` (temporal_dsql_copilot.knowledge.sync) uploads docs/knowledge/ under `source_prefix` in the
source bucket and starts an ingestion job; Bedrock embeds the documents with `embedding_model`
into an S3 Vectors index and the copilot queries it with bedrock-agent-runtime Retrieve.
`retrieval_statements` / `sync_statements` give the IAM a copilot task role (or a developer)
needs for each, on exact ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from pulumi_temporal_dsql.errors import ComponentInputError
from pulumi_temporal_dsql.iam import assume_role_policy, policy_document, statement
from pulumi_temporal_dsql.storage import guard_private_bucket

__all__ = ["EMBEDDING_DIMENSIONS", "KnowledgeBase", "KnowledgeBaseArgs"]

# Embedding models Bedrock knowledge bases accept here, with their output dimension (the S3
# Vectors index must match it).
EMBEDDING_DIMENSIONS: Mapping[str, int] = {
    "amazon.titan-embed-text-v2:0": 1024,
    "amazon.titan-embed-text-v1": 1536,
    "cohere.embed-english-v3": 1024,
    "cohere.embed-multilingual-v3": 1024,
}


@dataclass(kw_only=True)
class KnowledgeBaseArgs:
    embedding_model: str = "amazon.titan-embed-text-v2:0"
    """Bedrock foundation model that embeds the documents (a key of EMBEDDING_DIMENSIONS)."""
    source_prefix: str = "knowledge/"
    """Key prefix of the documents in the source bucket (what `copilot kb sync` writes)."""
    force_destroy: bool = False
    """Allow destroying non-empty buckets (ephemeral dev stacks)."""
    description: str = "Temporal DSQL SRE copilot: failure modes, remediations, tuning, dashboards."
    tags: Mapping[str, str] = field(default_factory=dict)


class KnowledgeBase(pulumi.ComponentResource):
    source_bucket: aws.s3.Bucket
    vector_bucket: aws.s3.VectorsVectorBucket
    vector_index: aws.s3.VectorsIndex
    role: aws.iam.Role
    knowledge_base: aws.bedrock.AgentKnowledgeBase
    data_source: aws.bedrock.AgentDataSource
    knowledge_base_id: pulumi.Output[str]
    knowledge_base_arn: pulumi.Output[str]
    data_source_id: pulumi.Output[str]
    source_bucket_name: pulumi.Output[str]
    source_bucket_arn: pulumi.Output[str]

    def __init__(self, name: str, args: KnowledgeBaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("temporal-dsql:knowledge:KnowledgeBase", name, None, opts)
        if args.embedding_model not in EMBEDDING_DIMENSIONS:
            raise ComponentInputError(f"unknown embedding model {args.embedding_model!r}", field="embedding_model",
                                      allowed=sorted(EMBEDDING_DIMENSIONS),
                                      suggestion="Use amazon.titan-embed-text-v2:0 unless you need another.")
        prefix = args.source_prefix.strip("/")
        if not prefix:
            raise ComponentInputError("source_prefix is empty", field="source_prefix",
                                      suggestion="Use a prefix such as knowledge/ so other objects are not ingested.")
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)

        # --- source documents -------------------------------------------------------------------
        self.source_bucket = aws.s3.Bucket(f"{name}-source", force_destroy=args.force_destroy, tags=tags, opts=child)
        guards = guard_private_bucket(f"{name}-source", self.source_bucket, sse_algorithm="AES256")
        self.public_access_block, self.encryption, self.bucket_policy = (
            guards.public_access_block, guards.encryption, guards.tls_only)

        # --- vector store (S3 Vectors) ----------------------------------------------------------
        self.vector_bucket = aws.s3.VectorsVectorBucket(
            f"{name}-vectors", vector_bucket_name=f"{name}-vectors", force_destroy=args.force_destroy, tags=tags,
            opts=child)
        self.vector_index = aws.s3.VectorsIndex(
            f"{name}-index", vector_bucket_name=self.vector_bucket.vector_bucket_name, index_name=f"{name}-index",
            data_type="float32", dimension=EMBEDDING_DIMENSIONS[args.embedding_model], distance_metric="cosine",
            # Bedrock stores the chunk text and its metadata with each vector; they must not be filterable.
            metadata_configuration=aws.s3.VectorsIndexMetadataConfigurationArgs(
                non_filterable_metadata_keys=["AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"]),
            tags=tags, opts=pulumi.ResourceOptions(parent=self.vector_bucket))

        # --- the role Bedrock assumes -----------------------------------------------------------
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        model_arn = region.apply(lambda r: f"arn:aws:bedrock:{r}::foundation-model/{args.embedding_model}")
        self.role = aws.iam.Role(
            f"{name}-role", assume_role_policy=identity.account_id.apply(
                lambda account: assume_role_policy("bedrock.amazonaws.com", source_account=account)),
            tags=tags, opts=child)
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy", role=self.role.id,
            policy=pulumi.Output.all(self.source_bucket.arn, self.vector_index.index_arn, model_arn).apply(
                lambda v: _bedrock_role_policy(v[0], v[1], v[2], prefix)),
            opts=pulumi.ResourceOptions(parent=self.role))

        # --- knowledge base and its S3 data source ----------------------------------------------
        self.knowledge_base = aws.bedrock.AgentKnowledgeBase(
            f"{name}-kb", name=name, description=args.description, role_arn=self.role.arn,
            knowledge_base_configuration=aws.bedrock.AgentKnowledgeBaseKnowledgeBaseConfigurationArgs(
                type="VECTOR",
                vector_knowledge_base_configuration=aws.bedrock.AgentKnowledgeBaseKnowledgeBaseConfigurationVectorKnowledgeBaseConfigurationArgs(
                    embedding_model_arn=model_arn)),
            storage_configuration=aws.bedrock.AgentKnowledgeBaseStorageConfigurationArgs(
                type="S3_VECTORS",
                s3_vectors_configuration=aws.bedrock.AgentKnowledgeBaseStorageConfigurationS3VectorsConfigurationArgs(
                    index_arn=self.vector_index.index_arn)),
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]))
        self.data_source = aws.bedrock.AgentDataSource(
            f"{name}-source-docs", name=f"{name}-docs", knowledge_base_id=self.knowledge_base.id,
            data_deletion_policy="DELETE",
            data_source_configuration=aws.bedrock.AgentDataSourceDataSourceConfigurationArgs(
                type="S3", s3_configuration=aws.bedrock.AgentDataSourceDataSourceConfigurationS3ConfigurationArgs(
                    bucket_arn=self.source_bucket.arn, inclusion_prefixes=[prefix + "/"])),
            opts=pulumi.ResourceOptions(parent=self.knowledge_base))

        self.knowledge_base_id = self.knowledge_base.id
        self.knowledge_base_arn = self.knowledge_base.arn
        self.data_source_id = self.data_source.data_source_id
        self.source_bucket_name = self.source_bucket.bucket
        self.source_bucket_arn = self.source_bucket.arn
        self.source_prefix = prefix + "/"
        self.register_outputs({
            "knowledge_base_id": self.knowledge_base_id, "data_source_id": self.data_source_id,
            "source_bucket": self.source_bucket_name, "role_arn": self.role.arn,
        })

    def retrieval_statements(self) -> pulumi.Output[list[dict[str, Any]]]:
        """What the copilot worker needs to query the knowledge base."""
        return self.knowledge_base_arn.apply(lambda arn: [statement(["bedrock:Retrieve"], [arn], "KnowledgeBaseRetrieve")])

    def sync_statements(self) -> pulumi.Output[list[dict[str, Any]]]:
        """What `copilot kb sync` needs: mirror the prefix and start an ingestion job."""
        prefix = self.source_prefix
        return pulumi.Output.all(self.source_bucket_arn, self.knowledge_base_arn).apply(lambda v: [
            statement(["s3:ListBucket"], [v[0]], "KnowledgeSourceList"),
            statement(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [f"{v[0]}/{prefix}*"], "KnowledgeSourceWrite"),
            statement(["bedrock:GetIngestionJob", "bedrock:StartIngestionJob"], [v[1]], "KnowledgeIngestion"),
        ])


def _bedrock_role_policy(bucket_arn: str, index_arn: str, model_arn: str, prefix: str) -> str:
    return policy_document(
        statement(["s3:ListBucket"], [bucket_arn], "ReadSourceBucket"),
        statement(["s3:GetObject"], [f"{bucket_arn}/{prefix}/*"], "ReadSourceDocuments"),
        statement(["bedrock:InvokeModel"], [model_arn], "EmbedDocuments"),
        statement(["s3vectors:DeleteVectors", "s3vectors:GetIndex", "s3vectors:GetVectors", "s3vectors:PutVectors",
                   "s3vectors:QueryVectors"], [index_arn], "WriteAndQueryVectors"),
    )
