"""Resolution: preset + modifier + overrides -> every registry parameter's value, source and trace.

No guard rails and no artifacts here: ``ConfigCompiler`` (temporal_dsql_config.compiler) checks and renders
what a ``Resolver`` resolves, and the explain module reads the same resolution, so both sit above it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import TypeAdapter

from temporal_dsql_config import aws_rules
from temporal_dsql_config.errors import ConstraintViolationError, DsqlConfigError, InputErrors, value_range
from temporal_dsql_config.files import check_env_value
from temporal_dsql_config.models import CompilationTrace, construct_trusted, is_plain_value
from temporal_dsql_config.modifiers import Adjustment, ModifierSpec, get_modifier
from temporal_dsql_config.presets import (
    ORDERED_RULES,
    PARTITIONS_KEY,
    PresetSpec,
    Rule,
    RuleContext,
    get_preset,
    modifier_partitions,
)
from temporal_dsql_config.registry import ParameterRegistry, default_registry
from temporal_dsql_config.values import (
    duration_in_go_range,
    format_duration,
    parse_decimal_float,
    parse_go_bool,
    parse_go_duration,
    parse_go_int,
)
from temporal_dsql_core.errors import InputError
from temporal_dsql_core.types import (
    ParameterClassification,
    ParameterEntry,
    ParameterOverrides,
    ParameterSource,
    ParameterValue,
    ParameterValueType,
)

__all__ = ["GO_BOOL_VALUES", "OverridesInput", "Resolution", "Resolver", "coerce_value", "fmt_value"]

OverridesInput = ParameterOverrides | Mapping[str, ParameterValue] | None

_T = TypeVar("_T")
_TRACE_LIST: TypeAdapter[list[CompilationTrace]] = TypeAdapter(list[CompilationTrace])


# Go's strconv.ParseBool spellings: what the plugin accepts for a boolean env var.
GO_BOOL_VALUES = ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")
_TYPE_NAME = {
    ParameterValueType.BOOL: "a boolean",
    ParameterValueType.INT: "an integer",
    ParameterValueType.FLOAT: "a number",
    ParameterValueType.DURATION: "a Go duration",
    ParameterValueType.STR: "a string",
}
_TYPE_SUGGESTION = {
    ParameterValueType.BOOL: "Use true or false.",
    ParameterValueType.INT: "Use a whole number such as 10.",
    ParameterValueType.FLOAT: "Use a number such as 0.5.",
    ParameterValueType.DURATION: "Use a Go duration such as 45s, 11m or 1h30m.",
    ParameterValueType.STR: "Use a string.",
}


def _type_error(entry: ParameterEntry, raw: object, what: str) -> ConstraintViolationError:
    return _unparsable(entry, raw, f"expected {what}")


def _unparsable(entry: ParameterEntry, raw: object, reason: str) -> ConstraintViolationError:
    """A value that is not of the parameter's type: name the accepted spellings and an example."""
    return ConstraintViolationError(entry.key, raw, reason=reason, allowed=_allowed(entry),
                                    suggestion=_TYPE_SUGGESTION[entry.value_type])


def _allowed(entry: ParameterEntry) -> list[object]:
    """What the parameter accepts: its allowed values, Go's boolean spellings, or its type and bounds."""
    c = entry.constraints
    if c is not None and c.allowed_values is not None:
        return list(c.allowed_values)
    if entry.value_type == ParameterValueType.BOOL:
        return list(GO_BOOL_VALUES)
    what = _TYPE_NAME[entry.value_type]
    if c is not None and (c.min_value is not None or c.max_value is not None):
        return [f"{what}, {value_range(c.min_value, c.max_value)}"]
    return [what]


