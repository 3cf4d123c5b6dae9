"""Every error the config compiler raises on purpose.

All of them are ``temporal_dsql_core.errors.InputError`` subclasses (field, allowed values, suggestion),
so the CLI, the profile API and the Pulumi components can tell the user how to fix the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from temporal_dsql_core.errors import InputError, close_matches

if TYPE_CHECKING:
    from temporal_dsql_core.profile import ConfigProfile

__all__ = [
    "AdapterError",
    "ConstraintViolationError",
    "DsqlConfigError",
    "GuardRailError",
    "GuardRailResult",
    "InputErrors",
    "InputFileError",
    "UnknownModifierError",
    "UnknownParameterError",
    "UnknownPresetError",
    "close_matches",
]


def value_range(min_value: float | None, max_value: float | None) -> str:
    """A parameter's bounds as one allowed value: "1 to 500", "at least 1", "at most 500"."""
    if min_value is not None and max_value is not None:
        return f"{min_value:g} to {max_value:g}"
    if min_value is not None:
        return f"at least {min_value:g}"
    return f"at most {max_value:g}" if max_value is not None else "any value"


def _did_you_mean(name: str, candidates: Sequence[str]) -> str | None:
    hits = close_matches(name, candidates)
    return f"Did you mean {' or '.join(repr(h) for h in hits)}?" if hits else None


class DsqlConfigError(InputError):
    """Base class of the compiler's errors."""


class UnknownPresetError(DsqlConfigError):
    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        super().__init__(
            f"Unknown scale preset {name!r}.",
            field="preset",
            allowed=list(available),
            suggestion=_did_you_mean(name, available) or "Run `temporal-dsql-config list-presets`.",
        )


class UnknownModifierError(DsqlConfigError):
    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        super().__init__(
            f"Unknown workload modifier {name!r}.",
            field="modifier",
            allowed=list(available),
            suggestion=_did_you_mean(name, available) or "Leave the modifier out for the plain preset.",
        )


class UnknownParameterError(DsqlConfigError):
    def __init__(self, name: str, known: Sequence[str], *, note: str | None = None) -> None:
        self.name = name
        self.suggestions = close_matches(name, known)
        hint = (
            f"Did you mean {' or '.join(repr(h) for h in self.suggestions)}?"
            if self.suggestions
            else "Run `temporal-dsql-config describe-preset starter` for every parameter."
        )
        super().__init__(
            f"Unknown parameter {name!r}." + (f" {note}" if note else ""),
            field=name,
            # Every name the compiler reads (registry keys, env vars, dynamic-config keys, legacy
            # names): the problem document carries them all, the text names where to look.
            allowed=list(known),
            suggestion=hint,
        )

    def render(self) -> str:
        # ~200 names, alphabetically: twenty of them would bury the close matches in the text.
        allowed = (f" Allowed: one of {len(self.allowed)} names (the parameters `describe-preset` lists, their env vars, "
                   "dynamic-config keys and worker options)." if self.allowed else "")
        return f"{self.message}{allowed} {self.suggestion}"


class ConstraintViolationError(DsqlConfigError):
    def __init__(
        self,
        key: str,
        value: object,
        *,
        reason: str,
        min_value: float | None = None,
        max_value: float | None = None,
        allowed: Sequence[object] | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self.min_value = min_value
        self.max_value = max_value
        bounds = []
        if min_value is not None:
            bounds.append(f"min {min_value:g}")
        if max_value is not None:
            bounds.append(f"max {max_value:g}")
        if bounds:
            suggestion = f"Use a value within {', '.join(bounds)}."
            if allowed is None:
                allowed = [value_range(min_value, max_value)]
        super().__init__(
            f"Value {value!r} for {key!r} is invalid: {reason}.",
            field=key,
            allowed=allowed,
            suggestion=suggestion,
        )


class GuardRailResult(BaseModel):
    """One guard rail's finding; errors halt the compile (``GuardRailError``), warnings are reported."""

    model_config = ConfigDict(frozen=True)

    rule_name: str
    severity: Literal["error", "warning"]
    message: str
    parameter_keys: list[str]


class GuardRailError(DsqlConfigError):
    """One or more guard rails failed; ``results`` holds every error and warning."""

    def __init__(self, results: Sequence[GuardRailResult], profile: ConfigProfile | None = None) -> None:
        self.results = list(results)
        self.profile = profile
        errors = [r for r in self.results if r.severity == "error"]
        lines = "; ".join(f"[{r.rule_name}] {r.message}" for r in errors)
        super().__init__(
            f"{len(errors)} guard rail error(s): {lines}",
            field=", ".join(sorted({k for r in errors for k in r.parameter_keys})) or None,
            suggestion="Change the overrides named above; every error is listed.",
        )

    @property
    def errors(self) -> list[GuardRailResult]:
        return [r for r in self.results if r.severity == "error"]


class InputFileError(DsqlConfigError):
    """A file the user named cannot be read or written as asked (missing, a directory, no
    permission, not UTF-8, a byte-order mark, a non-empty --out that is not an earlier output)."""


class AdapterError(DsqlConfigError):
    def __init__(self, adapter: str, cause: BaseException | str) -> None:
        self.adapter = adapter
        self.cause = cause
        super().__init__(
            f"Adapter {adapter!r} failed to render: {cause}",
            field="adapter",
            suggestion="Fix or uninstall the adapter package.",
        )


class InputErrors(DsqlConfigError):
    """Several bad inputs found in one run (overrides, env values, profile-file fields): every one
    is reported at once, each with its own field, allowed values and suggestion, like the guard
    rails do, so a user fixes them all in one edit instead of one per run."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        self.errors = list(errors)
        fields = [e.field for e in self.errors if e.field]
        super().__init__(
            f"{len(self.errors)} input error(s):\n" + "\n".join(f"  - {e.render()}" for e in self.errors),
            field=", ".join(dict.fromkeys(fields)) or None,
            suggestion="Fix every input listed above; each names its field, allowed values and a suggestion.",
        )

    def as_problem(self) -> dict[str, object]:
        problem = super().as_problem()
        problem["errors"] = [e.as_problem() for e in self.errors]
        return problem

    @staticmethod
    def raise_all(errors: Iterable[InputError]) -> None:
        """Nothing when there is no error, the error itself when there is one, else all of them."""
        found = list(errors)
        if len(found) == 1:
            raise found[0]
        if found:
            raise InputErrors(found)
