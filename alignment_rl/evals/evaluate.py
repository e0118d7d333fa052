"""Former home of the suite runner, now `evals/suite_runner.py` (`evaluate_suite`).

Kept so that callers not yet moved still import; new code imports `suite_runner`.
"""

from alignment_rl.evals.suite_runner import (
  CLIPPED_GRADERS,
  REFUSAL_GRADER,
  ROW_FIELDS,
  SuiteResult,
  grader_names,
  read_results,
  unit_values,
  write_results,
)
from alignment_rl.evals.suite_runner import evaluate_suite as evaluate

__all__ = [
  "CLIPPED_GRADERS",
  "REFUSAL_GRADER",
  "ROW_FIELDS",
  "SuiteResult",
  "evaluate",
  "grader_names",
  "read_results",
  "unit_values",
  "write_results",
]
