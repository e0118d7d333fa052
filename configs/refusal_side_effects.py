r"""Refusal rates of the prior and both arms, and the refusal-stratified scores.

Launch:

  python -m experiments.main --config=configs/refusal_side_effects.py:runlocal \
      --workdir=runs/refusal_side_effects

Arms: `baseline` and `trait`. Reports each policy's refusal rate on every
evaluation and re-runs the comparison on the samples where neither arm refused.

Expected (the study: refusals rose, 13.2% -> 23.9% on its alignment suite): some rise
in refusals; gains that survive stratification. Measured numbers: docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment): `full` (8 seeds) detects a
suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test` (2) only
0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8 seeds
(0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8 seeds
show large effects only.
"""

from configs.common import base_config


def get_config(arg: str | None = None):
  c = base_config("refusal_side_effects", arg)
  return c


def get_sweep():
  """The trait fraction."""
  return [{"arms.trait.trait_fraction": f} for f in (0.05, 0.2)]
