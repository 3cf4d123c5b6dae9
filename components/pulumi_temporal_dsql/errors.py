"""Errors the components raise on purpose; each names the field, what is allowed and a fix."""

from __future__ import annotations

from temporal_dsql_core.errors import InputError, TemporalDsqlError

__all__ = ["ComponentInputError", "ConfigCompileError", "LambdaBundleError"]


class ComponentInputError(InputError):
    """A component argument is invalid (unknown capacity mode, missing subnets, bad auth mode...)."""


class ConfigCompileError(InputError):
    """The compiler rejected the preset, modifier or overrides; carries every compiler message."""

    def __init__(self, messages: list[str], *, field: str | None = None, allowed: list[object] | None = None,
                 suggestion: str | None = None) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(self.messages), field=field, allowed=allowed, suggestion=suggestion)


class LambdaBundleError(TemporalDsqlError):
    """The Lambda bundle could not be built (uv missing, export or install failed)."""
