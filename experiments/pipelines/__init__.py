"""Experiment pipelines, registered by name in `experiments.registry.EXPERIMENTS`.

Importing this package registers every pipeline; `experiments/main.py` looks up a
config's `experiment` field here. Registered: ppo, cartpole_ppo (`experiments.runs`);
imitate_prior (`alignment_rl.training.imitation.train_prior_policy`); conversation_rl;
evaluate; gridworlds_baselines; gridworlds_transfer; transfer_probe; and the DESIGN
section 7 experiments of `trait_rl`.
"""

from alignment_rl.training import imitation
from experiments import runs  # noqa: F401  (registers ppo, cartpole_ppo)
from experiments.pipelines import (  # noqa: F401  (register)
  conversation,
  evaluation,
  gridworlds,
  gridworlds_transfer,
  trait_rl,
  transfer_probe,
)
from experiments.registry import EXPERIMENTS

EXPERIMENTS.add("imitate_prior", imitation.train_prior_policy)