def coerce_value(entry: ParameterEntry, raw: object) -> ParameterValue:
    """Parse ``raw`` as the parameter's type (strings as the plugin parses them), then check constraints."""
    t = entry.value_type
    value: ParameterValue
    try:
        if t == ParameterValueType.BOOL:
            if isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str):
                value = parse_go_bool(raw)
            else:
                raise _type_error(entry, raw, "a boolean (true/false)")
        elif t == ParameterValueType.INT:
            if isinstance(raw, bool):
                raise _type_error(entry, raw, "an integer")
            if isinstance(raw, int):
                value = raw
            elif isinstance(raw, float) and raw.is_integer():
                value = int(raw)
            elif isinstance(raw, str):
                value = parse_go_int(raw)
            else:
                raise _type_error(entry, raw, "an integer")
        elif t == ParameterValueType.FLOAT:
            if isinstance(raw, bool):
                raise _type_error(entry, raw, "a number")
            if isinstance(raw, int | float):
                value = float(raw)
            elif isinstance(raw, str):
                value = parse_decimal_float(raw)
            else:
                raise _type_error(entry, raw, "a number")
            if not math.isfinite(value):
                raise _type_error(entry, raw, "a finite number")
        elif t == ParameterValueType.DURATION:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                seconds = float(raw)
            elif isinstance(raw, str) and not isinstance(raw, bool):
                seconds = parse_go_duration(raw)
            else:
                raise _type_error(entry, raw, "a Go duration such as 45s, 11m or 1h30m")
            if not math.isfinite(seconds) or not duration_in_go_range(seconds):
                # inf/nan, or past Go's time.Duration (int64 ns): Go's ParseDuration rejects it.
                raise _type_error(entry, raw, "a Go duration within ±2562047h47m16s such as 45s, 11m or 1h30m")
            value = format_duration(seconds)
        else:
            if not isinstance(raw, str):
                raise _type_error(entry, raw, "a string")
            # A line break or NUL would inject another variable into every env file written.
            InputErrors.raise_all(check_env_value(entry.key, raw))
            value = raw
    except ValueError as exc:
        if isinstance(exc, ConstraintViolationError):
            raise
        raise _unparsable(entry, raw, str(exc)) from None
    c = entry.constraints
    if c is not None:
        if c.allowed_values is not None and value not in c.allowed_values:
            raise ConstraintViolationError(entry.key, raw, reason="not an allowed value", allowed=c.allowed_values)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if c.min_value is not None and value < c.min_value:
                raise ConstraintViolationError(entry.key, raw, reason=f"below the minimum {c.min_value:g}",
                                               min_value=c.min_value, max_value=c.max_value)
            if c.max_value is not None and value > c.max_value:
                raise ConstraintViolationError(entry.key, raw, reason=f"above the maximum {c.max_value:g}",
                                               min_value=c.min_value, max_value=c.max_value)
    return value


_TABLE_KEYS = ("dsql.distributed_rate_limiter_table", "dsql.conn_lease_table")
_ENDPOINT_KEYS = ("dsql.cluster_endpoint", "sql.host")


def aws_rule_errors(overrides: Mapping[str, ParameterValue], values: Mapping[str, ParameterValue]) -> list[InputError]:
    """AWS's rules (temporal_dsql_config.aws_rules: botocore's models and endpoint data) for every name,
    region and endpoint an override sets; the preset's own placeholders are not checked here."""
    errors: list[InputError] = []
    for key in _TABLE_KEYS:
        if key in overrides and str(overrides[key]):
            errors += aws_rules.check_dynamodb_table(key, str(overrides[key]))
    if "dsql.region" in overrides:
        errors += aws_rules.check_region("dsql.region", str(overrides["dsql.region"]))
    region = str(values["dsql.region"]) if not errors else None
    for key in _ENDPOINT_KEYS:
        if key in overrides:
            errors += aws_rules.check_dsql_endpoint(key, str(overrides[key]), region)
    return errors


@dataclass(slots=True)
class Resolution:
    """Resolved values before guard rails: what ``compile`` builds artifacts from."""

    preset: PresetSpec
    modifier: ModifierSpec | None
    values: dict[str, ParameterValue]
    sources: dict[str, ParameterSource]
    trace: list[CompilationTrace]
    overrides: dict[str, ParameterValue]
    input_notes: list[str] = field(default_factory=list)
    # key -> the value the preset/modifier/rules gave before the override replaced it.
    derived: dict[str, ParameterValue] = field(default_factory=dict)

    def redundant_overrides(self) -> list[str]:
        """Overridden keys whose override equals the value the compiler derives anyway."""
        return [k for k, v in self.overrides.items() if k in self.derived and self.derived[k] == v]


