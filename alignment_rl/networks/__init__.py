"""Flax (linen) actor-critic networks with pure `init`/`apply`, and their registry."""

from alignment_rl.networks.actor_critic import MLPActorCritic, TokenActorCritic
from alignment_rl.networks.encoders import (
  BagOfTokensEncoder,
  CausalTransformerEncoder,
  ConvEncoder,
)
from alignment_rl.networks.response_policy import ResponseActorCritic
from alignment_rl.registry import NETWORKS

__all__ = [
  "BagOfTokensEncoder",
  "CausalTransformerEncoder",
  "ConvEncoder",
  "MLPActorCritic",
  "ResponseActorCritic",
  "TokenActorCritic",
  "make",
]


def make(name: str, num_actions: int, **kwargs):
  """Builds a registered network (`mlp`, `bag_of_tokens`, `transformer`, ...)."""
  return NETWORKS.get(name)(num_actions=num_actions, **kwargs)
