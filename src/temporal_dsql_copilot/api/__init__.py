"""The one FastAPI app (profiles now, status later): ``from temporal_dsql_copilot.api.app import create_app``."""
