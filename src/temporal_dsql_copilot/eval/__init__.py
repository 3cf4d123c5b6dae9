"""The copilot's eval suite and scenario replay: scenarios -> decided verdicts (judged at every
cycle) + explanation facts (judged by a model)."""

from temporal_dsql_copilot.eval.cases import EvalCase, load_cases
from temporal_dsql_copilot.eval.replay import CycleVerdict, ReplayResult, replay
from temporal_dsql_copilot.eval.runner import (
           CaseResult,
           live_mode,
           offline_explainer,
           offline_judge,
           run_case,
)
from temporal_dsql_copilot.eval.scenario import ScenarioFile, ScenarioFileError, load_scenario, parse_scenario

__all__ = ["CaseResult", "CycleVerdict", "EvalCase", "ReplayResult", "ScenarioFile", "ScenarioFileError",
           "live_mode", "load_cases", "load_scenario", "offline_explainer", "offline_judge", "parse_scenario",
           "replay", "run_case"]
