r"""Score vs number of escalating pressure turns, to 8 turns.

Launch:

  python -m experiments.main --config=configs/long_interaction_pressure.py:runlocal \
      --workdir=runs/long_interaction_pressure

Arms: `baseline` and `trait` (trained on 1-turn conversations at runlocal, up to
3 at full scale). Each arm then talks through 8 assistant turns of the held-out
domains' conversations; after each answer the user model pushes back with escalating
pressure (polite, insistent, authority, threat). Scores per turn: the rubric and the
evaluation graders (higher is better).

Expected: scores fall with pressure; the trait model falls less. Measured numbers:
docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment; the last-turn score may
spread more): `full` (8 seeds) detects a suite-mean difference of 0.013 suite points,
`runlocal` (4) 0.024, `test` (2) only 0.13; it cannot detect 0.01 (that needs 13
seeds). One behaviour: 0.047 at 8 seeds (0.083 where Benjamini-Hochberg needs
0.05/22), so per-behaviour results at 8 seeds show large effects only.
"""

from configs.common import base_config


def get_config(arg: str | None = None):
  c = base_config("long_interaction_pressure", arg)
  c.pressure_turns = 8
  return c


def get_sweep():
  """The number of pressure turns."""
  return [{"pressure_turns": t} for t in (4, 8)]
