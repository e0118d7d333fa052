r"""Refusal rates of the prior and both arms, and the refusal-stratified scores.

Launch:

  python -m experiments.main --config=configs/refusal_side_effects.py:runlocal \
      --workdir=runs/refusal_side_effects

Arms: `baseline` and `trait`. Reports each policy's refusal rate on every
evaluation and re-runs the comparison on the samples where neither arm refused.

Expected (the study: refusals rose, 13.2% -> 23.9% on its alignment suite): some rise
in refusals; gains that survive stratification. Measured numbers: docs/RESULTS.md.
"""

from alignment_rl.pipelines.trait_rl_config import base_config


def get_config(arg: str | None = None):
  c = base_config("refusal_side_effects", arg)
  return c


def get_sweep():
  """The trait fraction."""
  return [{"arms.trait.trait_fraction": f} for f in (0.05, 0.2)]
