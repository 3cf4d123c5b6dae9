"""The temporal-dsql component provider (see pulumi_temporal_dsql.provider)."""

from pulumi_temporal_dsql.provider import main

if __name__ == "__main__":
    main()
