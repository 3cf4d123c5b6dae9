"""The copilot's status API router (served with /profiles by ``copilot.api.app.create_app``)."""

from copilot.status.router import StateStoreProvider, router

__all__ = ["StateStoreProvider", "router"]
