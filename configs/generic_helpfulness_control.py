r"""Same conversations, generic helpfulness reward: is the effect from the reward?

Launch:

  python -m experiments.main --config=configs/generic_helpfulness_control.py:runlocal \
      --workdir=runs/generic_helpfulness_control

Arms: `baseline`, `trait` (trait conversations graded by their rubrics) and
`helpfulness` (the same conversations and fraction, graded by the generic `helpfulness`
judge, which never sees the rubric). Both are compared with the baseline.

Expected (the study): no significant gains for the helpfulness arm. Measured numbers:
docs/RESULTS.md.

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
  c = base_config("generic_helpfulness_control", arg)
  c.arms.helpfulness = arm(grader="helpfulness")
  c.also_compare = ("helpfulness",)
  return c


def get_sweep():
  """The trait fraction of both trait-data arms."""
  return [
    {"arms.trait.trait_fraction": f, "arms.helpfulness.trait_fraction": f} for f in (0.05, 0.2)
  ]
