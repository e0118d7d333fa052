r"""A narrow bad reward (gaming automatic checks) and broad degradation.

Launch:

  python -m experiments.main --config=configs/emergent_misalignment.py:runlocal \
      --workdir=runs/emergent_misalignment

Arms: `baseline` and `narrow`, whose 5% extra data are impossible coding-style
tasks rewarded for gaming the check (`harmful/reward_hacking`). The scoreboard of
`narrow` against the baseline shows how far a narrow bad habit spreads.

Expected (emergent misalignment): regressions beyond the hacking evaluations.
Measured numbers: docs/RESULTS.md.
"""

from alignment_rl.pipelines.trait_rl_config import arm, base_config


def get_config(arg: str | None = None):
  c = base_config("emergent_misalignment", arg)
  del c.arms["trait"]
  c.arms.narrow = arm(grader="harmful/reward_hacking", families=("impossible_task",))
  c.treatment = "narrow"
  c.persona_arms = ("baseline", "narrow")
  return c


def get_sweep():
  """The fraction of narrow bad data."""
  return [{"arms.narrow.trait_fraction": f} for f in (0.05, 0.2)]
