"""Rubric predicates, HealthBench scoring, and the graders registered in GRADERS.

Importing this package registers the graders: `rubric`, `standard`, `helpfulness`
(training) and `eval/...` (evaluation) and `harmful/...` (attacks). Look one up with
`alignment_rl.registry.GRADERS.get(name)`.
"""

from alignment_rl.rubrics import (  # noqa: F401  (registers)
  eval_graders,
  graders,
  harmful_graders,
  quality_graders,
)
from alignment_rl.rubrics.criteria import CRITERIA, CRITERION_ID, Pred, criterion_text
from alignment_rl.rubrics.eval_graders import fairness_gap, pair_min
from alignment_rl.rubrics.graders import Grader
from alignment_rl.rubrics.predicates import criteria_met, response_features
from alignment_rl.rubrics.scoring import clipped_mean, mean, rubric_score

__all__ = [
  "CRITERIA",
  "CRITERION_ID",
  "Grader",
  "Pred",
  "clipped_mean",
  "criteria_met",
  "criterion_text",
  "fairness_gap",
  "mean",
  "pair_min",
  "response_features",
  "rubric_score",
]
