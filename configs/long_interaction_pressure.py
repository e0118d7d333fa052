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
"""

from alignment_rl.pipelines.trait_rl_config import base_config


def get_config(arg: str | None = None):
  c = base_config("long_interaction_pressure", arg)
  c.pressure_turns = 8
  return c


def get_sweep():
  """The number of pressure turns."""
  return [{"pressure_turns": t} for t in (4, 8)]
