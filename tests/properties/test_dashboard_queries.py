"""The dashboards' query rewriting, checked with Hypothesis on generated PromQL.

Expressions are composed the way the dashboards write them: selectors (with or without matchers,
with or without a range), rate functions, aggregations with ``by (...)`` lists, histogram
quantiles, binary operators, template variables and string arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from temporal_dsql_dashboards._panels import CLUSTER_MATCHER, with_cluster, with_rate_interval

_METRICS = ("service_requests_total", "dsql_pool_open", "persistence_latency_milliseconds_bucket",
            "temporal_worker_task_slots_used", "approximate_backlog_age_seconds", "up")
_LABELS = ("service_name", "namespace", "le", "operation", "task_queue")


@dataclass(frozen=True)
class Expr:
    text: str
    selectors: int


@st.composite
def _selector(draw: st.DrawFn) -> Expr:
    name = draw(st.sampled_from(_METRICS))
    matchers = draw(st.lists(st.tuples(st.sampled_from(_LABELS), st.sampled_from(("=", "=~", "!~")),
                                       st.sampled_from(("history", ".*", "$namespace", "Poll.*", "a,b{c}"))),
                             max_size=2, unique_by=lambda m: m[0]))
    body = ",".join(f'{label}{op}"{value}"' for label, op, value in matchers)
    text = name + (f"{{{body}}}" if matchers else "")
    if draw(st.booleans()):
        return Expr(f"{draw(st.sampled_from(('rate', 'increase', 'irate')))}({text}[5m])", 1)
    return Expr(text, 1)


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def aggregate(expr: Expr, how: str, labels: list[str]) -> Expr:
        grouping = f" by ({', '.join(labels)}) " if labels else ""
        return Expr(f"{how}{grouping}({expr.text})", expr.selectors)

    def binary(left: Expr, op: str, right: Expr) -> Expr:
        return Expr(f"{left.text} {op} {right.text}", left.selectors + right.selectors)

    return st.one_of(
        st.builds(aggregate, children, st.sampled_from(("sum", "max", "min", "count")),
                  st.lists(st.sampled_from(_LABELS), max_size=2, unique=True)),
        st.builds(binary, children, st.sampled_from(("/", "+", "*", "and on(shown)", "> bool")), children),
        st.builds(lambda e, q: Expr(f"histogram_quantile({q}, sum by (le) ({e.text}))", e.selectors),
                  children, st.sampled_from(("0.5", "0.99"))),
        st.builds(lambda e: Expr(f'label_replace({e.text}, "state", "${{copilot_state}}", "", "")', e.selectors),
                  children),
        st.builds(lambda e: Expr(f"({e.text}) * $slot_block_size", e.selectors), children),
    )


_EXPRESSIONS = st.recursive(_selector(), _combine, max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(_EXPRESSIONS)
def test_property_every_selector_gets_the_cluster_matcher_once_and_nothing_else_changes(expr: Expr) -> None:
    # Property: with_cluster adds cluster=~"$cluster" to each vector selector exactly once (never to
    # a function, an aggregation, a label list, a string or a variable) and changes nothing else.
    rewritten = with_cluster(expr.text)
    assert rewritten.count(CLUSTER_MATCHER) == expr.selectors
    restored = rewritten.replace("{" + CLUSTER_MATCHER + "}", "").replace(CLUSTER_MATCHER + ",", "")
    restored = restored.replace("{" + CLUSTER_MATCHER, "{")
    assert restored == expr.text


@settings(max_examples=200, deadline=None)
@given(_EXPRESSIONS)
def test_property_no_fixed_range_survives_the_rate_interval_rewrite(expr: Expr) -> None:
    # Property: every fixed range window becomes [$__rate_interval]; nothing else changes.
    rewritten = with_rate_interval(expr.text)
    assert "[5m]" not in rewritten
    assert rewritten.replace("[$__rate_interval]", "[5m]") == expr.text
