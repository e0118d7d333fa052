r"""A narrow bad reward (gaming automatic checks) and broad degradation.

Launch:

  python -m experiments.main --config=configs/emergent_misalignment.py:runlocal \
      --workdir=runs/emergent_misalignment

Arms: `baseline` and `narrow`, whose 5% extra data are impossible coding-style
tasks rewarded for gaming the check (`harmful/reward_hacking`). The scoreboard of
`narrow` against the baseline shows how far a narrow bad habit spreads.

Expected (emergent misalignment): regressions beyond the hacking evaluations.
Measured numbers: docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment): `full` (8 seeds) detects a
suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test` (2) only
0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8 seeds
(0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8 seeds
show large effects only.
"""

from configs.common import arm, base_config


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
