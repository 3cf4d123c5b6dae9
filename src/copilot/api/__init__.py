"""The one FastAPI app (profiles now, status later): ``from copilot.api.app import create_app``."""
