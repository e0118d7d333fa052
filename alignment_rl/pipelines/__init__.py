"""Experiment pipelines, registered by name in `alignment_rl.registry.EXPERIMENTS`.

Importing this package registers every pipeline; `experiments/main.py` looks up a
config's `experiment` field here. Registered: ppo, cartpole_ppo (training.runs);
imitate_prior (training.imitation); conversation_rl; gridworlds_baselines;
gridworlds_transfer.
"""

from alignment_rl.pipelines import conversation, gridworlds, gridworlds_transfer  # noqa: F401
from alignment_rl.training import imitation, runs  # noqa: F401
