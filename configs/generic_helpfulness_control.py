r"""Same conversations, generic helpfulness reward: is the effect from the reward?

Launch:

  python -m experiments.main --config=configs/generic_helpfulness_control.py:runlocal \
      --workdir=runs/generic_helpfulness_control

Arms: `baseline`, `trait` (trait conversations graded by their rubrics) and
`helpfulness` (the same conversations and fraction, graded by the generic `helpfulness`
judge, which never sees the rubric). Both are compared with the baseline.

Expected (the study): no significant gains for the helpfulness arm. Measured numbers:
docs/RESULTS.md.
"""

from alignment_rl.pipelines.trait_rl_config import arm, base_config


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
