"""Pulumi components for Temporal on ECS with Aurora DSQL persistence."""
