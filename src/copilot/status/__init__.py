"""The copilot's status API router (served with /profiles by ``copilot.api.app.create_app``)."""

from copilot.status.loop_router import router as loop_router
from copilot.status.router import StateStoreProvider, router

__all__ = ["StateStoreProvider", "loop_router", "router"]
