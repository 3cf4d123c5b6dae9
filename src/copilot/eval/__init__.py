"""The copilot's eval suite: scenario windows -> decided state (asserted) + explanation facts (judged)."""

from copilot.eval.cases import EvalCase, load_cases
from copilot.eval.runner import EvalResult, live_mode, offline_explainer, offline_judge, run_case

__all__ = ["EvalCase", "EvalResult", "live_mode", "load_cases", "offline_explainer", "offline_judge", "run_case"]