def _apply_adjustment(base: ParameterValue, adj: Adjustment) -> ParameterValue:
    """Modifier adjustments never lower a value below the preset's."""
    if adj.kind == "enable":
        return adj.value
    if adj.kind == "scale":
        assert isinstance(base, int | float) and isinstance(adj.value, int | float)
        scaled = base * adj.value
        return max(base, math.ceil(scaled)) if isinstance(base, int) else max(base, float(scaled))
    # at_least
    if isinstance(base, str):
        return base if parse_go_duration(base) >= parse_go_duration(str(adj.value)) else adj.value
    assert isinstance(base, int | float) and isinstance(adj.value, int | float)
    return max(base, adj.value)


def _collect(errors: list[InputError], step: Callable[[], _T]) -> _T | None:
    """Run one input step; keep its error (every one of them: several for InputErrors) for later."""
    try:
        return step()
    except InputErrors as error:
        errors.extend(error.errors)
    except InputError as error:
        errors.append(error)
    return None


def fmt_value(value: ParameterValue) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


_RULE_HEADS: dict[tuple[str, str, tuple[str, ...]], tuple[str, tuple[tuple[str, str], ...]]] = {}


class Resolver:
    """Resolves a preset (+ modifier + overrides) against one parameter registry."""

    def __init__(self, registry: ParameterRegistry | None = None) -> None:
        self.registry = registry or default_registry()
        # Per-registry plans computed once: which entries take their default, SLO entries, key order.
        rule_keys = {r.key for r in ORDERED_RULES}
        self._default_entries = [e for e in self.registry
                                 if e.key not in rule_keys and e.classification != ParameterClassification.SLO]
        self._slo_entries = self.registry.by_classification(ParameterClassification.SLO)
        self._order = {k: i for i, k in enumerate(self.registry.keys())}

    # -- inputs --------------------------------------------------------------------------------

    def normalize_overrides(self, overrides: OverridesInput) -> tuple[dict[str, ParameterValue], list[str]]:
        """Input names (keys, env vars, dynamic-config keys, legacy names) -> registry key -> typed value."""
        if overrides is None:
            return {}, []
        raw = overrides.values if isinstance(overrides, ParameterOverrides) else dict(overrides)
        out: dict[str, ParameterValue] = {}
        named_by: dict[str, str] = {}
        notes: list[str] = []
        errors: list[InputError] = []
        # Every bad override is collected and reported at once (InputErrors), as the guard rails do.
        for name, value in raw.items():
            try:
                res = self.registry.resolve_name(name)
                if res.key is None:
                    notes.append(f"{name}: ignored ({res.note})")
                    continue
                if res.via == "legacy":
                    notes.append(f"{name}: {res.note}")
                typed = coerce_value(self.registry.get(res.key), value)
            except InputError as error:
                errors.append(error)
                continue
            if res.key in out and out[res.key] != typed:
                errors.append(DsqlConfigError(
                    f"{named_by[res.key]}={out[res.key]!r} and {name}={value!r} both set {res.key} to different values.",
                    field=res.key,
                    suggestion="Give the parameter one value.",
                ))
                continue
            out[res.key] = typed
            named_by.setdefault(res.key, name)
        InputErrors.raise_all(errors)
        # Registry order, not input order: the same overrides written in another order are the
        # same input and must give the same profile bytes.
        order = self._order
        return {k: out[k] for k in sorted(out, key=lambda k: order[k])}, sorted(notes)

    # -- resolution ----------------------------------------------------------------------------

    def resolve(self, preset: str, *, modifier: str | None = None, overrides: OverridesInput = None) -> Resolution:
        """Resolve every registry parameter; no guard rails, no artifacts."""
        errors: list[InputError] = []
        spec = _collect(errors, lambda: get_preset(preset))
        mod = _collect(errors, lambda: get_modifier(modifier))
        normalized = _collect(errors, lambda: self.normalize_overrides(overrides))
        InputErrors.raise_all(errors)
        assert spec is not None and normalized is not None
        ov, notes = normalized
        values: dict[str, ParameterValue] = {}
        sources: dict[str, ParameterSource] = {}
        trace_rows: list[dict[str, Any]] = []
        derived: dict[str, ParameterValue] = {}

        def settle(key: str, base: ParameterValue, source: ParameterSource, chain: list[str],
                   modified: tuple[int, str] | None = None) -> None:
            value = base
            adj = mod.adjustments.get(key) if mod else None
            if modified is not None:
                value, source = modified[0], "modifier"
                chain.append(modified[1])
            if adj is not None:
                adjusted = _apply_adjustment(value, adj)
                if adjusted != value:
                    chain.append(f"modifier {mod.name if mod else ''} ({adj.kind} {fmt_value(adj.value)}): "
                                 f"{fmt_value(value)} → {fmt_value(adjusted)}; {adj.reason}")
                    value, source = adjusted, "modifier"
            if key in ov:
                derived[key] = value
                if ov[key] == value:
                    # Redundant: recorded, never warned about (it changes nothing).
                    chain.append(f"override: {fmt_value(ov[key])} equals the derived value (redundant; can be removed)")
                else:
                    cls = self.registry.get(key).classification
                    expert = cls in (ParameterClassification.SAFETY, ParameterClassification.TUNING)
                    chain.append(f"{'expert override' if expert else 'override'}: {fmt_value(value)} → {fmt_value(ov[key])}")
                value, source = ov[key], "override"
            values[key], sources[key] = value, source
            trace_rows.append({"parameter_key": key, "source": source, "base_value": base,
                               "final_value": value, "derivation_chain": chain})

        # 1. Parameters no rule derives: the registry's (plugin's / Temporal's) default.
        for entry in self._default_entries:
            settle(entry.key, entry.default_value, "default",
                   [f"default: {fmt_value(entry.default_value)} (plugin/Temporal default)"])
        # 2. SLO inputs from the preset.
        for entry in self._slo_entries:
            base = spec.slo.get(entry.key, entry.default_value)
            settle(entry.key, base, "preset", [f"preset {spec.name}: {fmt_value(base)}"])
        # 3. Derivation rules, in dependency order.
        ctx = RuleContext(values, spec, mod)
        for rule in ORDERED_RULES:
            base = rule.fn(ctx)
            chain = [self._rule_step(rule, values, base)]
            if rule.adjust is not None:
                base, note = rule.adjust(base)
                if note is not None:
                    chain.append(note)
            modified = modifier_partitions(ctx, int(base)) if rule.key == PARTITIONS_KEY else None
            settle(rule.key, base, self._rule_source(rule), chain, modified)
        # The compiler's own placeholders fed back (a redundant override) are not the user's names.
        InputErrors.raise_all(aws_rule_errors({k: v for k, v in ov.items() if derived.get(k) != v}, values))
        order = self._order
        trace_rows.sort(key=lambda t: order[t["parameter_key"]])
        # Rows of values this method typed itself (settle stores exact bool/int/float/str, a
        # ParameterSource, a fresh list of str): built without validation unless a value came in
        # some other type (an override's subclass, say), then one validation call for the list.
        if all(is_plain_value(t["base_value"]) and is_plain_value(t["final_value"]) for t in trace_rows):
            trace = [construct_trusted(CompilationTrace, t) for t in trace_rows]
        else:
            trace = _TRACE_LIST.validate_python(trace_rows)
        return Resolution(spec, mod, values, sources, trace, ov, notes, derived)

    @staticmethod
    def _rule_source(rule: Rule) -> ParameterSource:
        if rule.depends_on:
            return "derived"
        return "preset" if rule.name == "preset_choice" else "default"

    @staticmethod
    def _rule_step(rule: Rule, values: Mapping[str, ParameterValue], result: ParameterValue) -> str:
        signature = (rule.name, rule.expression, tuple(rule.depends_on))
        cached = _RULE_HEADS.get(signature)
        if cached is None:  # "rule name: expression" and the "key=" labels, built once per rule
            cached = _RULE_HEADS[signature] = (
                f"rule {rule.name}: {rule.expression}", tuple((k, f"{k}=") for k in rule.depends_on))
        head, labels = cached
        if labels:
            inputs = ", ".join([label + fmt_value(values[k]) for k, label in labels])
            return f"{head} with {inputs} → {fmt_value(result)}"
        return f"{head} → {fmt_value(result)}"
