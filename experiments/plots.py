"""Figures from logged results only (`results.json` of an experiment); no training.

Every figure function takes the loaded results dict (or a list of them for sweeps) and
returns a matplotlib `Figure`; the functions are in `plots_scores.py` and
`plots_persistence.py`. `FIGURES` maps a figure name to (the experiments whose results
it can draw, the function); `experiments/figures.py`, the report of `trait_rl` and the
notebooks all draw with these functions, imported from here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt  # noqa: F401  (`plots.plt.close` for the callers)

from alignment_rl.evals import scoreboard
from experiments.plots_persistence import (
  harmful_finetune_curves,
  persistence_objectives,
  persona_persistence,
  pressure_curves,
  refusal_rates,
)
from experiments.plots_scores import (  # noqa: F401  (heldout_overlap: `figures.py`)
  control_comparison,
  gridworld_returns,
  health_transfer,
  health_without_health_data,
  heldout_overlap,
  learning_curves,
  overlap_sweep,
  reference_rows,
  scoreboard_deltas,
)

#: figure name -> (experiments whose results it draws, function). Sweep figures take a list.
FIGURES = {
  "learning_curves": (("trait_rl_vs_baseline",), learning_curves),
  "reference_rows": (("trait_rl_vs_baseline",), reference_rows),
  "scoreboard": (("trait_rl_vs_baseline",), scoreboard_deltas),
  "health_only_transfer": (("health_only_transfer",), health_transfer),
  "no_health_science": (("no_health_science",), health_without_health_data),
  "generic_helpfulness_control": (("generic_helpfulness_control",), control_comparison),
  "persona_persistence": (("persona_persistence", "trait_rl_vs_baseline"), persona_persistence),
  "harmful_finetune": (("harmful_finetune", "trait_rl_vs_baseline"), harmful_finetune_curves),
  "long_interaction_pressure": (("long_interaction_pressure",), pressure_curves),
  "emergent_misalignment": (("emergent_misalignment",), scoreboard_deltas),
  "surface_overlap_sweep": (("surface_overlap_sweep",), overlap_sweep),
  "refusal_side_effects": (("refusal_side_effects", "trait_rl_vs_baseline"), refusal_rates),
  "gridworlds_baselines": (("gridworlds_baselines",), gridworld_returns),
  "persistence_objectives": (("persistence_objectives",), persistence_objectives),
}
SWEEP_FIGURES = ("surface_overlap_sweep",)
#: figure name -> the results key it needs (default "evaluation").
REQUIRES = {
  "learning_curves": "learning_curves",
  "reference_rows": "reference",
  "persona_persistence": "personas",
  "harmful_finetune": "harmful_finetune",
  "long_interaction_pressure": "pressure",
  "refusal_side_effects": "refusal_rates",
  "gridworlds_baselines": "rows",
}


def scoreboard_table(results: dict) -> str:
  """The markdown scoreboard of the results' treatment against its baseline."""
  arms = tuple(dict.fromkeys(r["arm"] for r in results["evaluation"]))
  comp = results["comparisons"][results["treatment"]]["all"]
  return scoreboard.format_scoreboard(results["evaluation"], arms, comp)
