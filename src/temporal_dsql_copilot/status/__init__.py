"""The copilot's status API: ``temporal_dsql_copilot.status.router`` (/status*, /actions) and
``temporal_dsql_copilot.status.loop_router`` (/copilot/*), served with /profiles by ``temporal_dsql_copilot.api.app.create_app``.

This package imports neither router eagerly: the app mounts each on the first request under its
prefix (a Lambda answering only /profiles never pays for them). The routers are reached through
their modules; a package attribute named ``router`` would be shadowed by the submodule anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from temporal_dsql_copilot.status.router import StateStoreProvider

__all__ = ["StateStoreProvider"]


def __getattr__(name: str) -> Any:
    if name == "StateStoreProvider":
        from temporal_dsql_copilot.status.router import StateStoreProvider

        return StateStoreProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
