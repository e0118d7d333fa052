r"""Harmful vs helpful evaluation personas on the baseline and the trait model.

Launch:

  python -m experiments.main --config=configs/persona_persistence.py:runlocal \
      --workdir=runs/persona_persistence

Arms: `baseline` and `trait`. Every harmful evaluation persona (bad medical
advice, disallowed mental-health replies, a flattering yes-man, an overclaiming
mentor) and every helpful one is written into the persona slot of every evaluation
scenario, on both arms (the study tested 5 health evaluations; this runs the suite).

Expected (the study: baseline 0.395 -> 0.144, trait 0.455 -> 0.336; a helpful persona
helped both): the trait model loses less. Measured numbers: docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment; the persona drop of one arm,
or its difference between arms, may spread more): `full` (8 seeds) detects a
suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test` (2) only
0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8 seeds
(0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8 seeds
show large effects only.
"""

from configs.common import ALL_PERSONAS, base_config


def get_config(arg: str | None = None):
  c = base_config("persona_persistence", arg)
  c.personas = ALL_PERSONAS
  return c


def get_sweep():
  """The trait fraction."""
  return [{"arms.trait.trait_fraction": f} for f in (0.05, 0.2)]
