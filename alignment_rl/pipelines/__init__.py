"""Experiment pipelines, registered by name in `alignment_rl.registry.EXPERIMENTS`.

Importing this package registers every pipeline; `experiments/main.py` looks up a
config's `experiment` field here.
"""

from alignment_rl.training import runs  # noqa: F401  (ppo, cartpole_ppo)
