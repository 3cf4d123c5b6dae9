"""dsql_config."""
