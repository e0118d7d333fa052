"""Experiment pipelines, registered by name in `alignment_rl.registry.EXPERIMENTS`.

Importing this package registers every pipeline; `experiments/main.py` looks up a
config's `experiment` field here. Registered: ppo, cartpole_ppo (training.runs);
imitate_prior (training.imitation); conversation_rl; evaluate; gridworlds_baselines;
gridworlds_transfer; transfer_probe; and the DESIGN section 7 experiments of
`trait_rl`.
"""

from alignment_rl.pipelines import (  # noqa: F401
  conversation,
  evaluation,
  gridworlds,
  gridworlds_transfer,
  trait_rl,
  transfer_probe,
)
from alignment_rl.training import imitation, runs  # noqa: F401
