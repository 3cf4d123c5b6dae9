"""Errors of the local stack."""

from __future__ import annotations

from temporal_dsql_core.errors import InputError

__all__ = ["DevStackError"]


class DevStackError(InputError):
    """The local stack could not do what was asked; says what, and how to fix it."""
